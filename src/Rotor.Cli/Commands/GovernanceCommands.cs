using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Tls;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// Operators and approvals: <c>rotor operator keygen</c>, <c>rotor requests list|show</c>, <c>rotor approve</c> and
/// <c>rotor governance show|set</c>.
/// </summary>
public static class GovernanceCommands
{
    public static Command Operator()
    {
        var op = new Command("operator", "Operator identities: the Ed25519 keys that approve actions");
        var keygen = new Command("keygen", "Make an operator key: the private key goes to a new 0600 file, the public key is printed (pin it with --approvers)");
        var output = new Option<string>("--out") { Description = "File to write (must not exist)", Required = true };
        var passEnv = new Option<string?>("--passphrase-env") { Description = "Seal the private key with the passphrase in this environment variable (Argon2id, AES-256-GCM)" };
        keygen.Add(output); keygen.Add(passEnv);
        keygen.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            string? passphrase = null;
            if (p.GetValue(passEnv) is { } env)
            {
                passphrase = Environment.GetEnvironmentVariable(env);
                if (string.IsNullOrEmpty(passphrase)) throw new CliException($"--passphrase-env {env}: the environment variable {env} is not set or empty");
            }
            var path = p.GetValue(output)!;
            var pub = OperatorKeyFile.Create(path, passphrase);
            o.Result(new JsonObject { ["publicKey"] = pub, ["file"] = Path.GetFullPath(path), ["sealed"] = passphrase is not null },
                () =>
                {
                    o.Line($"operator key written to {Path.GetFullPath(path)} (mode 0600{(passphrase is not null ? ", sealed with the passphrase" : "")})");
                    o.Line($"public key: [bold]{pub}[/]");
                });
            return Task.CompletedTask;
        }));
        op.Add(keygen);
        return op;
    }

    public static Command Requests()
    {
        var requests = new Command("requests", "Actions awaiting (or given) the operators' approval");

        var list = new Command("list", "Requests, oldest first");
        var ldir = RootCommandBuilder.Dir();
        var status = new Option<string?>("--status") { Description = "Only requests in this status: awaiting-approval, running, done, failed or expired" };
        list.Add(ldir); list.Add(status);
        list.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(ldir)).Connect();
            var r = await client.Requests.ListAsync(new ListRequestsQuery { Status = p.GetValue(status) ?? "" });
            o.Result(new JsonObject { ["requests"] = new JsonArray(r.Requests.Select(x => (JsonNode)RequestFlow.Json(x)).ToArray()) }, () =>
            {
                var table = new Table().AddColumns("request", "action", "status", "approvals", "expires", "requested by");
                foreach (var x in r.Requests)
                    table.AddRow(x.Id, x.Action, Markup.Escape(x.Status),
                        Markup.Escape($"{x.Approvals.Count}/{x.ApprovalsNeeded}" + (x.Approvals.Count > 0 ? $" ({string.Join(", ", x.Approvals.Select(a => a.Approver))})" : "")),
                        x.Expires, Markup.Escape(x.RequestedBy));
                AnsiConsole.Write(table);
            });
        }));

        var show = new Command("show", "One request: its status, who approved, and exactly what is approved (every field of the signed description)");
        var sdir = RootCommandBuilder.Dir();
        var sid = new Argument<string>("id") { Description = "Request id" };
        var sout = new Option<string?>("--out") { Description = "For a backup request that ran: write the backup file here (must not exist)" };
        show.Add(sdir); show.Add(sid); show.Add(sout);
        show.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(sdir)).Connect();
            var r = await client.Requests.ShowAsync(new RequestRef { Id = p.GetValue(sid)! });
            RequestFlow.Check(r);
            var file = WriteBackup(r, p.GetValue(sout));
            var json = RequestFlow.Json(r);
            if (file is not null) json["file"] = file;
            o.Result(json, () =>
            {
                RequestFlow.Print(r);
                if (file is not null) o.Line($"backup file written to {file}");
            });
        }));

        requests.Add(list);
        requests.Add(show);
        return requests;
    }

    public static Command Approve()
    {
        var cmd = new Command("approve", "Approve a request: shows exactly what is signed, signs it with your operator key and submits the approval");
        var dir = RootCommandBuilder.Dir();
        var id = new Argument<string>("id") { Description = "Request id (rotor requests list)" };
        var key = new Option<string>("--key") { Description = "Your operator key file (rotor operator keygen); a sealed one reads its passphrase from ROTOR_OPERATOR_PASSPHRASE", Required = true };
        var output = new Option<string?>("--out") { Description = "For a backup request: where to write the backup file if this approval runs it (must not exist)" };
        cmd.Add(dir); cmd.Add(id); cmd.Add(key); cmd.Add(output);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var outPath = p.GetValue(output);
            if (outPath is not null && File.Exists(outPath)) throw new CliException($"--out {outPath} already exists; backups are never overwritten");
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var before = await client.Requests.ShowAsync(new RequestRef { Id = p.GetValue(id)! });
            var request = RequestFlow.Check(before);
            if (before.Status != RequestFlow.Awaiting)
                throw new CliException($"request {before.Id} is {before.Status}{(before.Error.Length > 0 ? $" ({before.Error})" : "")}; it takes no more approvals");
            if (!o.Json)
            {
                o.Line($"approving request [bold]{before.Id}[/] with {OperatorKeyFile.PublicKey(p.GetValue(key)!)}; you sign exactly this:");
                RequestFlow.PrintDescription(request);
            }
            var after = await RequestFlow.ApproveAsync(client, before, p.GetValue(key)!, o, $"approving {before.Action} request {before.Id}");
            if (after.Status == RequestFlow.Failed) throw new CliException($"request {after.Id} failed: {after.Error}");
            var file = WriteBackup(after, outPath);
            var json = RequestFlow.Json(after);
            if (file is not null) json["file"] = file;
            o.Result(json, () =>
            {
                if (after.Status == RequestFlow.Awaiting) RequestFlow.PrintAwaiting(o, after);
                else RequestFlow.Print(after, withDescription: false);
                if (file is not null) o.Line($"backup file written to {file}");
            });
        }));
        return cmd;
    }

    public static Command GovernanceCommand()
    {
        var governance = new Command("governance", "The governance policy the nodes pin: approvers and how many approvals each action needs");

        var show = new Command("show", "The policy each node pins");
        var sdir = RootCommandBuilder.Dir();
        show.Add(sdir);
        show.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(sdir)).Connect();
            var state = await client.Requests.GovernanceAsync(new GovernanceQuery());
            GovernancePolicy? agreed = state.Policy.IsEmpty ? null : GovernancePolicy.Decode(state.Policy.Span);
            o.Result(new JsonObject
            {
                ["policy"] = agreed is null ? null : JsonNode.Parse(agreed.Encode()),
                ["digest"] = agreed?.Digest(),
                ["nodes"] = new JsonArray(state.Nodes.Select(n => (JsonNode)new JsonObject
                {
                    ["node"] = n.Node, ["online"] = n.Online, ["digest"] = n.Digest.Length > 0 ? n.Digest : null,
                    ["serial"] = n.Policy.IsEmpty ? null : GovernancePolicy.Decode(n.Policy.Span).Serial, ["error"] = n.Error.Length > 0 ? n.Error : null,
                }).ToArray()),
            }, () =>
            {
                if (agreed is null) o.Line($"[yellow]the nodes do not agree on one policy (or report none)[/]");
                else
                {
                    o.Line($"policy serial {agreed.Serial} ({agreed.Digest()}), pinned by every node that answers:");
                    foreach (var a in agreed.Approvers) o.Line($"  approver {a.Name} {a.Key}");
                    o.Line($"  approvals: {string.Join(", ", Actions.Classes.Select(c => $"{Actions.Name(c)} {agreed.Required(c)}"))}");
                    foreach (var c in agreed.ApiClients) o.Line($"  api client {c.Name} {c.Key}{(c.Quorums.Count > 0 ? $" (quorums {string.Join(", ", c.Quorums)})" : "")}");
                    foreach (var r in agreed.BackupRecipients) o.Line($"  backup recipient {r}");
                }
                var table = new Table().AddColumns("node", "online", "serial", "digest", "problem");
                foreach (var n in state.Nodes)
                    table.AddRow(n.Node, n.Online ? "[green]yes[/]" : "[red]no[/]", n.Policy.IsEmpty ? "" : GovernancePolicy.Decode(n.Policy.Span).Serial.ToString(),
                        n.Digest.Length > 16 ? n.Digest[..16] + "…" : n.Digest, Markup.Escape(n.Error));
                AnsiConsole.Write(table);
            });
        }));

        var set = new Command("set", "Change the policy: a policy-change request the current policy's approvers approve; once approved every node gets it");
        var dir = RootCommandBuilder.Dir();
        var approvers = new Option<string?>("--approvers") { Description = "The new approvers: NAME=PUBKEY or PUBKEY (Ed25519, hex), comma-separated" };
        var approvals = new Option<int?>("--approvals") { Description = "How many approvals every action class needs (with --approvers)" };
        var policyFile = new Option<string?>("--policy-file") { Description = "The new policy in full (canonical JSON) instead of --approvers/--approvals" };
        var approveWith = RequestFlow.ApproveWith();
        set.Add(dir); set.Add(approvers); set.Add(approvals); set.Add(policyFile); set.Add(approveWith);
        set.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var policy = PolicyOptions.From(p.GetValue(approvers), p.GetValue(approvals), p.GetValue(policyFile))
                ?? throw new CliException("give the new policy: --approvers NAME=PUB,... --approvals M, or --policy-file FILE");
            var cluster = LocalCluster.From(p.GetValue(dir));
            using var client = cluster.Connect();
            var spec = new ActionSpec { Governance = new GovernanceChange { Policy = Google.Protobuf.ByteString.CopyFrom(policy.Encode()) } };
            var r = await RequestFlow.SubmitAsync(client, spec, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, "changing the governance policy");
            if (RequestFlow.Outcome(r, o) is not { } result) return;
            var g = result.Governance;
            var pinned = GovernancePolicy.Decode(g.Policy.Span);
            if (File.Exists(cluster.GovernancePath)) File.WriteAllBytes(cluster.GovernancePath, pinned.Encode());
            o.Result(RequestFlow.Stamp(new JsonObject
            {
                ["status"] = r.Status, ["serial"] = pinned.Serial, ["digest"] = pinned.Digest(), ["updated"] = Records.Strings(g.Updated), ["failed"] = Records.Strings(g.Failed),
            }, r), () =>
            {
                RequestFlow.PrintApproved(o, r);
                o.Line($"policy serial {pinned.Serial} ({pinned.Digest()[..16]}…) pinned on {string.Join(", ", g.Updated)}");
            });
        }));

        governance.Add(show);
        governance.Add(set);
        return governance;
    }

    /// <summary>Writes the backup file of a backup request that ran to <paramref name="path"/> (0600, never over an existing file).</summary>
    private static string? WriteBackup(RequestRecord r, string? path)
    {
        if (path is null) return null;
        if (r.Status != RequestFlow.Done || r.Result?.Backup is not { } backup || backup.File.IsEmpty)
            throw new CliException($"request {r.Id} holds no backup file ({r.Action}, {r.Status})");
        if (File.Exists(path)) throw new CliException($"--out {path} already exists; backups are never overwritten");
        SecretFiles.Write(path, backup.File.ToByteArray());
        return Path.GetFullPath(path);
    }
}
