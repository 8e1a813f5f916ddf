using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Resharing;

namespace Rotor.Protocols.Repair;

/// <summary>
/// The steps of the repairable threshold scheme (eprint 2017/1155, as ZcashFoundation/frost's repairable
/// module numbers them), as pure functions, and the checks both helpers and the target make on round-1 broadcasts.
/// </summary>
internal static class RepairSteps
{
    /// <summary>Step 1: splits ζ_i·s_i into <paramref name="count"/> random additive pieces δ_{i→j}.</summary>
    public static Scalar[] Deltas(Scalar weight, Scalar signingShare, int count)
    {
        var g = weight.Group;
        var deltas = new Scalar[count];
        var rest = weight * signingShare;
        for (int j = 0; j < count - 1; j++)
        {
            deltas[j] = g.RandomScalar();
            rest -= deltas[j];
        }
        deltas[count - 1] = rest;
        return deltas;
    }

    /// <summary>Step 2: σ_j = Σ_i δ_{i→j}.</summary>
    public static Scalar Sigma(Group g, IEnumerable<Scalar> deltas) => Sum(g, deltas);

    /// <summary>Step 3: the rebuilt share s_r = Σ_j σ_j.</summary>
    public static Scalar Share(Group g, IEnumerable<Scalar> sigmas) => Sum(g, sigmas);

    /// <summary>Every helper's round-1 broadcast, checked for plan, sender, length and completeness, in helper order.</summary>
    public static RepairCommitments[] Collect(RepairPlan plan, IReadOnlyList<RepairCommitments> received)
    {
        var slots = new RepairCommitments?[plan.Helpers.Count];
        foreach (var c in received)
        {
            int i = Slot(plan, c.PlanDigest, c.Helper, "commitments");
            if (slots[i] is not null) throw new ProtocolException(Fault.DuplicateMessage, $"helper {c.Helper} sent two sets of commitments", c.Helper);
            if (c.Masks.Count != plan.Helpers.Count || c.Masks.Any(m => !ReferenceEquals(m.Group, plan.Group)))
                throw new ProtocolException(Fault.MalformedMessage, $"helper {c.Helper} sent {c.Masks.Count} commitments, expected {plan.Helpers.Count} {plan.Group.Name} elements", c.Helper);
            slots[i] = c;
        }
        Complete(plan, slots, "commitments");
        return slots!;
    }

    /// <summary>The index of a message's sender among the helpers, after checking its plan digest.</summary>
    public static int Slot(RepairPlan plan, byte[] planDigest, Identifier sender, string what)
    {
        if (!CryptographicOperations.FixedTimeEquals(planDigest, plan.Digest))
            throw new ProtocolException(Fault.WrongSession, $"helper {sender}'s {what} belong to another session, epoch, target or helper set than {plan}", sender);
        if (!plan.TryIndexOf(sender, out int i))
            throw new ProtocolException(Fault.UnexpectedSender, $"{what} from {sender}, who is not a helper of {plan}", sender);
        return i;
    }

    /// <summary>Refuses when some helper's message is missing, naming the silent helpers.</summary>
    public static void Complete<T>(RepairPlan plan, T?[] slots, string what) where T : class
    {
        var missing = plan.Helpers.Where((h, i) => slots[i] is null).ToArray();
        if (missing.Length > 0)
            throw new ProtocolException(Fault.InvalidUsage, $"no {what} from helper(s) {string.Join(", ", missing)}", missing);
    }

    /// <summary>Queues Σ_j D_{i→j} = ζ_i·Y_i for every helper i: no helper can contribute anything but ζ_i·s_i.</summary>
    public static void QueueSumChecks(FeldmanBatch<(Identifier, Fault)> batch, RepairPlan plan, RepairCommitments[] commitments)
    {
        var g = plan.Group;
        for (int i = 0; i < commitments.Length; i++)
        {
            var h = plan.Helpers[i];
            batch.AddEquality((h, Fault.InvalidConstantTerm), g.Sum(commitments[i].Masks), plan.Weight(h), plan.Current.VerifyingShare(h));
        }
    }

    /// <summary>Runs the batch; names the helpers whose broadcast does not add up, else those whose own values are off.</summary>
    public static void Blame(FeldmanBatch<(Identifier Helper, Fault Fault)> batch, string shareProblem)
    {
        var failed = batch.Verify();
        if (failed.Count == 0) return;
        var fault = failed.Any(f => f.Fault == Fault.InvalidConstantTerm) ? Fault.InvalidConstantTerm : Fault.InvalidShare;
        var culprits = failed.Where(f => f.Fault == fault).Select(f => f.Helper).Distinct().Order().ToArray();
        var what = fault == Fault.InvalidConstantTerm ? "commitments do not add up to ζ_i·Y_i" : shareProblem;
        throw new ProtocolException(fault, $"helper(s) {string.Join(", ", culprits)}: {what}", culprits);
    }

    /// <summary>Per helper (ascending), SHA-512 of its commitments message.</summary>
    public static DealerDigest[] Digests(RepairPlan plan, RepairCommitments[] commitments) =>
        commitments.Select((c, i) => new DealerDigest(plan.Helpers[i], c.Digest)).ToArray();

    /// <summary>
    /// With a package that records member identities: every broadcast must be signed by its helper's recorded identity
    /// key, else <see cref="Fault.InvalidProof"/> naming those helpers (the message reached us in the helper's own
    /// authenticated envelope, so the blame is its own).
    /// </summary>
    public static void CheckSignatures(RepairPlan plan, RepairCommitments[] commitments)
    {
        if (!plan.Current.IsBound) return;
        var bad = commitments.Where(c => !c.SignedBy(plan.Current.MemberKey(c.Helper)!)).Select(c => c.Helper).ToArray();
        if (bad.Length > 0)
            throw new ProtocolException(Fault.InvalidProof, $"helper(s) {string.Join(", ", bad)}: broadcast not signed by the recorded identity key", bad);
    }

    private static Scalar Sum(Group g, IEnumerable<Scalar> values)
    {
        var acc = g.Zero;
        foreach (var v in values) acc += v;
        return acc;
    }
}
