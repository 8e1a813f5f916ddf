using System.Security.Cryptography;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Repair;

/// <summary>
/// The target's side of a repair: checks every helper's broadcast (so a helper that contributes anything but
/// ζ_i·s_i is named even when the others, having caught it too, send no σ), that every helper saw the same broadcasts,
/// and each σ_j against Σ_i D_{i→j}; then rebuilds s = Σ_j σ_j and checks it against its own public verification
/// share Y_target of the current epoch. A bad helper is named; nothing is returned unless the share is right.
/// </summary>
public static class RepairTarget
{
    /// <summary>
    /// Refuses, naming the helpers to blame: a message of another plan (<see cref="Fault.WrongSession"/>), from a
    /// non-helper (<see cref="Fault.UnexpectedSender"/>), twice from one helper (<see cref="Fault.DuplicateMessage"/>),
    /// a malformed message (<see cref="Fault.MalformedMessage"/>), a missing one (<see cref="Fault.InvalidUsage"/>),
    /// commitments that do not add up to ζ_i·Y_i (<see cref="Fault.InvalidConstantTerm"/>), a helper that showed
    /// different commitments to different parties (<see cref="Fault.Equivocation"/>) and a σ_j that does not
    /// match the commitments (<see cref="Fault.InvalidShare"/>).
    /// </summary>
    public static KeyShare Complete(RepairPlan plan, IReadOnlyList<RepairCommitments> commitments, IReadOnlyList<RepairSigma> sigmas)
    {
        var cs = RepairSteps.Collect(plan, commitments);
        RepairSteps.CheckSignatures(plan, cs);
        var sums = new FeldmanBatch<(Identifier, Fault)>(plan.Group);
        RepairSteps.QueueSumChecks(sums, plan, cs);
        RepairSteps.Blame(sums, "commitments do not add up");
        var ss = CollectSigmas(plan, sigmas);
        CheckSameBroadcasts(plan, cs, ss);
        var batch = new FeldmanBatch<(Identifier, Fault)>(plan.Group);
        for (int j = 0; j < ss.Length; j++)
            batch.AddShare((plan.Helpers[j], Fault.InvalidShare), new FeldmanCommitment([plan.Group.Sum(cs.Select(c => c.Masks[j]))]), plan.Target.Scalar, ss[j].Value);
        RepairSteps.Blame(batch, "σ does not match the commitments to its deltas");
        var share = RepairSteps.Share(plan.Group, ss.Select(s => s.Value));
        if (!plan.Group.MulBase(share).Equals(plan.Current.VerifyingShare(plan.Target)))
            throw new ProtocolException(Fault.InvalidResult, $"the rebuilt share of member {plan.Target} does not match its verification share");
        return KeyShare.FromVerified(plan.Current, plan.Target, share);
    }

    private static RepairSigma[] CollectSigmas(RepairPlan plan, IReadOnlyList<RepairSigma> sigmas)
    {
        var slots = new RepairSigma?[plan.Helpers.Count];
        foreach (var s in sigmas)
        {
            int i = RepairSteps.Slot(plan, s.PlanDigest, s.Helper, "σ");
            if (slots[i] is not null) throw new ProtocolException(Fault.DuplicateMessage, $"helper {s.Helper} sent two σ", s.Helper);
            if (!ReferenceEquals(s.Value.Group, plan.Group) || !s.Seen.Select(d => d.Dealer).SequenceEqual(plan.Helpers) || s.SeenSignatures.Count != s.Seen.Count)
                throw new ProtocolException(Fault.MalformedMessage, $"helper {s.Helper}'s σ message does not list one digest per helper", s.Helper);
            slots[i] = s;
        }
        RepairSteps.Complete(plan, slots, "σ");
        return slots!;
    }

    /// <summary>
    /// Every helper must report the broadcasts the target received. When helper j reports another digest for helper i's
    /// broadcast: with a package that records identities, j's report carries i's signature over what j claims to have
    /// seen; if it verifies, i signed two different broadcasts and i equivocated (<see cref="Fault.Equivocation"/>
    /// naming i); if not, j lies about i's broadcast (<see cref="Fault.TranscriptMismatch"/> naming j). Without recorded
    /// identities the target cannot tell which of the two is at fault and names neither (no one can be framed).
    /// </summary>
    private static void CheckSameBroadcasts(RepairPlan plan, RepairCommitments[] cs, RepairSigma[] ss)
    {
        var mine = RepairSteps.Digests(plan, cs);
        var equivocators = new SortedSet<Identifier>();
        var liars = new SortedSet<Identifier>();
        var unresolved = new List<string>();
        for (int i = 0; i < plan.Helpers.Count; i++)
            foreach (var s in ss)
            {
                if (CryptographicOperations.FixedTimeEquals(s.Seen[i].Digest, mine[i].Digest)) continue;
                var broadcaster = plan.Helpers[i];
                if (!plan.Current.IsBound) unresolved.Add($"{s.Helper} reports another broadcast from {broadcaster}");
                else if (Rotor.Crypto.Envelopes.IdentityKeys.VerifyWith(plan.Current.MemberKey(broadcaster)!, RepairCommitments.SigningBytes(s.Seen[i].Digest), s.SeenSignatures[i]))
                    equivocators.Add(broadcaster);
                else liars.Add(s.Helper);
            }
        if (liars.Count > 0)
            throw new ProtocolException(Fault.TranscriptMismatch, $"helper(s) {string.Join(", ", liars)} report broadcasts that their broadcasters did not sign", liars.ToArray());
        if (equivocators.Count > 0)
            throw new ProtocolException(Fault.Equivocation, $"helper(s) {string.Join(", ", equivocators)} signed different commitments for different parties", equivocators.ToArray());
        if (unresolved.Count > 0)
            throw new ProtocolException(Fault.Equivocation, $"helpers saw different broadcasts ({string.Join("; ", unresolved)}); without recorded member identities no one can be named");
    }
}
