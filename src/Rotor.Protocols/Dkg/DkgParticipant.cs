using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Dkg;

/// <summary>
/// One member's side of the distributed key generation (FROST KeyGen: Pedersen's DKG with Feldman commitments
/// and proofs of knowledge, plus a broadcast-consistency round). Sans-I/O: each step takes the packages of the
/// previous round and returns the next state and the packages to send. States are immutable; a step that throws
/// leaves the state it was called on usable and releases nothing.
/// <code>
/// var (s1, p1) = DkgParticipant.Start(session, me);          // broadcast p1
/// var (s2, p2) = s1.ReceiveRound1(othersRound1);             // send p2[ℓ] privately to ℓ
/// var (s3, p3) = s2.ReceiveRound2(sharesForMe);              // broadcast p3
/// KeyShare key  = s3.Finish(othersConfirmations);
/// </code>
/// </summary>
public static class DkgParticipant
{
    /// <summary>
    /// Round 1: samples a random polynomial of degree t−1 (t = the session's threshold) and returns the state to
    /// keep (secret) and the package to broadcast to every other member.
    /// </summary>
    public static (DkgRound1State State, Round1Package Package) Start(SessionId session, Identifier me)
    {
        DkgSteps.CheckSession(session, me);
        var group = session.Scheme.Group();
        return Start(session, me, Polynomial.Random(group.RandomScalar(), session.NewThreshold - 1), group.RandomScalar());
    }

    /// <summary>Deterministic round 1 with the given polynomial and proof nonce: for test vectors only.</summary>
    internal static (DkgRound1State State, Round1Package Package) Start(SessionId session, Identifier me, Polynomial polynomial, Scalar proofNonce)
    {
        DkgSteps.CheckSession(session, me);
        if (polynomial.Degree != session.NewThreshold - 1 || !ReferenceEquals(polynomial.Group, me.Group))
            throw new ProtocolException(Fault.InvalidUsage, $"the polynomial must have degree {session.NewThreshold - 1} over {me.Group.Name}");
        var suite = session.Scheme.DkgCiphersuite();
        var package = DkgSteps.Commit(suite, session, me, polynomial, proofNonce);
        return (new DkgRound1State(session, me, suite, polynomial, package), package);
    }
}

/// <summary>A member's DKG state after round 1: holds its secret polynomial. Secret; never printed.</summary>
public sealed class DkgRound1State
{
    private readonly Ciphersuite suite;
    private readonly Polynomial polynomial;

    internal DkgRound1State(SessionId session, Identifier me, Ciphersuite suite, Polynomial polynomial, Round1Package own)
    {
        Session = session;
        Me = me;
        this.suite = suite;
        this.polynomial = polynomial;
        Package = own;
    }

    public SessionId Session { get; }
    public Identifier Me { get; }

    /// <summary>This member's own round-1 package (what it broadcast).</summary>
    public Round1Package Package { get; }

    /// <summary>
    /// Part 2: checks the round-1 packages of every other member (session, sender, shape, proof of knowledge) and
    /// returns the shares to send, one per other member, keyed by recipient.
    /// </summary>
    public (DkgRound2State State, IReadOnlyDictionary<Identifier, Round2Package> Packages) ReceiveRound1(IEnumerable<Round1Package> packages)
    {
        var received = DkgSteps.Collect(Session, Me, packages, "round-1 package");
        DkgSteps.CheckCommitmentShapes(Session, received);
        DkgSteps.VerifyProofs(suite, received);
        received[Me] = Package;
        var state = new DkgRound2State(Session, Me, polynomial.Evaluate(Me),
            received.ToDictionary(p => p.Key, p => p.Value.Commitment), DkgSteps.Digests(Session, received));
        return (state, DkgSteps.Shares(Session, Me, polynomial));
    }

    public override string ToString() => $"DkgRound1State({Session}, member {Me})";
}

/// <summary>A member's DKG state after round 2: holds its own sub-share f_me(me) and every verified commitment. Secret; never printed.</summary>
public sealed class DkgRound2State
{
    private readonly Scalar ownShare;
    private readonly Dictionary<Identifier, FeldmanCommitment> commitments;
    private readonly byte[][] digests;

    internal DkgRound2State(SessionId session, Identifier me, Scalar ownShare, Dictionary<Identifier, FeldmanCommitment> commitments, byte[][] digests)
    {
        Session = session;
        Me = me;
        this.ownShare = ownShare;
        this.commitments = commitments;
        this.digests = digests;
    }

    public SessionId Session { get; }
    public Identifier Me { get; }

    /// <summary>
    /// Part 3: checks the shares every other member sent (session, sender, recipient, consistency with the
    /// dealer's commitment), computes this member's key share and the public key package, and returns the
    /// confirmation to broadcast. The key share is held back until <see cref="DkgConfirmationState.Finish"/>.
    /// </summary>
    public (DkgConfirmationState State, Confirmation Confirmation) ReceiveRound2(IEnumerable<Round2Package> packages)
    {
        var received = DkgSteps.Collect(Session, Me, packages, "round-2 package");
        DkgSteps.CheckRecipients(Me, received);
        var key = DkgSteps.Combine(Session, Me, ownShare, commitments, received);
        return (new DkgConfirmationState(Session, Me, key, digests), new Confirmation(Session.Digest, Me, digests));
    }

    public override string ToString() => $"DkgRound2State({Session}, member {Me})";
}

/// <summary>A member's DKG state awaiting confirmations: holds the pending key share. Secret; never printed.</summary>
public sealed class DkgConfirmationState
{
    private readonly KeyShare pending;
    private readonly byte[][] digests;

    internal DkgConfirmationState(SessionId session, Identifier me, KeyShare pending, byte[][] digests)
    {
        Session = session;
        Me = me;
        this.pending = pending;
        this.digests = digests;
    }

    public SessionId Session { get; }
    public Identifier Me { get; }

    /// <summary>
    /// Releases the key share once every other member has confirmed the same round-1 packages as this member;
    /// otherwise throws (<see cref="Fault.Equivocation"/> or <see cref="Fault.TranscriptMismatch"/>) and no key exists.
    /// </summary>
    public KeyShare Finish(IEnumerable<Confirmation> confirmations)
    {
        var received = DkgSteps.Collect(Session, Me, confirmations, "confirmation");
        DkgSteps.CheckConfirmations(Session, Me, digests, received);
        return pending;
    }

    public override string ToString() => $"DkgConfirmationState({Session}, member {Me})";
}
