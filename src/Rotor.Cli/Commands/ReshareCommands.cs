using System.CommandLine;
using Grpc.Core;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Operations;
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
            var reshareSpec = spec.Read(p);
            RequestRecord request;
            try { request = await RequestFlow.SubmitAsync(client, new ActionSpec { Reshare = reshareSpec }, spec.Keys(p, cluster), o, "resharing"); }
            catch (RpcException e) when (Interrupted(e))
            {
                // The call left but no answer came back: the coordinator died (or the connection broke) mid-reshare.
                throw new CliException($"the coordinator stopped answering during the reshare of quorum '{reshareSpec.Quorum}' ({e.StatusCode}: {e.Status.Detail}); " +
                    $"whether it committed is unknown here. A reshare commits atomically or not at all: once the coordinator runs again (rotor cluster up), " +
                    $"rotor reshare list --quorum {reshareSpec.Quorum} shows the operation as committed, or failed with nothing changed");
            }
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

    /// <summary>True for a call that reached the coordinator and lost it before the answer (not a refusal, not "cannot connect").</summary>
    private static bool Interrupted(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled or StatusCode.DeadlineExceeded
        && !e.Status.Detail.Contains("Connection refused", StringComparison.OrdinalIgnoreCase)
        && !(e.StatusCode == StatusCode.Unavailable && e.Status.Detail.Contains("Error connecting", StringComparison.OrdinalIgnoreCase));
}
