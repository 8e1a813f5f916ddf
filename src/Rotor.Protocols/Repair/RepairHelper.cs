using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Repair;

/// <summary>What a helper sends in round 1: one broadcast of mask commitments, one private delta per helper (itself included).</summary>
public sealed class RepairRound1
{
    internal RepairRound1(RepairCommitments commitments, IReadOnlyList<RepairDelta> deltas)
    {
        Commitments = commitments;
        Deltas = deltas;
    }

    /// <summary>Broadcast to every helper and the target.</summary>
    public RepairCommitments Commitments { get; }

    /// <summary>One per helper in the plan's order; each goes privately to its helper.</summary>
    public IReadOnlyList<RepairDelta> Deltas { get; }

    /// <summary>The delta addressed to the given helper.</summary>
    public RepairDelta For(Identifier helper) =>
        Deltas.FirstOrDefault(d => d.To == helper) ?? throw new ArgumentException($"{helper} is not a helper of this repair");

    public override string ToString() => $"RepairRound1(helper {Commitments.Helper})";
}

/// <summary>
/// A helper's side of a repair. Round 1 (<see cref="Start"/>): helper i splits ζ_i·s_i, ζ_i = λ_i(x_target) over
/// the helpers, into random pieces δ_{i→j}, one per helper, and commits to each. Round 2 (<see cref="Finish"/>):
/// helper j checks every piece it got against its commitment and every helper's commitments against ζ_i·Y_i,
/// then sends σ_j = Σ_i δ_{i→j} to the target. A helper sees only random pieces of other helpers'
/// contributions, so no helper learns the rebuilt share.
/// </summary>
public static class RepairHelper
{
    /// <summary>
    /// Round 1. Refuses a share of another key, scheme or epoch (<see cref="Fault.StaleShare"/> naming the
    /// member) and a member that is not a helper (<see cref="Fault.InvalidUsage"/>).
    /// </summary>
    /// <param name="identity">The helper's node identity: signs its broadcast (required when the package records member identities).</param>
    public static RepairRound1 Start(RepairPlan plan, KeyShare share, Rotor.Crypto.Envelopes.NodeIdentity? identity = null)
    {
        var me = share.Identifier;
        if (share.KeyId != plan.KeyId || share.Scheme != plan.Scheme || share.Epoch != plan.Current.Epoch)
            throw new ProtocolException(Fault.StaleShare,
                $"member {me}'s share is of key {share.KeyId} ({share.Scheme.Name()}) epoch {share.Epoch}, but the repair is of key {plan.KeyId} ({plan.Scheme.Name()}) epoch {plan.Current.Epoch}", me);
        if (!plan.IsHelper(me)) throw new ProtocolException(Fault.InvalidUsage, $"member {me} is not a helper of {plan}");
        if (!share.Public.SameAs(plan.Current))
            throw new ProtocolException(Fault.InvalidUsage, $"member {me}'s share is of another public package than the plan's for key {plan.KeyId} epoch {plan.Current.Epoch}");
        var deltas = RepairSteps.Deltas(plan.Weight(me), share.SigningShare, plan.Helpers.Count);
        var masks = deltas.Select(d => plan.Group.MulBase(d)).ToArray();
        var commitments = new RepairCommitments(plan.Digest, me, masks);
        return new RepairRound1(
            identity is null ? commitments : commitments.Sign(identity),
            plan.Helpers.Select((h, j) => new RepairDelta(plan.Digest, me, h, deltas[j])).ToArray());
    }

    /// <summary>
    /// Round 2: checks and sums the deltas addressed to this helper. Refuses, naming the helpers to blame: a
    /// message of another plan (<see cref="Fault.WrongSession"/>), from a non-helper (<see cref="Fault.UnexpectedSender"/>),
    /// twice from one helper (<see cref="Fault.DuplicateMessage"/>), a broadcast of the wrong length
    /// (<see cref="Fault.MalformedMessage"/>), a missing message (<see cref="Fault.InvalidUsage"/>), commitments that
    /// do not add up to ζ_i·Y_i (<see cref="Fault.InvalidConstantTerm"/>) and a delta off its commitment (<see cref="Fault.InvalidShare"/>).
    /// </summary>
    public static RepairSigma Finish(RepairPlan plan, Identifier me, IReadOnlyList<RepairCommitments> commitments, IReadOnlyList<RepairDelta> deltas)
    {
        if (!plan.TryIndexOf(me, out int mine)) throw new ProtocolException(Fault.InvalidUsage, $"{me} is not a helper of {plan}");
        var cs = RepairSteps.Collect(plan, commitments);
        var ds = CollectDeltas(plan, me, deltas);
        RepairSteps.CheckSignatures(plan, cs);
        var batch = new FeldmanBatch<(Identifier, Fault)>(plan.Group);
        RepairSteps.QueueSumChecks(batch, plan, cs);
        for (int i = 0; i < ds.Length; i++)
            batch.AddShare((plan.Helpers[i], Fault.InvalidShare), new FeldmanCommitment([cs[i].Masks[mine]]), me.Scalar, ds[i]);
        RepairSteps.Blame(batch, "delta does not match its commitment");
        return new RepairSigma(plan.Digest, me, RepairSteps.Sigma(plan.Group, ds), RepairSteps.Digests(plan, cs), cs.Select(c => c.Signature).ToArray());
    }

    private static Scalar[] CollectDeltas(RepairPlan plan, Identifier me, IReadOnlyList<RepairDelta> deltas)
    {
        var slots = new RepairDelta?[plan.Helpers.Count];
        foreach (var d in deltas)
        {
            int i = RepairSteps.Slot(plan, d.PlanDigest, d.From, "delta");
            if (d.To != me) throw new ProtocolException(Fault.InvalidUsage, $"helper {d.From}'s delta is addressed to {d.To}, not {me}");
            if (slots[i] is not null) throw new ProtocolException(Fault.DuplicateMessage, $"helper {d.From} sent two deltas", d.From);
            if (!ReferenceEquals(d.Value.Group, plan.Group)) throw new ProtocolException(Fault.MalformedMessage, $"helper {d.From}'s delta is not a {plan.Group.Name} scalar", d.From);
            slots[i] = d;
        }
        RepairSteps.Complete(plan, slots, "delta");
        return slots.Select(d => d!.Value).ToArray();
    }
}
