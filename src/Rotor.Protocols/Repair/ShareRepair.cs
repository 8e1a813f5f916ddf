using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Repair;

/// <summary>Runs a whole repair inside this process (for simulation, tests and benchmarks: a real deployment runs each party on its own node).</summary>
public static class ShareRepair
{
    /// <summary>Rebuilds the target's share of the helpers' epoch from any t or more helpers' shares.</summary>
    /// <param name="identities">The helpers' node identities: needed when the package records member identities (they sign their broadcasts).</param>
    public static KeyShare RunInProcess(IReadOnlyList<KeyShare> helpers, Identifier target, IReadOnlyDictionary<Identifier, Rotor.Crypto.Envelopes.NodeIdentity>? identities = null)
    {
        if (helpers.Count == 0) throw new ProtocolException(Fault.InvalidUsage, "no helpers");
        var current = helpers.MaxBy(s => s.Epoch)!.Public;
        var plan = RepairPlan.Create(SessionId.ForRepair(current), current, target, helpers.Select(h => h.Identifier).ToArray());
        var round1 = helpers.Select(h => RepairHelper.Start(plan, h, identities?.GetValueOrDefault(h.Identifier))).ToArray();
        var commitments = round1.Select(r => r.Commitments).ToArray();
        var sigmas = plan.Helpers.Select(h => RepairHelper.Finish(plan, h, commitments, round1.Select(r => r.For(h)).ToArray())).ToArray();
        return RepairTarget.Complete(plan, commitments, sigmas);
    }
}
