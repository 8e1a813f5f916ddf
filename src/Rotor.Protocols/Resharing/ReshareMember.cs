using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Resharing;

/// <summary>Everything one new member received for one key of a reshare event: every dealer's commitment and its sub-share.</summary>
public sealed record ReshareInbox(ResharePlan Plan, IReadOnlyList<ReshareCommitment> Commitments, IReadOnlyList<ReshareSubShare> SubShares);

/// <summary>A new member's result for a reshare event: pending new shares (event order) and the confirmation to sign and send.</summary>
public sealed record ReshareOutput(ReshareEvent Event, IReadOnlyList<PendingKeyShare> Shares, ReshareConfirmation Confirmation);

/// <summary>
/// The new member's side of a reshare (round 2). For every key of the event it checks each dealer's constant
/// term (C_i0 = λ_i·Y_i, so no dealer can shift the key) and the sum of its sub-shares against the sum of the
/// commitments, all keys in one randomized batch; when anything fails it checks each dealer alone on the keys
/// concerned to name the culprits. Then s'_j = Σ_i f_i(x_j), the new
/// package comes from the aggregate commitment (Y unchanged; every member's new verification share), and
/// the member confirms the event's transcript. Nothing of the member's old state is touched.
/// </summary>
public static class ReshareMember
{
    /// <summary>One key: see <see cref="Receive(Identifier, IReadOnlyList{ReshareInbox})"/>.</summary>
    public static ReshareOutput Receive(ResharePlan plan, Identifier me, IReadOnlyList<ReshareCommitment> commitments, IReadOnlyList<ReshareSubShare> subShares) =>
        Receive(me, [new ReshareInbox(plan, commitments, subShares)]);

    /// <summary>
    /// Verifies and combines what this member received for every key of one event. Refuses, naming the dealers
    /// to blame: a message of another plan (<see cref="Fault.WrongSession"/>), from a non-dealer
    /// (<see cref="Fault.UnexpectedSender"/>), twice from one dealer (<see cref="Fault.DuplicateMessage"/>), a
    /// commitment of the wrong length (<see cref="Fault.MalformedMessage"/>), a missing message
    /// (<see cref="Fault.InvalidUsage"/>), a constant term other than λ_i·Y_i (<see cref="Fault.InvalidConstantTerm"/>)
    /// and a sub-share off its commitment (<see cref="Fault.InvalidShare"/>).
    /// </summary>
    public static ReshareOutput Receive(Identifier me, IReadOnlyList<ReshareInbox> inboxes)
    {
        var ev = ReshareEvent.Create(inboxes.Select(i => i.Plan).ToArray());
        if (!ev.NewMembers.Contains(me)) throw new ProtocolException(Fault.InvalidUsage, $"{me} is not a new member of {ev}");
        var byPlan = inboxes.ToDictionary(i => i.Plan);
        var received = ev.Plans.Select(p => Collect(p, me, byPlan[p])).ToArray();
        Verify(ev, me, received);
        var transcript = Confirm(ev, me, received);
        var shares = received.Select(r => new PendingKeyShare(NewShare(r, me), r.Plan, ev.Digest, transcript.TranscriptHash)).ToArray();
        return new ReshareOutput(ev, shares, transcript);
    }

    /// <summary>One key's messages, checked for shape and ordered like the plan's dealers.</summary>
    private sealed record Received(ResharePlan Plan, ReshareCommitment[] Commitments, Scalar[] SubShares, FeldmanCommitment Aggregate, Scalar Sum);

    /// <summary>A dealer's failed check on one key (its index in the event).</summary>
    private readonly record struct Check(int Key, Identifier Dealer);

    /// <summary>Matches every message to its dealer, checking plan, sender, recipient, length and completeness.</summary>
    private static Received Collect(ResharePlan plan, Identifier me, ReshareInbox inbox)
    {
        var dealers = plan.Dealers;
        var cs = new ReshareCommitment?[dealers.Count];
        var subs = new Scalar?[dealers.Count];
        foreach (var c in inbox.Commitments)
        {
            int i = Slot(plan, c.PlanDigest, c.Dealer, "commitment");
            if (cs[i] is not null) throw new ProtocolException(Fault.DuplicateMessage, $"dealer {c.Dealer} sent two commitments for key {plan.KeyId}", c.Dealer);
            if (c.Commitment.Threshold != plan.NewThreshold || !ReferenceEquals(c.Commitment.Group, plan.Group))
                throw new ProtocolException(Fault.MalformedMessage,
                    $"dealer {c.Dealer}'s commitment for key {plan.KeyId} has {c.Commitment.Threshold} {c.Commitment.Group.Name} coefficients, expected {plan.NewThreshold} {plan.Group.Name}", c.Dealer);
            cs[i] = c;
        }
        foreach (var s in inbox.SubShares)
        {
            int i = Slot(plan, s.PlanDigest, s.Dealer, "sub-share");
            if (s.Recipient != me) throw new ProtocolException(Fault.InvalidUsage, $"dealer {s.Dealer}'s sub-share for key {plan.KeyId} is addressed to {s.Recipient}, not {me}");
            if (subs[i] is not null) throw new ProtocolException(Fault.DuplicateMessage, $"dealer {s.Dealer} sent two sub-shares for key {plan.KeyId}", s.Dealer);
            if (!ReferenceEquals(s.Value.Group, plan.Group)) throw new ProtocolException(Fault.MalformedMessage, $"dealer {s.Dealer}'s sub-share is not a {plan.Group.Name} scalar", s.Dealer);
            subs[i] = s.Value;
        }
        var missing = dealers.Where((d, i) => cs[i] is null || subs[i] is null).ToArray();
        if (missing.Length > 0)
            throw new ProtocolException(Fault.InvalidUsage, $"no commitment or sub-share for key {plan.KeyId} from dealer(s) {string.Join(", ", missing)}", missing);
        var commitments = cs.Select(c => c!).ToArray();
        var values = subs.Select(s => s!.Value).ToArray();
        return new Received(plan, commitments, values, FeldmanCommitment.Sum(commitments.Select(c => c.Commitment).ToArray()), Sum(plan.Group, values));
    }

    private static int Slot(ResharePlan plan, byte[] planDigest, Identifier dealer, string what)
    {
        if (!CryptographicOperations.FixedTimeEquals(planDigest, plan.Digest))
            throw new ProtocolException(Fault.WrongSession, $"dealer {dealer}'s {what} belongs to another session, epoch or dealer set than {plan}", dealer);
        if (!plan.TryIndexOf(dealer, out int i))
            throw new ProtocolException(Fault.UnexpectedSender, $"{what} from {dealer}, who is not a dealer of {plan}", dealer);
        return i;
    }

    /// <summary>
    /// One batch over every key: Σ_i f_i(x_j)·G = C(x_j) for C = Σ_i C_i, and C_i0 = λ_i·Y_i for every dealer but
    /// the last, whose equality follows from the others' once Σ_i C_i0 = Y, which is checked exactly (it costs
    /// additions only, as C is needed anyway). When anything fails, every dealer's constant term and then its own
    /// sub-share are checked alone on the keys concerned, to name the culprits.
    /// </summary>
    private static void Verify(ReshareEvent ev, Identifier me, Received[] received)
    {
        var batch = new FeldmanBatch<int>(ev.Plans[0].Group);
        var suspects = new List<int>();
        for (int k = 0; k < received.Length; k++)
        {
            var r = received[k];
            batch.AddShare(k, r.Aggregate, me.Scalar, r.Sum);
            if (!r.Aggregate.ConstantTerm.Equals(r.Plan.Current.GroupPublicKey))
            {
                suspects.Add(k);
                continue;
            }
            for (int i = 0; i < r.Commitments.Length - 1; i++)
            {
                var dealer = r.Plan.Dealers[i];
                batch.AddEquality(k, r.Commitments[i].Commitment.ConstantTerm, r.Plan.Weight(dealer), r.Plan.Current.VerifyingShare(dealer));
            }
        }
        var failed = batch.Verify();
        if (failed.Count == 0 && suspects.Count == 0) return;
        var keys = failed.Concat(suspects).Distinct().Order().ToArray();
        var badConstant = keys.SelectMany(k => ConstantTermCulprits(received[k]).Select(d => new Check(k, d))).ToArray();
        if (badConstant.Length > 0)
            throw Blame(Fault.InvalidConstantTerm, "constant term is not λ_i·Y_i", received, badConstant);
        var badShares = keys.SelectMany(k => SubShareCulprits(received[k], me).Select(d => new Check(k, d))).ToArray();
        throw Blame(Fault.InvalidShare, "sub-share does not match its commitment", received, badShares);
    }

    private static IEnumerable<Identifier> ConstantTermCulprits(Received r) =>
        r.Plan.Dealers.Where((d, i) => !r.Commitments[i].Commitment.ConstantTerm.Equals(r.Plan.Current.VerifyingShare(d) * r.Plan.Weight(d)));

    private static IEnumerable<Identifier> SubShareCulprits(Received r, Identifier me) =>
        r.Plan.Dealers.Where((d, i) => !r.Commitments[i].Commitment.Verify(me, r.SubShares[i]));

    private static ProtocolException Blame(Fault fault, string what, Received[] received, Check[] bad)
    {
        var dealers = bad.Select(b => b.Dealer).Distinct().Order().ToArray();
        var keys = bad.Select(b => received[b.Key].Plan.KeyId).Distinct().Take(5).ToArray();
        int more = bad.Select(b => b.Key).Distinct().Count() - keys.Length;
        return new ProtocolException(fault,
            $"dealer(s) {string.Join(", ", dealers)}: {what} (key {string.Join(", ", keys)}{(more > 0 ? $" and {more} more" : "")})", dealers);
    }

    /// <summary>Per dealer (ascending), SHA-512 over its commitment messages in event order.</summary>
    private static ReshareConfirmation Confirm(ReshareEvent ev, Identifier me, Received[] received)
    {
        var messages = new SortedDictionary<Identifier, List<byte[]>>();
        foreach (var r in received)
            for (int i = 0; i < r.Commitments.Length; i++)
            {
                var d = r.Plan.Dealers[i];
                if (!messages.TryGetValue(d, out var list)) messages.Add(d, list = []);
                list.Add(r.Commitments[i].ToBytes());
            }
        var groupKeys = ReshareConfirmation.GroupKeysDigest(received.Select(r => (r.Plan.KeyId, r.Aggregate.ConstantTerm)));
        var aggregate = ReshareConfirmation.AggregateCommitmentsDigest(received.Select(r => (r.Plan.KeyId, r.Aggregate)));
        return new ReshareConfirmation(ev.Digest, me, groupKeys, aggregate, messages.Select(kv => new DealerDigest(kv.Key, Sha512(kv.Value))).ToArray());

        static byte[] Sha512(List<byte[]> parts)
        {
            if (parts.Count == 1) return SHA512.HashData(parts[0]);
            var all = new byte[parts.Sum(p => p.Length)];
            int at = 0;
            foreach (var p in parts) { p.CopyTo(all, at); at += p.Length; }
            return SHA512.HashData(all);
        }
    }

    /// <summary>The new epoch's package from the aggregate commitment (whose constant term Verify found equal to Y) and this member's new share.</summary>
    private static KeyShare NewShare(Received r, Identifier me)
    {
        var plan = r.Plan;
        var pub = PublicKeyPackage.FromCommitment(plan.KeyId, plan.Scheme, plan.NewEpoch, plan.NewMembers, r.Aggregate, plan.Session.NewMemberKeys)
            .WithHdRootOf(plan.Current); // the chain code (and bip340 internal key) is the key's, unchanged by a reshare
        return KeyShare.FromVerified(pub, me, r.Sum);
    }

    private static Scalar Sum(Group g, Scalar[] values)
    {
        var acc = g.Zero;
        foreach (var v in values) acc += v;
        return acc;
    }
}
