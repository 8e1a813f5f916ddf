using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Rotor.Rpc.Coordinator;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor cluster up|status|down|start-node|stop-node</c>: a local cluster left running in a folder.</summary>
public static class ClusterCommands
{
    public static Command Create()
    {
        var cluster = new Command("cluster", "A local cluster (coordinator and nodes as separate processes on 127.0.0.1)");

        var up = new Command("up", "Create what is missing and start the coordinator and nodes cs1..csN");
        var dir = RootCommandBuilder.Dir();
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes", DefaultValueFactory = _ => 3 };
        var coordinatorEnv = TestEnvironment("--test-coordinator-env");
        var approvers = new Option<string?>("--approvers") { Description = "Approvers every node pins: NAME=PUBKEY or PUBKEY (Ed25519, hex), comma-separated (default: a local operator key DIR/operator.key, one approval per action)" };
        var approvals = new Option<int?>("--approvals") { Description = "How many approvals every action class needs (with --approvers)" };
        up.Add(dir); up.Add(nodes); up.Add(coordinatorEnv); up.Add(approvers); up.Add(approvals);
        up.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var c = LocalCluster.From(p.GetValue(dir));
            var pin = Governance.PolicyOptions.From(p.GetValue(approvers), p.GetValue(approvals), null);
            var fresh = !File.Exists(c.GovernancePath);
            var madeKey = fresh && pin is null && !File.Exists(c.OperatorKeyPath);
            await o.Progress($"starting a cluster in {c.Dir}", () => c.UpAsync(p.GetValue(nodes), ParseEnvironment(p.GetValue(coordinatorEnv)), pin));
            var policy = c.Governance();
            if (pin is null && File.Exists(c.OperatorKeyPath) && policy.Approvers.Count == 1 && policy.Approvers[0].Key == Governance.OperatorKeyFile.PublicKey(c.OperatorKeyPath))
                o.Line($"[yellow]local development:[/] {(madeKey ? "made" : "using")} the operator key {c.OperatorKeyPath} (0600), pinned by every node with one approval per action; commands given --dir approve with it");
            else
                o.Line($"every node pins {policy.Approvers.Count} approver(s) ({string.Join(", ", policy.Approvers.Select(a => a.Name))}); approvals needed: {string.Join(", ", Rotor.Protocols.Governance.Actions.Classes.Select(k => $"{Rotor.Protocols.Governance.Actions.Name(k)} {policy.Required(k)}"))}");
            await PrintStatus(o, c, policy, pins: true);
        }));

        var status = new Command("status", "Show the processes and each node's health");
        var sdir = RootCommandBuilder.Dir();
        status.Add(sdir);
        status.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var c = LocalCluster.From(p.GetValue(sdir));
            if (!c.Exists) throw new CliException($"no cluster in {c.Dir}: run rotor cluster up --dir {c.Dir}");
            return PrintStatus(o, c);
        }));

        var down = new Command("down", "Stop every process of the cluster (data stays)");
        var ddir = RootCommandBuilder.Dir();
        down.Add(ddir);
        down.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var c = LocalCluster.From(p.GetValue(ddir));
            var stopped = c.Down();
            o.Result(new JsonObject { ["dir"] = c.Dir, ["stopped"] = new JsonArray(stopped.Select(s => (JsonNode)s).ToArray()) },
                () => o.Line(stopped.Count == 0 ? (FormattableString)$"nothing was running" : $"stopped {string.Join(", ", stopped)}"));
            return Task.CompletedTask;
        }));

        var start = new Command("start-node", "Create (if new), start (if not running) and register a node");
        var ndir = RootCommandBuilder.Dir();
        var name = new Option<string>("--name") { Description = "Node name, e.g. cs4", Required = true };
        var nodeEnv = TestEnvironment("--test-env");
        start.Add(ndir); start.Add(name); start.Add(nodeEnv);
        start.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var c = LocalCluster.From(p.GetValue(ndir));
            var entry = await o.Progress($"starting {p.GetValue(name)}", () => c.StartNodeAsync(p.GetValue(name)!, ParseEnvironment(p.GetValue(nodeEnv))));
            o.Result(new JsonObject { ["name"] = entry.Name, ["pid"] = entry.Pid, ["endpoint"] = entry.Endpoint },
                () => o.Line($"node [bold]{entry.Name}[/] running (pid {entry.Pid}) at {entry.Endpoint}"));
        }));

        var stop = new Command("stop-node", "Stop one process of the cluster");
        var xdir = RootCommandBuilder.Dir();
        var xname = new Option<string>("--name") { Description = "Node name", Required = true };
        stop.Add(xdir); stop.Add(xname);
        stop.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var stopped = LocalCluster.From(p.GetValue(xdir)).StopOne(p.GetValue(xname)!);
            o.Result(new JsonObject { ["name"] = p.GetValue(xname), ["stopped"] = stopped }, () => o.Line(stopped ? (FormattableString)$"stopped" : $"was not running"));
            return Task.CompletedTask;
        }));

        cluster.Add(up); cluster.Add(status); cluster.Add(down); cluster.Add(start); cluster.Add(stop);
        return cluster;
    }

    /// <summary>Hidden test option: NAME=VALUE environment entries for a started process (fault injection, relay capture).</summary>
    private static Option<string[]> TestEnvironment(string name) => new(name) { Hidden = true, AllowMultipleArgumentsPerToken = false, Description = "Test only: NAME=VALUE for the started process" };

    private static Dictionary<string, string>? ParseEnvironment(string[]? entries)
    {
        if (entries is null || entries.Length == 0) return null;
        return entries.Select(e => e.Split('=', 2)).ToDictionary(
            kv => kv[0].StartsWith("ROTOR_TEST_", StringComparison.Ordinal) && kv.Length == 2 ? kv[0] : throw new CliException($"test environment entry '{string.Join("=", kv)}' must be ROTOR_TEST_NAME=VALUE"),
            kv => kv[1]);
    }

    private static async Task PrintStatus(Output o, LocalCluster c, Rotor.Protocols.Governance.GovernancePolicy? policy = null, bool pins = false)
    {
        var state = c.State();
        var coordinatorRunning = state.Coordinator is not null && LocalCluster.IsRunning(state.Coordinator.Pid);
        NodeList? registered = null;
        if (coordinatorRunning)
        {
            using var client = c.Connect();
            registered = await client.Coordinator.ListNodesAsync(new ListNodesRequest(), deadline: DateTime.UtcNow.AddSeconds(15));
        }
        var nodes = new JsonArray();
        foreach (var n in state.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var r = registered?.Nodes.FirstOrDefault(x => x.Name == n.Name);
            nodes.Add(new JsonObject
            {
                ["name"] = n.Name, ["pid"] = n.Pid, ["running"] = LocalCluster.IsRunning(n.Pid), ["endpoint"] = n.Endpoint,
                ["online"] = r?.Online ?? false, ["lastSeen"] = r?.LastSeen ?? 0, ["index"] = r?.Index ?? 0,
                ["masterKey"] = r is { MasterKey.Length: > 0 } ? r.MasterKey : c.MasterKeyOf(n.Name),
                ["sealed"] = r?.Sealed ?? false, ["sealReason"] = r is { Sealed: true } ? r.SealReason : null,
            });
        }
        var result = new JsonObject
        {
            ["dir"] = c.Dir,
            ["coordinator"] = state.Coordinator is null ? null : new JsonObject { ["pid"] = state.Coordinator.Pid, ["running"] = coordinatorRunning, ["endpoint"] = state.Coordinator.Endpoint },
            ["nodes"] = nodes,
        };
        if (policy is not null)
        {
            result["governance"] = new JsonObject
            {
                ["approvers"] = new JsonArray(policy.Approvers.Select(a => (JsonNode)new JsonObject { ["name"] = a.Name, ["key"] = a.Key }).ToArray()),
                ["approvals"] = new JsonObject(Rotor.Protocols.Governance.Actions.Classes.Select(k => KeyValuePair.Create(Rotor.Protocols.Governance.Actions.Name(k), (JsonNode?)policy.Required(k)))),
                ["operatorKey"] = File.Exists(c.OperatorKeyPath) ? c.OperatorKeyPath : null,
                ["digest"] = policy.Digest(),
            };
        }
        if (pins)
        {
            result["backupRecipient"] = File.ReadAllText(c.BackupRecipientPublicFile).Trim();
            result["backupRecipientKeyFile"] = c.BackupRecipientKeyFile;
            result["auditKey"] = File.ReadAllText(c.AuditPinFile).Trim();
            result["auditKeyFile"] = c.AuditPinFile;
        }
        o.Result(result, () =>
        {
            AnsiConsole.MarkupLine($"cluster in [bold]{Markup.Escape(c.Dir)}[/]: coordinator {(coordinatorRunning ? $"[green]running[/] at {state.Coordinator!.Endpoint}" : "[red]not running[/]")}");
            var table = new Table().AddColumns("node", "pid", "process", "online", "master key", "endpoint");
            foreach (var n in nodes)
                table.AddRow(n!["name"]!.ToString(), n["pid"]!.ToString(), (bool)n["running"]! ? "[green]running[/]" : "[red]stopped[/]",
                    (bool)n["online"]! ? "[green]online[/]" : "[red]offline[/]",
                    Markup.Escape(n["masterKey"]?.ToString() ?? "?") + ((bool)n["sealed"]! ? $" [red]sealed: {Markup.Escape(n["sealReason"]?.ToString() ?? "")}[/]" : ""),
                    n["endpoint"]!.ToString());
            AnsiConsole.Write(table);
            if (pins)
            {
                o.Line($"local development pins: every node accepts only this coordinator's key, and seals backups only to [bold]{result["backupRecipient"]!.ToString()}[/]");
                o.Line($"  (private key in {c.BackupRecipientKeyFile}: keep it offline in production; rotor backup create --recipient uses it by default)");
                o.Line($"  the audit log is verified against the key pinned in {c.AuditPinFile}");
            }
        });
    }
}
