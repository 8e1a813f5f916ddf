using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor report rotations</c>: the compliance view of key rotation, as the console's compliance page shows it.</summary>
public static class ReportCommands
{
    public static Command Create()
    {
        var report = new Command("report", "Reports for auditors");
        var rotations = new Command("rotations", "Every wallet's last reshare (when, why, requested and approved by whom) and whether its quorum's rotation policy finds it overdue");
        var dir = RootCommandBuilder.Dir();
        var quorum = new Option<string?>("--quorum") { Description = "Only this quorum's wallets" };
        var csv = new Option<bool>("--csv") { Description = "Print CSV (one line per wallet) instead of a table" };
        rotations.Add(dir); rotations.Add(quorum); rotations.Add(csv);
        rotations.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            if (p.GetValue(csv) && o.Json) throw new CliException("--csv and --json exclude each other: pick one output format");
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var rows = await RotationReport.BuildAsync(client, p.GetValue(quorum), DateTimeOffset.UtcNow);
            if (p.GetValue(csv)) { System.Console.Out.Write(RotationReport.Csv(rows)); return; }
            o.Result(new JsonObject
            {
                ["wallets"] = new JsonArray(rows.Select(r => (JsonNode)r.Json()).ToArray()), ["overdue"] = rows.Count(r => r.Overdue),
            }, () =>
            {
                var table = new Table().AddColumns("wallet", "quorum", "epoch", "last reshare", "reason", "requested by", "approved by", "policy", "overdue");
                foreach (var r in rows)
                    table.AddRow(Markup.Escape(r.Wallet), Markup.Escape(r.Quorum), r.Epoch.ToString(), r.LastReshare?.ToString("u") ?? "never",
                        Markup.Escape(r.Reason ?? "-"), Markup.Escape(r.RequestedBy ?? "-"), Markup.Escape(string.Join(", ", r.Approvers)),
                        Markup.Escape(r.Every is null ? "none" : $"every {r.Every}"), r.Overdue ? "[red]overdue[/]" : r.Due is null ? "-" : "no");
                AnsiConsole.Write(table);
            });
        }));
        report.Add(rotations);
        return report;
    }
}
