using System.CommandLine;
using Rotor.Cli.Cluster;

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
            using var client = LocalCluster.From(p.GetValue(spec.Dir)).Connect();
            var r = await o.Progress("resharing", async () => await client.Operations.StartReshareAsync(spec.Read(p)));
            var json = OperationCommands.Json(r);
            json["oldEpoch"] = r.Wallets.Min(w => w.OldEpoch);
            json["newEpoch"] = r.Wallets.Max(w => w.NewEpoch);
            o.Result(json, () => o.Line($"reshare [bold]{r.Id}[/] (event {r.EventId}): {r.Wallets.Count} wallet(s) epoch {r.Wallets.Min(w => w.OldEpoch)} -> {r.Wallets.Max(w => w.NewEpoch)}, {r.Status}"));
        }));
        OperationCommands.AddReshareSubcommands(reshare);
        return reshare;
    }
}
