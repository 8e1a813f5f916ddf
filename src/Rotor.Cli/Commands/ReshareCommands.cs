using System.CommandLine;
using Rotor.Cli.Cluster;
using Rotor.Rpc.Coordinator;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor reshare</c>: refresh (same members and threshold) or restructure, with an atomic commit.</summary>
public static class ReshareCommands
{
    public static Command Create()
    {
        var reshare = new Command("reshare", "Reshare a quorum's wallets to a new epoch without changing their keys");
        var dir = RootCommandBuilder.Dir();
        var quorum = new Option<string>("--quorum") { Description = "Quorum name", Required = true };
        var wallets = new Option<string?>("--wallets") { Description = "Comma-separated wallet ids (default: every wallet of the quorum)" };
        var reason = new Option<string>("--reason") { Description = "Why (recorded with the event)", Required = true };
        var members = new Option<string?>("--members") { Description = "New member set (default: unchanged)" };
        var threshold = new Option<int>("--threshold") { Description = "New threshold (default: unchanged)" };
        reshare.Add(dir); reshare.Add(quorum); reshare.Add(wallets); reshare.Add(reason); reshare.Add(members); reshare.Add(threshold);
        reshare.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var req = new ReshareRequest { Quorum = p.GetValue(quorum)!, Reason = p.GetValue(reason)!, Threshold = (uint)p.GetValue(threshold) };
            req.Wallets.AddRange(RootCommandBuilder.List(p.GetValue(wallets)));
            req.Members.AddRange(RootCommandBuilder.List(p.GetValue(members)));
            var r = await o.Progress("resharing", async () => await client.Coordinator.ReshareAsync(req));
            o.Result(Records.Reshare(r), () => o.Line($"event [bold]{r.EventId}[/]: {r.Wallets.Count} wallet(s) epoch {r.OldEpoch} -> {r.NewEpoch}, {r.Status}"));
        }));
        return reshare;
    }
}
