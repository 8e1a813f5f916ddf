using Microsoft.Extensions.Hosting;
using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Node;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor node init</c> and <c>rotor node run</c>.</summary>
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
        init.Add(dir); init.Add(name); init.Add(ca); init.Add(passEnv); init.Add(listen);
        init.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var (config, identity) = NodeSetup.Init(p.GetValue(dir)!, p.GetValue(name)!, p.GetValue(ca)!, p.GetValue(passEnv), p.GetValue(listen)!);
            o.Result(new JsonObject
            {
                ["name"] = config.Name,
                ["config"] = Path.Combine(config.BaseDir, NodeConfig.FileName),
                ["signingKey"] = Convert.ToHexStringLower(identity.SigningKey),
                ["agreementKey"] = Convert.ToHexStringLower(identity.AgreementKey),
            }, () => o.Line($"node [bold]{config.Name}[/] created in {config.BaseDir} (identity {identity})"));
            return Task.CompletedTask;
        }));

        var run = new Command("run", "Serve the node's gRPC API over mutual TLS until stopped");
        var config = new Option<string>("--config") { Description = "The node's node.json", Required = true };
        run.Add(config);
        run.SetAction((p, cancel) => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var (app, endpoint) = await NodeHost.StartAsync(NodeConfig.Load(p.GetValue(config)!), cancel);
            o.Result(new JsonObject { ["endpoint"] = endpoint }, () => Console.WriteLine($"listening on {endpoint}"));
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
        return node;
    }
}
