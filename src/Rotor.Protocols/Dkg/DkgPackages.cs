using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Dkg;

/// <summary>The DKG round a package belongs to.</summary>
public enum DkgRound : byte
{
    /// <summary>Round 1, broadcast: Feldman commitment and proof of knowledge.</summary>
    Commitments = 1,
    /// <summary>Round 2, private: one secret share per recipient.</summary>
    Shares = 2,
    /// <summary>Round 3, broadcast: digests of every round-1 package received.</summary>
    Confirmation = 3,
}

/// <summary>What every DKG package carries besides its body: the session digest, the sender and the round.</summary>
public interface IDkgPackage
{
    /// <summary>The 64-byte digest of the session the package belongs to (<see cref="Sessions.SessionId.Digest"/>).</summary>
    ReadOnlySpan<byte> Session { get; }

    /// <summary>The member who sent it (as claimed; the transport authenticates it).</summary>
    Identifier Sender { get; }

    DkgRound Round { get; }
}

/// <summary>
/// Round 1, broadcast to every other member: the dealer's Feldman commitment C = (a_k·G) to its random polynomial
/// of degree t−1 and its proof of knowledge of a₀. Public. Well-formed (every point decoded), not yet verified.
/// Wire: 0x01 ‖ session (64) ‖ sender ‖ t (2 bytes, big-endian) ‖ C₀ ‖ … ‖ C_{t−1} ‖ R ‖ μ.
/// </summary>
public sealed class Round1Package : IDkgPackage
{
    private readonly byte[] session;
    private byte[]? digest;

    internal Round1Package(ReadOnlySpan<byte> session, Identifier sender, FeldmanCommitment commitment, ProofOfKnowledge proof)
    {
        if (session.Length != Wire.DigestLength) throw new ArgumentException($"session digest must be {Wire.DigestLength} bytes");
        if (commitment.Threshold > ushort.MaxValue) throw new ArgumentException("commitment too long");
        this.session = session.ToArray();
        Sender = sender;
        Commitment = commitment;
        Proof = proof;
    }

    public ReadOnlySpan<byte> Session => session;
    public Identifier Sender { get; }
    public DkgRound Round => DkgRound.Commitments;

    /// <summary>The dealer's Feldman commitment; its length is the threshold.</summary>
    public FeldmanCommitment Commitment { get; }

    /// <summary>Proof of knowledge of the discrete logarithm of <see cref="FeldmanCommitment.ConstantTerm"/>.</summary>
    public ProofOfKnowledge Proof { get; }

    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.DkgCommitments, session, Sender).Count(Commitment.Threshold);
        foreach (var c in Commitment.Coefficients) w.Element(c);
        return w.Element(Proof.R).Scalar(Proof.Mu).ToArray();
    }

    /// <summary>Decodes a package, checking every length and encoding; throws <see cref="ProtocolException"/> (<see cref="Fault.MalformedMessage"/>) naming the sender.</summary>
    /// <param name="threshold">The session's threshold when known: the commitment's length is checked against it before any point is decoded.</param>
    public static Round1Package Decode(Group group, ReadOnlySpan<byte> bytes, Identifier? from = null, int? threshold = null)
    {
        var r = new WireReader(group, "DKG round-1 package", WireType.DkgCommitments, bytes, from);
        int t = r.Count("commitment length", r.ElementLength, threshold);
        if (t == 0) throw r.Malformed("empty commitment");
        var coefficients = new Element[t];
        for (int k = 0; k < t; k++) coefficients[k] = r.Element($"commitment coefficient {k}");
        var proof = new ProofOfKnowledge(r.Element("proof R"), r.Scalar("proof μ"));
        r.End();
        return new Round1Package(r.Digest, r.Sender, new FeldmanCommitment(coefficients), proof);
    }

    /// <summary>
    /// SHA-512 transcript digest of the encoded package (session, sender, commitment, proof): what confirmations
    /// compare. Computed once.
    /// </summary>
    internal byte[] Digest()
    {
        if (digest is null)
        {
            using var t = new Transcript("rotor/dkg/round1-package/v1");
            digest = t.Append("package", ToBytes()).Digest();
        }
        return digest;
    }

    public override string ToString() => $"Round1Package(from {Sender}, t = {Commitment.Threshold})";
}

/// <summary>
/// Round 2, sent privately to one recipient: the dealer's polynomial evaluated at the recipient's identifier.
/// Secret: the services layer encrypts it end to end. Wire: 0x02 ‖ session (64) ‖ sender ‖ recipient ‖ f(recipient).
/// </summary>
public sealed class Round2Package : IDkgPackage
{
    private readonly byte[] session;

    internal Round2Package(ReadOnlySpan<byte> session, Identifier sender, Identifier recipient, Scalar share)
    {
        if (session.Length != Wire.DigestLength) throw new ArgumentException($"session digest must be {Wire.DigestLength} bytes");
        if (!ReferenceEquals(sender.Group, recipient.Group) || !ReferenceEquals(sender.Group, share.Group))
            throw new ArgumentException("values of different groups");
        this.session = session.ToArray();
        Sender = sender;
        Recipient = recipient;
        Share = share;
    }

    public ReadOnlySpan<byte> Session => session;
    public Identifier Sender { get; }
    public DkgRound Round => DkgRound.Shares;

    /// <summary>The member the share is for.</summary>
    public Identifier Recipient { get; }

    /// <summary>f_sender(recipient). Secret.</summary>
    public Scalar Share { get; }

    public byte[] ToBytes() => new WireWriter(WireType.DkgShares, session, Sender).Identifier(Recipient).Scalar(Share).ToArray();

    /// <summary>Decodes a package, checking every length and encoding; throws <see cref="ProtocolException"/> (<see cref="Fault.MalformedMessage"/>) naming the sender.</summary>
    public static Round2Package Decode(Group group, ReadOnlySpan<byte> bytes, Identifier? from = null)
    {
        var r = new WireReader(group, "DKG round-2 package", WireType.DkgShares, bytes, from);
        var recipient = r.Identifier("recipient");
        var share = r.Scalar("share");
        r.End();
        return new Round2Package(r.Digest, r.Sender, recipient, share);
    }

    /// <summary>Never prints the share.</summary>
    public override string ToString() => $"Round2Package(from {Sender} to {Recipient})";
}

/// <summary>
/// Round 3, broadcast: the sender's digest of every member's round-1 package as it received it (its own included),
/// in the session's member order. All members must confirm the same digests before the key counts, so a dealer
/// that broadcast different commitments to different members is caught. Public.
/// Wire: 0x03 ‖ session (64) ‖ sender ‖ n (2 bytes, big-endian) ‖ n × 64-byte digests.
/// </summary>
public sealed class Confirmation : IDkgPackage
{
    public const int DigestLength = Wire.DigestLength;

    private readonly byte[] session;
    private readonly byte[][] digests;

    internal Confirmation(ReadOnlySpan<byte> session, Identifier sender, IReadOnlyList<byte[]> digests)
    {
        if (session.Length != Wire.DigestLength) throw new ArgumentException($"session digest must be {Wire.DigestLength} bytes");
        if (digests.Count > ushort.MaxValue || digests.Any(d => d.Length != DigestLength)) throw new ArgumentException("bad digest list");
        this.session = session.ToArray();
        Sender = sender;
        this.digests = digests.Select(d => d.ToArray()).ToArray();
    }

    public ReadOnlySpan<byte> Session => session;
    public Identifier Sender { get; }
    public DkgRound Round => DkgRound.Confirmation;

    /// <summary>Digest of the round-1 package of each member, in the session's member order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Digests => digests.Select(d => (ReadOnlyMemory<byte>)d).ToArray();

    internal ReadOnlySpan<byte> DigestAt(int index) => digests[index];

    internal int Count => digests.Length;

    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.DkgConfirmation, session, Sender).Count(digests.Length);
        foreach (var d in digests) w.Bytes(d);
        return w.ToArray();
    }

    /// <summary>Decodes a confirmation, checking every length; throws <see cref="ProtocolException"/> (<see cref="Fault.MalformedMessage"/>) naming the sender.</summary>
    public static Confirmation Decode(Group group, ReadOnlySpan<byte> bytes, Identifier? from = null)
    {
        var r = new WireReader(group, "DKG confirmation", WireType.DkgConfirmation, bytes, from);
        int n = r.Count("digest count", DigestLength);
        var digests = new byte[n][];
        for (int i = 0; i < n; i++) digests[i] = r.Bytes(DigestLength, $"digest {i}").ToArray();
        r.End();
        return new Confirmation(r.Digest, r.Sender, digests);
    }

    public override string ToString() => $"Confirmation(from {Sender}, {digests.Length} digests)";
}
