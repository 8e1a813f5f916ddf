using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Crypto.Signatures;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Dkg;

/// <summary>
/// The DKG's steps as small pure functions; <see cref="DkgParticipant"/> and the state types only sequence them.
/// Every check throws <see cref="ProtocolException"/> naming the members to blame.
/// </summary>
internal static class DkgSteps
{
    /// <summary>Checks that the session is a DKG session this member takes part in.</summary>
    public static void CheckSession(SessionId session, Identifier me)
    {
        if (session.Protocol != SessionProtocol.Dkg || session.OldMembers.Count != 0 || session.NewEpoch != 0)
            throw new ProtocolException(Fault.InvalidUsage, $"session {session} is not a DKG session");
        if (!ReferenceEquals(me.Group, session.Scheme.Group()) || !session.NewMembers.Contains(me))
            throw new ProtocolException(Fault.InvalidUsage, $"{me} is not a member of session {session}");
    }

    /// <summary>Round 1: commit to the polynomial and prove knowledge of its constant term.</summary>
    public static Round1Package Commit(Ciphersuite suite, SessionId session, Identifier me, Polynomial f, Scalar proofNonce)
    {
        var commitment = f.Commit();
        var proof = ProofOfKnowledge.Prove(suite, me, f.Coefficients[0], commitment.ConstantTerm, proofNonce);
        return new Round1Package(session.Digest, me, commitment, proof);
    }

    /// <summary>
    /// Indexes one round's packages by sender after checking each one's session (<see cref="Fault.WrongSession"/>),
    /// that its sender is another member (<see cref="Fault.UnexpectedSender"/>) and sent only once
    /// (<see cref="Fault.DuplicateMessage"/>), and that every other member sent one (<see cref="Fault.InvalidUsage"/>).
    /// </summary>
    public static Dictionary<Identifier, T> Collect<T>(SessionId session, Identifier me, IEnumerable<T> packages, string what)
        where T : IDkgPackage
    {
        var bySender = new Dictionary<Identifier, T>();
        List<Identifier> wrongSession = [], unexpected = [], duplicate = [];
        foreach (var p in packages)
        {
            if (!session.Matches(p.Session)) wrongSession.Add(p.Sender);
            else if (p.Sender == me || !session.NewMembers.Contains(p.Sender)) unexpected.Add(p.Sender);
            else if (!bySender.TryAdd(p.Sender, p)) duplicate.Add(p.Sender);
        }
        if (wrongSession.Count > 0)
            throw new ProtocolException(Fault.WrongSession, $"{what} from another session", Distinct(wrongSession));
        if (unexpected.Count > 0)
            throw new ProtocolException(Fault.UnexpectedSender, $"{what} from a party that is not another member of session {session}", Distinct(unexpected));
        if (duplicate.Count > 0)
            throw new ProtocolException(Fault.DuplicateMessage, $"more than one {what} from the same member", Distinct(duplicate));
        var missing = session.NewMembers.Where(m => m != me && !bySender.ContainsKey(m)).ToArray();
        if (missing.Length > 0)
            throw new ProtocolException(Fault.InvalidUsage, $"no {what} yet from {string.Join(", ", missing)}: pass one from every other member");
        return bySender;
    }

    /// <summary>Every commitment must be t points of the session's group.</summary>
    public static void CheckCommitmentShapes(SessionId session, IReadOnlyDictionary<Identifier, Round1Package> received)
    {
        var group = session.Scheme.Group();
        var bad = received.Values
            .Where(p => !ReferenceEquals(p.Commitment.Group, group) || !ReferenceEquals(p.Proof.Group, group) || p.Commitment.Threshold != session.NewThreshold)
            .Select(p => p.Sender).Order().ToArray();
        if (bad.Length > 0)
            throw new ProtocolException(Fault.MalformedMessage, $"commitment is not {session.NewThreshold} {group.Name} points", bad);
    }

    /// <summary>Verifies every dealer's proof of knowledge in one batch; names each dealer whose proof fails.</summary>
    public static void VerifyProofs(Ciphersuite suite, IReadOnlyDictionary<Identifier, Round1Package> received)
    {
        var batch = new FeldmanBatch<Identifier>(suite.Group);
        foreach (var p in received.Values) p.Proof.AddTo(batch, suite, p.Sender, p.Commitment.ConstantTerm);
        var bad = batch.Verify();
        if (bad.Count > 0)
            throw new ProtocolException(Fault.InvalidProof, "proof of knowledge of the constant term does not verify", bad.Order().ToArray());
    }

    /// <summary>Round 2: f(ℓ) for every other member ℓ.</summary>
    public static Dictionary<Identifier, Round2Package> Shares(SessionId session, Identifier me, Polynomial f) =>
        session.NewMembers.Where(m => m != me)
            .ToDictionary(m => m, m => new Round2Package(session.Digest, me, m, f.Evaluate(m)));

    /// <summary>Every share received must be addressed to this member.</summary>
    public static void CheckRecipients(Identifier me, IReadOnlyDictionary<Identifier, Round2Package> received)
    {
        var bad = received.Values.Where(p => p.Recipient != me).Select(p => p.Sender).Order().ToArray();
        if (bad.Length > 0)
            throw new ProtocolException(Fault.MalformedMessage, $"round-2 package addressed to another member than {me}", bad);
    }

    /// <summary>
    /// Part 3: the key share is the sum of all sub-shares; the public package is the one the sum of all
    /// commitments defines (computed once: Y = C(0), Y_j = C(x_j)). The summed share is checked against this
    /// member's verification share with one base multiplication, which is sound for the result: it holds exactly
    /// when the share fits the public package. Only when it fails is every sub-share checked (one batch) to name
    /// the dealers at fault.
    /// </summary>
    public static KeyShare Combine(SessionId session, Identifier me, Scalar ownShare,
        IReadOnlyDictionary<Identifier, FeldmanCommitment> commitments, IReadOnlyDictionary<Identifier, Round2Package> received)
    {
        var group = session.Scheme.Group();
        var aggregate = FeldmanCommitment.Sum(session.NewMembers.Select(m => commitments[m]).ToArray());
        var share = ownShare;
        foreach (var p in received.Values) share += p.Share;
        // HD root data: the chain code hashes the session and every commitment (all fixed and, after the
        // confirmation round, agreed by every member); bip340 keeps the internal key P (even y) before the tweak.
        var chainCode = Keys.Hd.HdDerivation.ChainCodeFromTranscript(session.Digest,
            session.NewMembers.Select(m => (ReadOnlyMemory<byte>)commitments[m].ToBytes()));
        Element? internalKey = null;
        if (session.Scheme == Scheme.Bip340)
        {
            var p0 = aggregate.ConstantTerm;
            internalKey = Bip340.HasEvenY(p0) ? p0 : -p0;
            (aggregate, share) = TaprootTweak(aggregate, share);
        }
        PublicKeyPackage pub;
        try
        {
            pub = PublicKeyPackage.FromCommitment(session.KeyId, session.Scheme, session.NewEpoch, session.NewMembers, aggregate, session.NewMemberKeys)
                .WithHdRoot(chainCode, internalKey);
        }
        catch (ArgumentException e)
        {
            throw new ProtocolException(Fault.InvalidResult, $"the summed commitments define no valid key: {e.Message}");
        }
        if (!group.MulBase(share).Equals(pub.VerifyingShare(me)))
        {
            var batch = new FeldmanBatch<Identifier>(group);
            foreach (var p in received.Values) batch.AddShare(p.Sender, commitments[p.Sender], me.Scalar, p.Share);
            throw new ProtocolException(Fault.InvalidShare, "secret share does not match its dealer's commitment", batch.Verify().Order().ToArray());
        }
        return KeyShare.Create(pub, me, share);
    }

    /// <summary>
    /// BIP-340 keys from a DKG commit to an unspendable script path (BIP-341; frost-secp256k1-tr's post_dkg), so
    /// no member can have slipped a hidden script into the joint key: with P = C₀ and P̃ = ±P the one with even y,
    /// the key is Q = P̃ + t·G, t = int(hash_TapTweak(x(P))). Being affine, the map applies to the whole sharing:
    /// C′ = (±C₀ + t·G, ±C₁, …) and s′ = ±s + t.
    /// </summary>
    public static (FeldmanCommitment Commitment, Scalar Share) TaprootTweak(FeldmanCommitment commitment, Scalar share)
    {
        var group = commitment.Group;
        var t = group.ReduceWide(Bip340.TaggedHash("TapTweak", Bip340.XOnly(commitment.ConstantTerm)));
        bool negate = !Bip340.HasEvenY(commitment.ConstantTerm);
        var c = commitment.Coefficients.Select(e => negate ? -e : e).ToArray();
        c[0] += group.MulBase(t);
        return (new FeldmanCommitment(c), (negate ? -share : share) + t);
    }

    /// <summary>Digest of every member's round-1 package, in the session's member order.</summary>
    public static byte[][] Digests(SessionId session, IReadOnlyDictionary<Identifier, Round1Package> all) =>
        session.NewMembers.Select(m => all[m].Digest()).ToArray();

    /// <summary>
    /// Compares every member's confirmed digests with this member's own. A member whose confirmed digest of its
    /// own package differs from the package it sent here equivocated (<see cref="Fault.Equivocation"/>, blamed);
    /// a member that misreports this member's package is blamed (<see cref="Fault.TranscriptMismatch"/>); any other
    /// disagreement about a dealer's package means that the dealer equivocated or the reporter lies, which one
    /// cannot tell, so it is reported without blame.
    /// </summary>
    public static void CheckConfirmations(SessionId session, Identifier me, byte[][] mine, IReadOnlyDictionary<Identifier, Confirmation> received)
    {
        var members = session.NewMembers;
        var badCount = received.Values.Where(c => c.Count != members.Count).Select(c => c.Sender).Order().ToArray();
        if (badCount.Length > 0)
            throw new ProtocolException(Fault.MalformedMessage, $"confirmation does not hold {members.Count} digests", badCount);
        var equivocators = new SortedSet<Identifier>();
        var misreporters = new SortedSet<Identifier>();
        var disputes = new SortedDictionary<Identifier, SortedSet<Identifier>>();
        foreach (var (j, c) in received)
            for (int k = 0; k < members.Count; k++)
            {
                if (c.DigestAt(k).SequenceEqual(mine[k])) continue;
                var dealer = members[k];
                if (dealer == j) equivocators.Add(j);
                else if (dealer == me) misreporters.Add(j);
                else
                {
                    if (!disputes.TryGetValue(dealer, out var reporters)) disputes[dealer] = reporters = [];
                    reporters.Add(j);
                }
            }
        if (equivocators.Count + misreporters.Count + disputes.Count == 0) return;
        var parts = new List<string>();
        if (equivocators.Count > 0) parts.Add($"{string.Join(", ", equivocators)} sent this member a round-1 package other than the one they confirm");
        if (misreporters.Count > 0) parts.Add($"{string.Join(", ", misreporters)} confirm a round-1 package of {me} that {me} did not send");
        foreach (var (dealer, reporters) in disputes)
            parts.Add($"{string.Join(", ", reporters)} received another round-1 package from {dealer} than this member did (either {dealer} equivocated or they misreport)");
        throw new ProtocolException(equivocators.Count > 0 ? Fault.Equivocation : Fault.TranscriptMismatch,
            "members disagree on the round-1 broadcast: " + string.Join("; ", parts), equivocators.Union(misreporters).Order().ToArray());
    }

    private static Identifier[] Distinct(IEnumerable<Identifier> ids) => ids.Distinct().Order().ToArray();
}
