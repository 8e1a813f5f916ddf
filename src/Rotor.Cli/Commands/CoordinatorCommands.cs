using Microsoft.Extensions.Hosting;
using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Coordinator;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor coordinator init</c> and <c>rotor coordinator run</c>.</summary>
public static class CoordinatorCommands
{
    public static Command Create()
    {
        var coordinator = new Command("coordinator", "The coordinator: registry, session driver and relay");

        var init = new Command("init", "Create the coordinator's folder: config, certificate from the cluster CA, admin token");
        var dir = new Option<string>("--dir") { Description = "The coordinator's folder", Required = true };
        var ca = new Option<string>("--ca") { Description = "Folder of the cluster CA", Required = true };
        init.Add(dir); init.Add(ca);
        init.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var config = CoordinatorHost.Init(p.GetValue(dir)!, p.GetValue(ca)!);
            var path = Path.Combine(config.BaseDir, CoordinatorConfig.FileName);
            var auditKey = Convert.ToHexStringLower(CoordinatorHost.AuditPublicKey(config));
            o.Result(new JsonObject
            {
                ["config"] = path, ["adminTokenFile"] = config.Resolve(config.AdminTokenFile), ["auditKey"] = auditKey,
                ["auditKeyFile"] = config.Resolve(CoordinatorHost.AuditPublicKeyFile), ["certificate"] = CoordinatorHost.CertificateFile(config),
            }, () =>
            {
                o.Line($"coordinator created in {config.BaseDir}");
                o.Line($"audit public key [bold]{auditKey}[/]: pin it where operators verify the log (rotor log --verify --audit-key) and on the nodes (node init --audit-key)");
                o.Line($"nodes pin the coordinator's certificate: rotor node init ... --coordinator-cert {CoordinatorHost.CertificateFile(config)}");
            });
            return Task.CompletedTask;
        }));

        var run = new Command("run", "Serve the coordinator's API until stopped");
        var config = new Option<string>("--config") { Description = "The coordinator's coordinator.json", Required = true };
        run.Add(config);
        run.SetAction((p, cancel) => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var (app, endpoint) = await CoordinatorHost.StartAsync(CoordinatorConfig.Load(p.GetValue(config)!), cancel);
            o.Result(new JsonObject { ["endpoint"] = endpoint }, () => Console.WriteLine($"listening on {endpoint}"));
            await app.WaitForShutdownAsync(cancel);
        }));

        coordinator.Add(init);
        coordinator.Add(run);
        return coordinator;
    }
}
