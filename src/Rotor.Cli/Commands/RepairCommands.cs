using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Operations;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor repair</c> and <c>rotor quorum options</c>.</summary>
public static class RepairCommands
{
    public static Command Repair()
    {
        var cmd = new Command("repair", "Rebuild a node's shard of a wallet's current epoch from a threshold of other members (no backup needed)");
        var dir = RootCommandBuilder.Dir();
        var node = new Option<string>("--node") { Description = "The node whose shard is rebuilt", Required = true };
        var wallet = new Option<string>("--wallet") { Description = "Wallet id", Required = true };
        var helpers = new Option<string?>("--helpers") { Description = "Comma-separated helping members (default: the first threshold online members)" };
        var approveWith = RequestFlow.ApproveWith();
        cmd.Add(dir); cmd.Add(node); cmd.Add(wallet); cmd.Add(helpers); cmd.Add(approveWith);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var cluster = LocalCluster.From(p.GetValue(dir));
            using var client = cluster.Connect();
            var req = new RepairRequest { Node = p.GetValue(node)!, Wallet = p.GetValue(wallet)! };
            req.Helpers.AddRange(RootCommandBuilder.List(p.GetValue(helpers)));
            var request = await RequestFlow.SubmitAsync(client, new ActionSpec { Repair = req }, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, $"repairing {req.Node}");
            if (RequestFlow.Outcome(request, o) is not { } outcome) return;
            var r = outcome.Repair;
            o.Result(RequestFlow.Stamp(new JsonObject { ["node"] = r.Node, ["wallet"] = r.Wallet, ["epoch"] = r.Epoch, ["helpers"] = Records.Strings(r.Helpers) }, request),
                () =>
                {
                    RequestFlow.PrintApproved(o, request);
                    o.Line($"{r.Node}'s shard of [bold]{r.Wallet}[/] epoch {r.Epoch} rebuilt with {string.Join(", ", r.Helpers)}");
                });
        }));
        return cmd;
    }

    public static Command QuorumOptions()
    {
        var cmd = new Command("options", "Quorum settings: automatic backups after every commit");
        var dir = RootCommandBuilder.Dir();
        var quorum = new Option<string>("--quorum") { Description = "Quorum name", Required = true };
        var auto = new Option<bool>("--auto-backup") { Description = "After each commit every new member writes a fresh backup sealed to --recipient" };
        var off = new Option<bool>("--no-auto-backup") { Description = "Stop automatic backups" };
        var recipient = new Option<string?>("--recipient") { Description = "X25519 public key (hex) automatic backups are sealed to" };
        cmd.Add(dir); cmd.Add(quorum); cmd.Add(auto); cmd.Add(off); cmd.Add(recipient);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var req = new Rotor.Rpc.Operations.QuorumOptions { Quorum = p.GetValue(quorum)! };
            switch (p.GetValue(auto), p.GetValue(off), p.GetValue(recipient))
            {
                case (true, false, { } r): req.AutoBackupRecipient = Convert.ToHexStringLower(RootCommandBuilder.Hex(r, "--recipient")); break;
                case (false, true, null): req.Clear = true; break;
                default: throw new CliException("give --auto-backup with --recipient KEY, or --no-auto-backup");
            }
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var r2 = await client.Operations.SetQuorumOptionsAsync(req);
            o.Result(new JsonObject { ["quorum"] = r2.Quorum, ["autoBackup"] = r2.AutoBackupRecipient.Length > 0, ["recipient"] = r2.AutoBackupRecipient.Length > 0 ? r2.AutoBackupRecipient : null },
                () => o.Line(r2.AutoBackupRecipient.Length > 0 ? (FormattableString)$"quorum {r2.Quorum}: automatic backups sealed to {r2.AutoBackupRecipient}" : $"quorum {r2.Quorum}: automatic backups off"));
        }));
        return cmd;
    }
}
