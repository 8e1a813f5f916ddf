using System.Security.Cryptography;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// Proof that a reshare event may be committed: a signed confirmation from every new member, each under that
/// member's Ed25519 identity key, all for the event and all with the same transcript hash. Only
/// <see cref="Verify"/> makes one, so holding a certificate means it was checked.
/// </summary>
public sealed class ReshareCertificate
{
    private ReshareCertificate(ReshareEvent ev, byte[] transcriptHash, IReadOnlyList<SignedReshareConfirmation> confirmations)
    {
        Event = ev;
        TranscriptHash = transcriptHash;
        Confirmations = confirmations;
    }

    public ReshareEvent Event { get; }

    /// <summary>The transcript hash every new member confirmed.</summary>
    public byte[] TranscriptHash { get; }

    /// <summary>
    /// The new group keys every confirming member computed (<see cref="ReshareConfirmation.GroupKeys"/>; one value, since
    /// the transcript hash binds it). A holder of the old epoch checks it equals
    /// <see cref="ReshareConfirmation.GroupKeysDigest"/> of its own group keys before erasing (<see cref="KeepsGroupKeys"/>).
    /// </summary>
    public byte[] GroupKeys => Confirmations[0].Confirmation.GroupKeys;

    /// <summary>Whether the certified event keeps every key's group key as in the old packages given (in event order).</summary>
    public bool KeepsGroupKeys(IEnumerable<Rotor.Protocols.Keys.PublicKeyPackage> oldPackages) =>
        CryptographicOperations.FixedTimeEquals(GroupKeys, ReshareConfirmation.GroupKeysDigest(oldPackages.Select(p => (p.KeyId, p.GroupPublicKey))));

    /// <summary>One per confirming new member, in member order (every new member unless some were allowed to be absent).</summary>
    public IReadOnlyList<SignedReshareConfirmation> Confirmations { get; }

    /// <summary>
    /// The commit check. Refuses, naming the culprits: a confirmation from a non-member
    /// (<see cref="Fault.UnexpectedSender"/>), two from one member (<see cref="Fault.DuplicateMessage"/>), one of
    /// another event (<see cref="Fault.WrongSession"/>), a signature that does not verify under the member's
    /// identity key (<see cref="Fault.InvalidProof"/>), a missing member or identity key (<see cref="Fault.InvalidUsage"/>),
    /// a member that lists other dealers than the event's (<see cref="Fault.TranscriptMismatch"/>), and members
    /// that saw different commitments from a dealer (<see cref="Fault.Equivocation"/> naming that dealer).
    /// </summary>
    /// <param name="identityKeys">Each new member's node identity (its Ed25519 key signs the confirmation).</param>
    /// <param name="mayBeAbsent">
    /// New members allowed to be missing (offline at the commit; they verify their sub-shares against this
    /// certificate's transcript when they return, or are repaired). The members that did confirm must still number
    /// at least the new threshold, else (<see cref="Fault.InvalidUsage"/>) the new epoch could neither sign nor repair.
    /// </param>
    public static ReshareCertificate Verify(ReshareEvent ev, IEnumerable<SignedReshareConfirmation> confirmations,
        IReadOnlyDictionary<Identifier, IdentityKeys> identityKeys, IReadOnlyCollection<Identifier>? mayBeAbsent = null)
    {
        var byMember = new SortedDictionary<Identifier, SignedReshareConfirmation>();
        foreach (var sc in confirmations)
        {
            var c = sc.Confirmation;
            var m = c.Member;
            if (!ev.NewMembers.Contains(m))
                throw new ProtocolException(Fault.UnexpectedSender, $"confirmation from {m}, who is not a new member of {ev}", m);
            if (byMember.ContainsKey(m))
                throw new ProtocolException(Fault.DuplicateMessage, $"member {m} sent two confirmations", m);
            if (!CryptographicOperations.FixedTimeEquals(c.EventDigest, ev.Digest))
                throw new ProtocolException(Fault.WrongSession, $"member {m}'s confirmation is for another reshare event than {ev}", m);
            CheckSignature(sc, identityKeys);
            byMember.Add(m, sc);
        }
        var missing = ev.NewMembers.Where(m => !byMember.ContainsKey(m) && mayBeAbsent?.Contains(m) != true).ToArray();
        if (missing.Length > 0)
            throw new ProtocolException(Fault.InvalidUsage, $"no confirmation from new member(s) {string.Join(", ", missing)}", missing);
        var threshold = ev.NewThreshold;
        if (byMember.Count < threshold)
            throw new ProtocolException(Fault.InvalidUsage, $"{byMember.Count} new members confirmed, fewer than the new threshold {threshold}");
        var all = byMember.Values.ToArray();
        CheckDealerSets(ev, all);
        CheckSameCommitments(all);
        return new ReshareCertificate(ev, all[0].Confirmation.TranscriptHash, all);
    }

    public override string ToString() => $"ReshareCertificate({Event}, {Confirmations.Count} confirmations, transcript {Convert.ToHexStringLower(TranscriptHash.AsSpan(0, 8))})";

    private static void CheckSignature(SignedReshareConfirmation sc, IReadOnlyDictionary<Identifier, IdentityKeys> identityKeys)
    {
        var m = sc.Confirmation.Member;
        if (!identityKeys.TryGetValue(m, out var keys))
            throw new ProtocolException(Fault.InvalidUsage, $"no identity key for new member {m}");
        if (!keys.Verify(sc.Confirmation.SigningBytes(), sc.Signature))
            throw new ProtocolException(Fault.InvalidProof, $"member {m}'s confirmation signature does not verify under its identity key", m);
    }

    /// <summary>Every member must list exactly the event's dealers (the union of the plans' dealer sets).</summary>
    private static void CheckDealerSets(ReshareEvent ev, SignedReshareConfirmation[] all)
    {
        var expected = ev.Plans.SelectMany(p => p.Dealers).Distinct().Order().ToArray();
        var wrong = all.Where(sc => !sc.Confirmation.DealerDigests.Select(d => d.Dealer).SequenceEqual(expected))
                       .Select(sc => sc.Confirmation.Member).ToArray();
        if (wrong.Length > 0)
            throw new ProtocolException(Fault.TranscriptMismatch, $"member(s) {string.Join(", ", wrong)} confirmed another dealer set than the event's", wrong);
    }

    /// <summary>Dealers whose commitment digests differ between members sent different commitments to different members.</summary>
    private static void CheckSameCommitments(SignedReshareConfirmation[] all)
    {
        var first = all[0].Confirmation;
        if (all.All(sc => CryptographicOperations.FixedTimeEquals(sc.Confirmation.TranscriptHash, first.TranscriptHash))) return;
        var culprits = new List<Identifier>();
        var detail = new List<string>();
        for (int k = 0; k < first.DealerDigests.Count; k++)
        {
            var groups = all.GroupBy(sc => Convert.ToHexString(sc.Confirmation.DealerDigests[k].Digest)).ToArray();
            if (groups.Length == 1) continue;
            var dealer = first.DealerDigests[k].Dealer;
            culprits.Add(dealer);
            detail.Add($"dealer {dealer}: " + string.Join(" vs ", groups.Select(g => "{" + string.Join(",", g.Select(sc => sc.Confirmation.Member)) + "}")));
        }
        throw new ProtocolException(Fault.Equivocation,
            $"new members saw different commitments ({string.Join("; ", detail)})", culprits.ToArray());
    }
}
