using Microsoft.Extensions.Hosting;
using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rotor.Node;
using Rotor.Node.Vault;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor node init</c>, <c>run</c>, <c>unseal</c> and <c>rekey-master</c>.</summary>
public static class NodeCommands
{
    public static Command Create()
    {
        var node = new Command("node", "A signer node");

        var init = new Command("init", "Create a node: master secret, vault, identity keys and a certificate from the cluster CA");
        var dir = new Option<string>("--dir") { Description = "The node's folder", Required = true };
        var name = new Option<string>("--name") { Description = "The node's name", Required = true };
        var ca = new Option<string>("--ca") { Description = "Folder of the cluster CA (ca.crt, ca.key)", Required = true };
        var passEnv = new Option<string?>("--passphrase-env") { Description = "Derive the master secret with Argon2id from the passphrase in this environment variable instead of a key file" };
        var listen = new Option<string>("--listen") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1:0" };
        var approvers = new Option<string?>("--approvers") { Description = "The approvers the node pins: NAME=PUBKEY or PUBKEY (Ed25519, hex), comma-separated" };
        var approvals = new Option<int?>("--approvals") { Description = "How many approvals every action class needs (with --approvers)" };
        var policyFile = new Option<string?>("--policy-file") { Description = "A governance policy (canonical JSON, e.g. a cluster's governance.json) instead of --approvers/--approvals, for per-class counts, API clients and backup recipients" };
        var coordinatorCert = new Option<string>("--coordinator-cert")
        {
            Description = "The coordinator's certificate (PEM, e.g. DIR/coordinator/tls/coordinator.crt): its public key is pinned; no other coordinator is accepted",
            Required = true,
        };
        var recipients = new Option<string?>("--backup-recipients")
        {
            Description = "Comma-separated X25519 public keys (64 hex digits or base64) the node may seal backups to (see rotor backup keygen); none: no backups "
                + "(a governance policy that pins backup recipients takes precedence)",
        };
        var auditKey = new Option<string?>("--audit-key") { Description = "The coordinator's audit public key (hex, DIR/coordinator/audit.pub) the node witnesses the log's head under" };
        init.Add(dir); init.Add(name); init.Add(ca); init.Add(passEnv); init.Add(listen); init.Add(coordinatorCert); init.Add(recipients); init.Add(auditKey); init.Add(approvers); init.Add(approvals); init.Add(policyFile);
        var masterKey = new MasterKeyCommands.ChoiceOptions(required: false, passEnv);
        masterKey.AddTo(init);
        init.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var policy = Governance.PolicyOptions.From(p.GetValue(approvers), p.GetValue(approvals), p.GetValue(policyFile))
                ?? throw new CliException("a node pins the operators' governance policy at init: give --approvers PUB[,PUB...] --approvals M, or --policy-file FILE");
            var pins = new NodePins(p.GetValue(coordinatorCert), Rotor.Node.Backups.BackupRecipients.ParseList(p.GetValue(recipients), "--backup-recipients"),
                p.GetValue(auditKey) is { } a ? RootCommandBuilder.Hex(a, "--audit-key") : null);
            var choice = masterKey.Read(p) ?? (p.GetValue(passEnv) is { } env ? new MasterKeyChoice(MasterKeys.Passphrase, PassphraseEnv: env) : null);
            var (config, identity) = NodeSetup.Init(p.GetValue(dir)!, p.GetValue(name)!, p.GetValue(ca)!, policy, pins, p.GetValue(passEnv), p.GetValue(listen)!,
                choice, MasterKeyCommands.ChoiceOptions.NewSecrets(choice));
            o.Result(new JsonObject
            {
                ["name"] = config.Name,
                ["masterKey"] = config.MasterKeyKind,
                ["config"] = Path.Combine(config.BaseDir, NodeConfig.FileName),
                ["signingKey"] = Convert.ToHexStringLower(identity.SigningKey),
                ["agreementKey"] = Convert.ToHexStringLower(identity.AgreementKey),
                ["coordinatorKey"] = config.CoordinatorKey,
                ["backupRecipients"] = new JsonArray(config.BackupRecipients.Select(r => (JsonNode)r).ToArray()),
                ["auditKey"] = config.AuditKey,
            }, () =>
            {
                o.Line($"node [bold]{config.Name}[/] created in {config.BaseDir} (identity {identity})");
                o.Line($"  pinned coordinator key {config.CoordinatorKey}");
                o.Line($"  backup recipients: {(config.BackupRecipients.Count == 0 ? "none (the node makes no backup)" : string.Join(", ", config.BackupRecipients))}");
            });
            return Task.CompletedTask;
        }));

        var run = new Command("run", "Serve the node's gRPC API over mutual TLS until stopped");
        var config = new Option<string>("--config") { Description = "The node's node.json", Required = true };
        run.Add(config);
        var secrets = new MasterKeyCommands.SecretOptions();
        secrets.AddTo(run);
        run.SetAction((p, cancel) => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var nodeConfig = NodeConfig.Load(p.GetValue(config)!);
            var (app, endpoint) = await NodeHost.StartAsync(nodeConfig, secrets.Read(p, nodeConfig, prompt: true), cancel);
            var state = app.Services.GetRequiredService<NodeState>();
            o.Result(new JsonObject { ["endpoint"] = endpoint, ["masterKey"] = state.MasterKey, ["sealed"] = state.Sealed, ["sealReason"] = state.SealReason },
                () => Console.WriteLine($"listening on {endpoint} ({state.MasterKey} master key{(state.Sealed ? $"; SEALED: {state.SealReason}; unseal with rotor node unseal --config {nodeConfig.SourcePath}" : "")})"));
            await app.WaitForShutdownAsync(cancel);
        }));

        // --listen is checked when the command line is parsed, before anything else (the folder is never made).
        listen.Validators.Add(result =>
        {
            try { Rotor.Rpc.RpcServer.ParseListen(result.GetValueOrDefault<string>() ?? ""); }
            catch (ArgumentException e) { result.AddError(e.Message); }
        });
        node.Add(init);
        node.Add(run);
        node.Add(MasterKeyCommands.Unseal());
        node.Add(MasterKeyCommands.RekeyMaster());
        return node;
    }
}
