using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Rotor.Rpc.Coordinator;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor quorum create|status</c>.</summary>
public static class QuorumCommands
{
    public static Command Create()
    {
        var quorum = new Command("quorum", "Quorums: member sets with a threshold");

        var create = new Command("create", "Create a quorum");
        var dir = RootCommandBuilder.Dir();
        var name = new Option<string>("--name") { Description = "Quorum name", Required = true };
        var threshold = new Option<int>("--threshold") { Description = "Signers needed", Required = true };
        var members = new Option<string>("--members") { Description = "Comma-separated node names, e.g. cs1,cs2,cs3", Required = true };
        create.Add(dir); create.Add(name); create.Add(threshold); create.Add(members);
        create.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var req = new CreateQuorumRequest { Name = p.GetValue(name)!, Threshold = (uint)p.GetValue(threshold) };
            req.Members.AddRange(RootCommandBuilder.List(p.GetValue(members)));
            var q = await client.Coordinator.CreateQuorumAsync(req);
            o.Result(new JsonObject { ["name"] = q.Name, ["threshold"] = q.Threshold, ["members"] = Records.Strings(q.Members) },
                () => o.Line($"quorum [bold]{q.Name}[/]: {q.Threshold}-of-{q.Members.Count} ({string.Join(", ", q.Members)})"));
        }));

        var status = new Command("status", "Each member online or offline, each wallet's epoch on each node, and vault health");
        var qname = new Argument<string>("quorum") { Description = "Quorum name" };
        var sdir = RootCommandBuilder.Dir();
        status.Add(qname); status.Add(sdir);
        status.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(sdir)).Connect();
            var s = await o.Progress("polling the members", async () => await client.Coordinator.GetQuorumStatusAsync(new QuorumStatusRequest { Name = p.GetValue(qname)! }));
            var waiting = await client.Operations.MailboxAsync(new Rotor.Rpc.Operations.MailboxQuery { Quorum = s.Quorum.Name });
            o.Result(Json(s, waiting), () => Print(s, waiting));
        }));

        quorum.Add(create);
        quorum.Add(status);
        quorum.Add(RepairCommands.QuorumOptions());
        return quorum;
    }

    /// <summary>The wallets whose new shards wait in the coordinator's mailbox for a member that was offline at a commit.</summary>
    private static string[] Waiting(Rotor.Rpc.Operations.MailboxStatus mail, string member) =>
        mail.Items.Where(i => i.Node == member).SelectMany(i => i.Wallets.Select(w => $"{w}@{i.NewEpoch}")).ToArray();

    private static JsonObject Json(QuorumStatus s, Rotor.Rpc.Operations.MailboxStatus mail) => new()
    {
        ["name"] = s.Quorum.Name,
        ["threshold"] = s.Quorum.Threshold,
        ["members"] = new JsonArray(s.Members.Select(m => (JsonNode)new JsonObject
        {
            ["name"] = m.Name, ["online"] = m.Online, ["vaultHealthy"] = m.VaultHealthy, ["vault"] = m.VaultMessage, ["lastSeen"] = m.LastSeen,
            ["sharesWaiting"] = Records.Strings(Waiting(mail, m.Name)),
        }).ToArray()),
        ["wallets"] = new JsonArray(s.Wallets.Select(w => (JsonNode)new JsonObject
        {
            ["walletId"] = w.Wallet.WalletId, ["scheme"] = w.Wallet.Scheme, ["epoch"] = w.Wallet.Epoch, ["address"] = w.Wallet.Address,
            ["nodes"] = new JsonArray(w.Nodes.Select(n => (JsonNode)new JsonObject
            {
                ["node"] = n.Node,
                ["activeEpochs"] = new JsonArray(n.ActiveEpochs.Select(e => (JsonNode)e).ToArray()),
                ["pendingEpochs"] = new JsonArray(n.PendingEpochs.Select(e => (JsonNode)e).ToArray()),
            }).ToArray()),
        }).ToArray()),
    };

    private static void Print(QuorumStatus s, Rotor.Rpc.Operations.MailboxStatus mail)
    {
        AnsiConsole.MarkupLine($"quorum [bold]{Markup.Escape(s.Quorum.Name)}[/]: {s.Quorum.Threshold}-of-{s.Quorum.Members.Count}");
        var members = new Table().AddColumns("member", "status", "vault", "shares waiting");
        foreach (var m in s.Members)
            members.AddRow(m.Name, m.Online ? "[green]online[/]" : "[red]offline[/]", m.VaultHealthy ? "[green]healthy[/]" : $"[red]{Markup.Escape(m.VaultMessage)}[/]",
                string.Join(", ", Waiting(mail, m.Name)));
        AnsiConsole.Write(members);
        if (s.Wallets.Count == 0) return;
        var wallets = new Table().AddColumn("wallet").AddColumn("epoch");
        foreach (var m in s.Members) wallets.AddColumn(m.Name);
        foreach (var w in s.Wallets)
            wallets.AddRow([w.Wallet.WalletId, w.Wallet.Epoch.ToString(), .. s.Members.Select(m =>
            {
                var n = w.Nodes.First(x => x.Node == m.Name);
                var active = string.Join(",", n.ActiveEpochs);
                var pending = n.PendingEpochs.Count > 0 ? $" (pending {string.Join(",", n.PendingEpochs)})" : "";
                return m.Online ? (active.Length == 0 ? "-" : active) + pending : "?";
            })]);
        AnsiConsole.Write(wallets);
    }
}
