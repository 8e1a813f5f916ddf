using System.CommandLine;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;

namespace Rotor.Cli.Commands;

/// <summary>
/// <c>rotor reshare</c>: refresh (same members and threshold) or restructure, with an atomic commit, run now as a
/// recorded operation (preflight first); <c>plan|schedule|cancel|list|show</c> are its subcommands.
/// </summary>
public static class ReshareCommands
{
    public static Command Create()
    {
        var reshare = new Command("reshare", "Reshare a quorum's wallets to a new epoch without changing their keys");
        var spec = new OperationCommands.SpecOptions();
        spec.AddTo(reshare);
        reshare.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var cluster = LocalCluster.From(p.GetValue(spec.Dir));
            using var client = cluster.Connect();
            var request = await RequestFlow.SubmitAsync(client, new ActionSpec { Reshare = spec.Read(p) }, spec.Keys(p, cluster), o, "resharing");
            if (RequestFlow.Outcome(request, o) is not { } outcome) return;
            var r = outcome.Reshare;
            var json = OperationCommands.Json(r);
            json["oldEpoch"] = r.Wallets.Min(w => w.OldEpoch);
            json["newEpoch"] = r.Wallets.Max(w => w.NewEpoch);
            o.Result(RequestFlow.Stamp(json, request), () =>
            {
                RequestFlow.PrintApproved(o, request);
                o.Line($"reshare [bold]{r.Id}[/] (event {r.EventId}): {r.Wallets.Count} wallet(s) epoch {r.Wallets.Min(w => w.OldEpoch)} -> {r.Wallets.Max(w => w.NewEpoch)}, {r.Status}");
            });
        }));
        OperationCommands.AddReshareSubcommands(reshare);
        return reshare;
    }
}
