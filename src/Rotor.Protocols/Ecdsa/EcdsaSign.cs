using System.Numerics;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// The message-free part of one threshold-ECDSA signing, what its round 1 is bound to: key id, epoch, the root public
/// key package (digest), the signers (sorted) and a fresh 32-byte nonce. Round 1 (commitments to the instance keys
/// and the multiplications' OT extensions) depends on no message, no derivation path and no share, so it may run
/// ahead of the request ("presigning", <see cref="EcdsaSigner.Presign"/>); the message and the path are bound
/// (<see cref="EcdsaSignSession"/>) before round 2, which is the first to use the share and the first to reveal
/// anything of the instance keys: R = Σ R_i stays hidden behind the commitments until the message is fixed. Public.
/// </summary>
public sealed class EcdsaPresignSession
{
    public EcdsaPresignSession(PublicKeyPackage package, IReadOnlyList<Identifier> signers, ReadOnlySpan<byte> nonce = default)
    {
        EcdsaBinding.RequireSecp256k1(package);
        if (!nonce.IsEmpty && nonce.Length != 32) throw new ArgumentException("signing nonce must be 32 bytes");
        var sorted = signers.OrderBy(i => i).ToArray();
        if (sorted.Distinct().Count() != sorted.Length) throw new ArgumentException("a signer appears twice");
        foreach (var s in sorted)
            if (!package.IsMember(s)) throw new ArgumentException($"signer {s} is not a member of key {package.KeyId} epoch {package.Epoch}");
        if (sorted.Length < package.Threshold || sorted.Length < 2)
            throw new ArgumentException($"{sorted.Length} signers, but key {package.KeyId} needs at least {Math.Max(2, package.Threshold)}");
        Package = package;
        PackageDigest = EcdsaBinding.PackageDigest(package);
        Signers = sorted;
        Nonce = nonce.IsEmpty ? RandomNumberGenerator.GetBytes(32) : nonce.ToArray();
        using var t = new Transcript("rotor/ecdsa/presign-session/v1");
        t.Append("key-id", package.KeyId).Append("epoch", package.Epoch).Append("package", PackageDigest)
         .Append("signers", Signers.Select(x => x.Scalar).ToArray()).Append("nonce", Nonce);
        Digest = t.Digest();
    }

    /// <summary>The key's (root) public package.</summary>
    public PublicKeyPackage Package { get; }
    public string KeyId => Package.KeyId;
    public ulong Epoch => Package.Epoch;
    public byte[] PackageDigest { get; }
    public IReadOnlyList<Identifier> Signers { get; }
    public byte[] Nonce { get; }
    public byte[] Digest { get; }

    public override string ToString() => $"EcdsaPresign:{KeyId}:{Epoch}:{Convert.ToHexStringLower(Digest.AsSpan(0, 8))}";
}

/// <summary>
/// One threshold-ECDSA signing: its <see cref="Presign"/> part (key id, epoch, root package, signers, nonce), the
/// public key package signed under (the root's, or one derived from it for a derivation path) and the 32-byte
/// message digest the chain defines (Ethereum's keccak-256, Bitcoin's sighash). <see cref="Digest"/> binds all of
/// them and goes into every message from round 2 on (round 1 carries the presign digest). Public.
/// </summary>
public sealed class EcdsaSignSession
{
    public const int MessageDigestLength = 32;

    /// <summary>A signing whose round 1 is bound to <paramref name="package"/> itself (no presigning, or the root key).</summary>
    public EcdsaSignSession(PublicKeyPackage package, IReadOnlyList<Identifier> signers, ReadOnlySpan<byte> messageDigest, ReadOnlySpan<byte> nonce = default)
        : this(new EcdsaPresignSession(package, signers, nonce), package, messageDigest)
    {
    }

    /// <summary>
    /// Binds a message and the package signed under (the presign's root package, or one derived from it: same key,
    /// epoch and members) to a presign session.
    /// </summary>
    public EcdsaSignSession(EcdsaPresignSession presign, PublicKeyPackage package, ReadOnlySpan<byte> messageDigest)
    {
        EcdsaBinding.RequireSecp256k1(package);
        if (messageDigest.Length != MessageDigestLength)
            throw new ArgumentException($"an ECDSA signature signs the {MessageDigestLength}-byte digest the chain defines (e.g. keccak-256 or a sighash), given as 64 hex characters; got {messageDigest.Length} bytes");
        if (package.KeyId != presign.KeyId || package.Epoch != presign.Epoch || package.Threshold != presign.Package.Threshold)
            throw new ArgumentException($"the package signed under is of key {package.KeyId} epoch {package.Epoch}, the presign of key {presign.KeyId} epoch {presign.Epoch}");
        foreach (var s in presign.Signers)
            if (!package.IsMember(s)) throw new ArgumentException($"signer {s} is not a member of the package signed under");
        Presign = presign;
        Package = package;
        PackageDigest = EcdsaBinding.PackageDigest(package);
        MessageDigest = messageDigest.ToArray();
        using var t = new Transcript("rotor/ecdsa/sign-session/v2");
        t.Append("presign", presign.Digest).Append("package", PackageDigest).Append("message", MessageDigest);
        Digest = t.Digest();
    }

    public EcdsaPresignSession Presign { get; }
    public PublicKeyPackage Package { get; }
    public string KeyId => Package.KeyId;
    public ulong Epoch => Package.Epoch;
    public byte[] PackageDigest { get; }
    public IReadOnlyList<Identifier> Signers => Presign.Signers;
    public byte[] MessageDigest { get; }
    public byte[] Nonce => Presign.Nonce;
    public byte[] Digest { get; }

    public override string ToString() => $"EcdsaSign:{KeyId}:{Epoch}:{Convert.ToHexStringLower(Digest.AsSpan(0, 8))}";
}

/// <summary>
/// Round 1, signer i to signer j (DKLs23 Protocol 3.6, round 1): i's commitment to its instance key R_i, and
/// i's first multiplication message as Bob (the KOS extension for the random VOLE with j), with the id of the
/// pair's OT material. Bound to the presign session (<see cref="EcdsaPresignSession"/>): no message yet.
/// Wire: type 0x41 ‖ presign session ‖ sender ‖ recipient ‖ pair id ‖ commitment ‖ KOS message.
/// </summary>
public sealed class EcdsaSignRound1
{
    internal EcdsaSignRound1(byte[] session, Identifier sender, Identifier recipient, byte[] pairId, byte[] commitment, KosMessage kos)
    {
        Session = session; Sender = sender; Recipient = recipient; PairId = pairId; Commitment = commitment; Kos = kos;
    }

    public byte[] Session { get; }
    public Identifier Sender { get; }
    public Identifier Recipient { get; }
    public byte[] PairId { get; }
    public byte[] Commitment { get; }
    internal KosMessage Kos { get; }

    public byte[] ToBytes() => new WireWriter(WireType.EcdsaSignRound1, Session, Sender).Identifier(Recipient)
        .Bytes(PairId).Bytes(Commitment).Bytes(Kos.BobNonce).Bytes(Kos.Columns).Bytes(Kos.XCheck).Bytes(Kos.TCheck).ToArray();

    public static EcdsaSignRound1 FromBytes(ReadOnlySpan<byte> bytes)
    {
        var r = new WireReader(Crypto.Groups.Secp256k1.Secp256k1Group.Instance, "ECDSA signing round 1", WireType.EcdsaSignRound1, bytes);
        var recipient = r.Identifier("recipient");
        var pair = r.Bytes(64, "pair id").ToArray();
        var com = r.Bytes(32, "commitment").ToArray();
        var kos = new KosMessage(r.Bytes(32, "nonce").ToArray(), r.Bytes(OtParams.Kappa * OtParams.ColumnBytes, "extension").ToArray(),
            r.Bytes(16, "check x").ToArray(), r.Bytes(16, "check t").ToArray());
        r.End();
        return new EcdsaSignRound1(r.Digest, r.Sender, recipient, pair, com, kos);
    }
}

/// <summary>
/// Round 2, signer i to signer j (DKLs23 Protocol 3.6, round 2): the opening (R_i, salt) of i's commitment, i's digest of
/// all round-1 commitments, Γ_u = c_u·G and Γ_v = c_v·G of i's multiplication shares as Alice, ψ = φ_i − χ_ij,
/// and i's multiplication reply. Wire: type 0x42 ‖ session ‖ sender ‖ recipient ‖ R_i ‖ salt ‖ digest ‖ Γ_u ‖
/// Γ_v ‖ ψ ‖ Alice's nonce ‖ τ ‖ r ‖ u.
/// </summary>
public sealed class EcdsaSignRound2
{
    internal EcdsaSignRound2(byte[] session, Identifier sender, Identifier recipient, Element instanceKey, byte[] salt, byte[] commitmentsDigest,
        Element gammaU, Element gammaV, Scalar psi, RvoleMessage mul)
    {
        Session = session; Sender = sender; Recipient = recipient; InstanceKey = instanceKey; Salt = salt;
        CommitmentsDigest = commitmentsDigest; GammaU = gammaU; GammaV = gammaV; Psi = psi; Mul = mul;
    }

    public byte[] Session { get; }
    public Identifier Sender { get; }
    public Identifier Recipient { get; }
    public Element InstanceKey { get; }
    public byte[] Salt { get; }
    public byte[] CommitmentsDigest { get; }
    public Element GammaU { get; }
    public Element GammaV { get; }
    internal Scalar Psi { get; }
    internal RvoleMessage Mul { get; }

    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.EcdsaSignRound2, Session, Sender).Identifier(Recipient).Element(InstanceKey).Bytes(Salt)
            .Bytes(CommitmentsDigest).Element(GammaU).Element(GammaV).Scalar(Psi).Bytes(Mul.AliceNonce);
        foreach (var s in Mul.Tau) w.Scalar(s);
        foreach (var s in Mul.R) w.Scalar(s);
        foreach (var s in Mul.U) w.Scalar(s);
        return w.ToArray();
    }

    public static EcdsaSignRound2 FromBytes(ReadOnlySpan<byte> bytes)
    {
        var r = new WireReader(Crypto.Groups.Secp256k1.Secp256k1Group.Instance, "ECDSA signing round 2", WireType.EcdsaSignRound2, bytes);
        var recipient = r.Identifier("recipient");
        var rk = r.Element("instance key");
        var salt = r.Bytes(32, "salt").ToArray();
        var digest = r.Bytes(64, "commitments digest").ToArray();
        var gu = r.Element("Γ_u");
        var gv = r.Element("Γ_v");
        var psi = r.Scalar("ψ");
        var nonce = r.Bytes(32, "nonce").ToArray();
        var tau = new Scalar[OtParams.Xi * 2 * OtParams.Ell];
        for (int i = 0; i < tau.Length; i++) tau[i] = r.Scalar("τ");
        var rr = new Scalar[OtParams.Xi];
        for (int i = 0; i < rr.Length; i++) rr[i] = r.Scalar("r");
        var u = new Scalar[OtParams.Ell];
        for (int i = 0; i < u.Length; i++) u[i] = r.Scalar("u");
        r.End();
        return new EcdsaSignRound2(r.Digest, r.Sender, recipient, rk, salt, digest, gu, gv, psi, new RvoleMessage(nonce, tau, rr, u));
    }
}

/// <summary>
/// Round 3, signer i to everyone (DKLs23 Protocol 3.6, round 3): the nonce point R it computed and its shares
/// u_i (of φ·k) and w_i (of φ·(H(m) + r·sk)); the signature is s = Σw_i / Σu_i. Public.
/// Wire: type 0x43 ‖ session ‖ sender ‖ R ‖ u_i ‖ w_i.
/// </summary>
public sealed class EcdsaSignatureShare
{
    internal EcdsaSignatureShare(byte[] session, Identifier sender, Element r, Scalar u, Scalar w)
    {
        Session = session; Sender = sender; R = r; U = u; W = w;
    }

    public byte[] Session { get; }
    public Identifier Sender { get; }
    public Element R { get; }
    public Scalar U { get; }
    public Scalar W { get; }

    public byte[] ToBytes() => new WireWriter(WireType.EcdsaSignatureShare, Session, Sender).Element(R).Scalar(U).Scalar(W).ToArray();

    public static EcdsaSignatureShare FromBytes(ReadOnlySpan<byte> bytes)
    {
        var r = new WireReader(Crypto.Groups.Secp256k1.Secp256k1Group.Instance, "ECDSA signature share", WireType.EcdsaSignatureShare, bytes);
        var point = r.Element("R");
        var u = r.Scalar("u");
        var w = r.Scalar("w");
        r.End();
        return new EcdsaSignatureShare(r.Digest, r.Sender, point, u, w);
    }
}

/// <summary>An ECDSA signature over secp256k1: r ‖ s (64 bytes, low-S) and the recovery id (0 or 1: the parity of R's y).</summary>
public sealed class EcdsaSignature
{
    internal EcdsaSignature(byte[] r, byte[] s, int recoveryId)
    {
        R = r; S = s; RecoveryId = recoveryId;
    }

    public byte[] R { get; }
    public byte[] S { get; }
    public int RecoveryId { get; }

    /// <summary>r ‖ s, 32 bytes each, big-endian.</summary>
    public byte[] ToBytes() => [.. R, .. S];

    /// <summary>The DER form Bitcoin scripts use (SEQUENCE of two minimal INTEGERs; BIP-66 strict DER), without the sighash byte.</summary>
    public byte[] ToDer()
    {
        static byte[] Int(byte[] v)
        {
            int i = 0;
            while (i < v.Length - 1 && v[i] == 0) i++;
            var body = v[i..];
            if ((body[0] & 0x80) != 0) body = [0, .. body];
            return [0x02, (byte)body.Length, .. body];
        }
        var r = Int(R);
        var s = Int(S);
        return [0x30, (byte)(r.Length + s.Length), .. r, .. s];
    }

    /// <summary>
    /// Standard ECDSA verification of (r, s) under <paramref name="publicKey"/> for a 32-byte digest (accepts high
    /// S as ECDSA does; <see cref="IsLowS"/> tells). Public inputs only.
    /// </summary>
    public static bool Verify(Element publicKey, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        var g = publicKey.Group;
        if (digest.Length != 32 || signature.Length != 64 || publicKey.IsIdentity) return false;
        Scalar r, s;
        try
        {
            r = g.DecodeNonZeroScalar(signature[..32]);
            s = g.DecodeNonZeroScalar(signature[32..]);
        }
        catch (Crypto.InvalidEncodingException) { return false; }
        var e = g.ReduceWide(digest);
        var w = s.Invert();
        var p = g.MultiMulVartime([e * w, r * w], [g.Generator, publicKey]);
        if (p.IsIdentity) return false;
        return g.ReduceWide(p.Encoding[1..]) == r;
    }

    public static bool IsLowS(ReadOnlySpan<byte> s) => new BigInteger(s, isUnsigned: true, isBigEndian: true) <= HalfOrder;

    internal static readonly BigInteger HalfOrder = Crypto.Groups.Secp256k1.Secp256k1Group.Instance.Order / 2;
}

/// <summary>
/// A signer's side of DKLs23 signing (Protocol 3.6, with the random-VOLE multiplication of Functionality 3.5), sans I/O:
/// <see cref="Start"/> (round 1 to every other signer), <see cref="Round2"/>, <see cref="Round3"/> (the
/// signature share, to everyone), then anyone combines with <see cref="EcdsaSignatures.Combine"/> (or
/// <see cref="Finish"/>). Round 1 may run ahead of the message: <see cref="Presign"/> with the root key, then
/// <see cref="Bind"/> the message and the (possibly derived) key once, before round 2. Single use: every secret of
/// the run (instance key r_i, mask φ_i, the Lagrange-weighted share, the multiplications' state) lives only in this
/// object, is wiped after round 3, and is wiped at once when any step fails — an aborted signing leaves nothing to
/// reuse, and every later call is refused.
/// </summary>
public sealed class EcdsaSigner
{
    private EcdsaKeyShare key;
    private readonly EcdsaPresignSession presign;
    private EcdsaSignSession? session;
    private readonly Group g;
    private readonly Identifier me;
    private readonly Identifier[] others;
    private Scalar r, phi, sk;
    private readonly byte[] salt;
    private readonly byte[] commitment;
    private readonly Element instanceKey;
    private readonly Dictionary<Identifier, RvoleReceiver> bobs = new();
    private readonly Dictionary<Identifier, byte[]> commitments = new();
    private readonly Dictionary<Identifier, Scalar[]> aliceShares = new();
    private byte[]? commitmentsDigest;
    private Element? bigR;
    private int step; // 1 after Start, 2 after Round2, 3 after Round3; -1 aborted

    private EcdsaSigner(EcdsaKeyShare key, EcdsaPresignSession presign)
    {
        this.key = key;
        this.presign = presign;
        g = key.Share.Group;
        me = key.Identifier;
        others = presign.Signers.Where(s => s != me).ToArray();
        r = Hedged(key, presign, "instance-key");
        phi = Hedged(key, presign, "inversion-mask");
        salt = RandomNumberGenerator.GetBytes(32);
        instanceKey = g.MulBase(r);
        commitment = Commit(presign.Digest, me, instanceKey, salt);
    }

    /// <summary>
    /// A fresh secret scalar hedged against a weak random number generator (as RFC 9591's nonce_generate hedges
    /// FROST nonces): SHA-512 over 32 bytes from the OS CSPRNG, the signing share and the session, reduced mod n.
    /// </summary>
    private static Scalar Hedged(EcdsaKeyShare key, EcdsaPresignSession session, string what)
    {
        var random = RandomNumberGenerator.GetBytes(32);
        var secret = key.Share.SigningShare.ToBytes();
        try
        {
            while (true)
            {
                var k = Hedge(key.Share.Group, random, secret, session.Digest, what);
                if (!k.IsZero) return k;
                RandomNumberGenerator.Fill(random);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(random);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>SHA-512("sign/" ‖ what, random, secret share, session) reduced mod n (the timing tests measure it).</summary>
    internal static Scalar Hedge(Group g, byte[] random, byte[] secret, byte[] session, string what)
    {
        var wide = OtHash.Hash("sign/" + what, random, secret, session);
        var k = g.ReduceWide(wide);
        CryptographicOperations.ZeroMemory(wide);
        return k;
    }

    /// <summary>
    /// The signature share (DKLs23 Protocol 3.6, round 3): with φ = φ_i + Σψ, u_i = r_i·φ + c_u and
    /// w_i = φ_i·H(m) + x(R)·(sk_i·φ + c_v). Scalar arithmetic only (constant time).
    /// </summary>
    internal static (Scalar U, Scalar W) ShareValues(Scalar r, Scalar phi, Scalar sk, Scalar psiSum, Scalar cu, Scalar cv, Scalar x, Scalar e)
    {
        var phiAll = phi + psiSum;
        var u = r * phiAll + cu;
        var v = sk * phiAll + cv;
        return (u, phi * e + x * v);
    }

    public Identifier Identifier => me;

    /// <summary>The whole signing, once the message is bound (null before <see cref="Bind"/>).</summary>
    public EcdsaSignSession? Session => session;

    /// <summary>Whether this signing failed (and was wiped).</summary>
    public bool IsAborted => step < 0;

    internal static byte[] Commit(byte[] session, Identifier who, Element rPoint, byte[] salt) =>
        OtHash.Hash("sign/commit", session, who.ToBytes(), rPoint.ToBytes(), salt)[..32];

    /// <summary>
    /// Round 1 with the message known: <see cref="Presign"/> with <paramref name="key"/> for the session's presign
    /// part, then <see cref="Bind"/>. Refuses (<see cref="Fault.StaleShare"/>, naming this member) a key share of
    /// another key, epoch or package than the session's — e.g. an old share, or one whose OT material is of an
    /// earlier epoch.
    /// </summary>
    public static (EcdsaSigner Signer, IReadOnlyList<EcdsaSignRound1> Messages) Start(EcdsaKeyShare key, EcdsaSignSession session)
    {
        var (s, messages) = Presign(key, session.Presign);
        s.Bind(key, session);
        return (s, messages);
    }

    /// <summary>
    /// Round 1 ahead of the message (DKLs23's first round uses neither the message nor the share): the instance key
    /// r_i and mask φ_i, the commitment to R_i = r_i·G, and as Bob the OT extension of each multiplication, all bound
    /// to <paramref name="presign"/>. <paramref name="key"/> is the root key share of the presign's package. Refuses
    /// (<see cref="Fault.StaleShare"/>, naming this member) a share of another key, epoch or package, or OT material
    /// of another epoch.
    /// </summary>
    public static (EcdsaSigner Signer, IReadOnlyList<EcdsaSignRound1> Messages) Presign(EcdsaKeyShare key, EcdsaPresignSession presign)
    {
        var id = key.Identifier;
        if (key.Share.KeyId != presign.KeyId || key.Share.Epoch != presign.Epoch || !CryptographicOperations.FixedTimeEquals(key.PackageDigest, presign.PackageDigest))
            throw new ProtocolException(Fault.StaleShare,
                $"member {id}'s ECDSA key share is of key {key.Share.KeyId} epoch {key.Share.Epoch}, the signing is for key {presign.KeyId} epoch {presign.Epoch}{(key.Share.Epoch == presign.Epoch ? " with another public key package" : "")}", id);
        if (!presign.Signers.Contains(id))
            throw new ProtocolException(Fault.InvalidUsage, $"member {id} is not a signer of this signing");
        foreach (var m in key.Pairs.Values)
            if (m.Epoch != presign.Epoch || !CryptographicOperations.FixedTimeEquals(m.PackageDigest, key.MaterialDigest))
                throw new ProtocolException(Fault.StaleShare, $"member {id}'s OT material with {m.Peer} is of epoch {m.Epoch}, the signing is for epoch {presign.Epoch}", id);
        var s = new EcdsaSigner(key, presign);
        var msgs = new List<EcdsaSignRound1>();
        foreach (var j in s.others)
        {
            var pair = key.Pair(j);
            var (bob, kos) = RvoleReceiver.Start(pair, presign.Digest, s.g);
            s.bobs[j] = bob;
            msgs.Add(new EcdsaSignRound1(presign.Digest, id, j, pair.PairId, s.commitment, kos));
        }
        s.step = 1;
        return (s, msgs);
    }

    /// <summary>
    /// Binds the message and the key share to sign with, once, before round 2: <paramref name="session"/> must be of
    /// this signer's presign session, and <paramref name="key"/> this member's share of the package signed under (the
    /// root share, or the share derived from it for a path: the same OT material). A refused bind wipes the signer.
    /// </summary>
    public void Bind(EcdsaKeyShare key, EcdsaSignSession session) => Guard(1, () =>
    {
        if (this.session is not null) throw new ProtocolException(Fault.InvalidUsage, $"member {me}'s signing already has its message");
        if (!CryptographicOperations.FixedTimeEquals(session.Presign.Digest, presign.Digest))
            throw new ProtocolException(Fault.WrongSession, $"the signing bound to member {me}'s round 1 is of another presign session");
        if (key.Identifier != me || key.Share.KeyId != session.KeyId || key.Share.Epoch != session.Epoch
            || !CryptographicOperations.FixedTimeEquals(key.PackageDigest, session.PackageDigest)
            || !CryptographicOperations.FixedTimeEquals(key.MaterialDigest, this.key.MaterialDigest))
            throw new ProtocolException(Fault.StaleShare, $"member {me}'s key share to sign with is not of the package signed under, or not of the presign's key", me);
        this.key = key;
        this.session = session;
        return true;
    }, advance: false);

    /// <summary>
    /// Round 2: checks the round-1 messages (session, sender, recipient, one per signer, the pair's OT material is
    /// this epoch's), runs each multiplication as Alice with inputs (r_i, λ_i·s_i) — the KOS consistency check
    /// blames the peer — and returns one message for every other signer.
    /// </summary>
    public IReadOnlyList<EcdsaSignRound2> Round2(IEnumerable<EcdsaSignRound1> received) => Guard(1, () =>
    {
        var session = this.session ?? throw new ProtocolException(Fault.InvalidUsage, $"member {me}'s signing has no message yet: bind it before round 2");
        var got = Collect(received, m => (m.Session, m.Sender, m.Recipient), "round 1", presign.Digest);
        foreach (var (j, m) in got)
        {
            if (!CryptographicOperations.FixedTimeEquals(m.PairId, key.Pair(j).PairId))
                throw new ProtocolException(Fault.StaleShare, $"member {j} signs with OT material of another setup or epoch than member {me}'s for this pair (key {session.KeyId} epoch {session.Epoch})", j);
            if (m.Commitment.Length != 32) throw new ProtocolException(Fault.MalformedMessage, $"commitment from {j} is not 32 bytes", j);
            commitments[j] = m.Commitment;
        }
        commitments[me] = commitment;
        commitmentsDigest = CommitmentsDigest(session);
        var lambda = Lagrange.AtZero(me, session.Signers);
        sk = lambda * key.Share.SigningShare;
        var outMsgs = new List<EcdsaSignRound2>();
        foreach (var j in others)
        {
            var (c, mul) = Retiring(j, () => Rvole.Respond(key.Pair(j), presign.Digest, got[j].Kos, [r, sk], session.Digest));
            aliceShares[j] = c;
            var psi = phi - bobs[j].Chi;
            outMsgs.Add(new EcdsaSignRound2(session.Digest, me, j, instanceKey, salt, commitmentsDigest, g.MulBase(c[0]), g.MulBase(c[1]), psi, mul));
        }
        return (IReadOnlyList<EcdsaSignRound2>)outMsgs;
    });

    /// <summary>
    /// Round 3: checks every round-2 message — the commitment digests agree (else <see cref="Fault.Equivocation"/>,
    /// no single culprit), the opening of the sender's commitment (<see cref="Fault.InvalidProof"/> naming it), the
    /// multiplication check of the random VOLE, and DKLs23's consistency checks χ·R_j − Γ_u = d_u·G and
    /// χ·pk_j − Γ_v = d_v·G with pk_j = λ_j·Y_j from the public package (naming the sender) — then computes
    /// R = Σ R_j, u_i and w_i, wipes the run's secrets and returns the signature share.
    /// </summary>
    public EcdsaSignatureShare Round3(IEnumerable<EcdsaSignRound2> received) => Guard(2, () =>
    {
        var session = this.session!;
        var got = Collect(received, m => (m.Session, m.Sender, m.Recipient), "round 2", session.Digest);
        var outputs = new Dictionary<Identifier, (EcdsaSignRound2 Message, Scalar Chi, Scalar[] D)>();
        var rSum = instanceKey;
        var cu = g.Zero;
        var cv = g.Zero;
        var psiSum = g.Zero;
        foreach (var j in others)
        {
            var m = got[j];
            if (!CryptographicOperations.FixedTimeEquals(m.CommitmentsDigest, commitmentsDigest))
                throw new ProtocolException(Fault.Equivocation, $"member {j} saw other round-1 commitments than member {me}: some signer sent different commitments to different signers");
            if (m.Salt.Length != 32 || !CryptographicOperations.FixedTimeEquals(Commit(presign.Digest, j, m.InstanceKey, m.Salt), commitments[j]))
                throw new ProtocolException(Fault.InvalidProof, $"commitment opening failed: member {j}'s instance key R_j does not open its round-1 commitment", j);
            var d = Retiring(j, () => bobs[j].Finish(m.Mul, session.Digest));
            outputs[j] = (m, bobs[j].Chi, d);
            rSum += m.InstanceKey;
            cu += aliceShares[j][0] + d[0];
            cv += aliceShares[j][1] + d[1];
            psiSum += m.Psi;
            bobs[j].Wipe();
        }
        ConsistencyChecks(session, outputs);
        if (rSum.IsIdentity) throw new ProtocolException(Fault.InvalidResult, "the nonce point R is the identity");
        bigR = rSum;
        var x = g.ReduceWide(rSum.Encoding[1..]);
        var e = g.ReduceWide(session.MessageDigest);
        var (u, w) = ShareValues(r, phi, sk, psiSum, cu, cv, x, e);
        return new EcdsaSignatureShare(session.Digest, me, rSum, u, w);
    });

    /// <summary>
    /// DKLs23's two consistency checks for every other signer j (Protocol 3.6, round 3): χ_j·R_j − Γ_u = d_u·G and
    /// χ_j·pk_j − Γ_v = d_v·G with pk_j = λ_j·Y_j, where χ_j and (d_u, d_v) are this signer's input and outputs of its
    /// multiplication with j. All of them are checked at once as one random linear combination with fresh weights
    /// ρ_j, σ_j of this signer's own (unknown to every j when it sent its Γs):
    /// Σ_j χ_j·σ_j(R_j + ρ_j·pk_j) − Σ_j σ_j(Γ_u + ρ_j·Γ_v) = (Σ_j σ_j(d_u + ρ_j·d_v))·G, which holds when every
    /// check holds and fails, except with probability about 1/n, when any fails (batch verification). One secret
    /// variable-base multiplication per signer and one secret fixed-base multiplication in all, instead of two and
    /// two per signer. When it fails, each signer's checks are made on their own, in signer order, to name the first
    /// signer whose Γ_u or Γ_v is wrong.
    /// </summary>
    private void ConsistencyChecks(EcdsaSignSession session, IReadOnlyDictionary<Identifier, (EcdsaSignRound2 Message, Scalar Chi, Scalar[] D)> outputs)
    {
        Element? lhs = null;
        var dSum = g.Zero;
        foreach (var j in others)
        {
            var (m, chi, d) = outputs[j];
            var rho = g.RandomScalar();
            var sigma = g.RandomScalar();
            var lambda = Lagrange.AtZero(j, session.Signers);
            var yj = session.Package.VerifyingShare(j);
            // public values and this signer's fresh weights: variable time
            var x = g.MultiMulVartime([sigma, sigma * rho * lambda], [m.InstanceKey, yj]);
            var y = g.MultiMulVartime([sigma, sigma * rho], [m.GammaU, m.GammaV]);
            // χ_j is secret: constant time; it is drawn fresh for this signing and multiplies a point only here (and in
            // the failure path below, with Mul), so its blinding is left out
            var term = g.MulSingleUse(x, chi) - y;
            lhs = lhs is null ? term : lhs + term;
            dSum += sigma * (d[0] + rho * d[1]);
        }
        if (lhs is null || lhs.Equals(g.MulBase(dSum))) return;
        foreach (var j in others)
        {
            var (m, chi, d) = outputs[j];
            if (!(g.Mul(m.InstanceKey, chi) - m.GammaU).Equals(g.MulBase(d[0])))
                throw new ProtocolException(Fault.InvalidProof, $"multiplication check failed: member {j}'s Γ_u does not match its instance key R_j", j);
            var pk = g.MulVartime(session.Package.VerifyingShare(j), Lagrange.AtZero(j, session.Signers));
            if (!(g.Mul(pk, chi) - m.GammaV).Equals(g.MulBase(d[1])))
                throw new ProtocolException(Fault.InvalidProof, $"multiplication check failed: member {j}'s Γ_v does not match its key share λ_j·Y_j", j);
        }
        // The combination failed but no check on its own does: impossible for honest arithmetic.
        throw new ProtocolException(Fault.InvalidResult, "multiplication checks: the combined check failed while every single one holds");
    }

    /// <summary>Combines the signature shares of every signer (this one's included) and checks the result; see <see cref="EcdsaSignatures.Combine"/>.</summary>
    public EcdsaSignature Finish(IEnumerable<EcdsaSignatureShare> shares)
    {
        if (step != 3 || bigR is null) throw new ProtocolException(Fault.InvalidUsage, "signature shares before round 3");
        return EcdsaSignatures.Combine(session!, shares, bigR);
    }

    /// <summary>Runs an OT check with peer j; when it fails the pair's material is retired for good (it may have leaked through the failure).</summary>
    private T Retiring<T>(Identifier j, Func<T> check)
    {
        try
        {
            return check();
        }
        catch (ProtocolException e) when (e.Fault == Fault.InvalidProof)
        {
            key.Retire(j, e.Message);
            throw;
        }
    }

    private T Guard<T>(int expected, Func<T> body, bool advance = true)
    {
        if (step < 0) throw new ProtocolException(Fault.InvalidUsage, $"member {me}'s signing was aborted and wiped; start a new signing");
        if (step != expected) throw new ProtocolException(Fault.InvalidUsage, $"member {me}'s signing is at step {step}, not {expected}");
        try
        {
            var result = body();
            if (!advance) return result;
            step = expected + 1;
            if (step == 3) Wipe();
            return result;
        }
        catch
        {
            Wipe();
            step = -1;
            throw;
        }
    }

    private void Wipe()
    {
        r = default;
        phi = default;
        sk = default;
        foreach (var b in bobs.Values) b.Wipe();
        bobs.Clear();
        aliceShares.Clear();
    }

    private byte[] CommitmentsDigest(EcdsaSignSession session)
    {
        using var t = new Transcript("rotor/ecdsa/sign/commitments");
        t.Append("session", session.Digest);
        foreach (var s in session.Signers) t.Append("signer", s.Scalar).Append("commitment", commitments[s]);
        return t.Digest();
    }

    private Dictionary<Identifier, T> Collect<T>(IEnumerable<T> received, Func<T, (byte[] Session, Identifier Sender, Identifier Recipient)> head, string what, byte[] expected)
    {
        var got = new Dictionary<Identifier, T>();
        foreach (var m in received)
        {
            var (sess, sender, recipient) = head(m);
            if (!CryptographicOperations.FixedTimeEquals(sess, expected))
                throw new ProtocolException(Fault.WrongSession, $"{what} message from {sender} belongs to another signing", sender);
            if (sender == me || !others.Contains(sender))
                throw new ProtocolException(Fault.UnexpectedSender, $"{what} message from {sender}, not another signer of this signing", sender);
            if (recipient != me)
                throw new ProtocolException(Fault.UnexpectedSender, $"{what} message from {sender} is addressed to {recipient}, not {me}", sender);
            if (!got.TryAdd(sender, m))
                throw new ProtocolException(Fault.DuplicateMessage, $"two {what} messages from {sender}", sender);
        }
        foreach (var j in others)
            if (!got.ContainsKey(j)) throw new ProtocolException(Fault.InvalidUsage, $"no {what} message from signer {j}");
        return got;
    }
}

/// <summary>Combining signature shares (by a signer or by the coordinator, which learns nothing secret from them).</summary>
public static class EcdsaSignatures
{
    /// <summary>
    /// s = Σw_i / Σu_i over one share from every signer; r = x(R) mod n; low-S with its recovery id; then the final
    /// check: the signature must verify under the group key (the last check of DKLs23 Protocol 3.6). Shares of
    /// another session or from non-signers are refused naming the sender; a share whose R differs from
    /// <paramref name="expectedR"/> (a signer's own R) names its sender. A signature that does not verify is
    /// <see cref="Fault.InvalidResult"/>: DKLs23 cannot attribute it to one signer (u_i and w_i carry no proof),
    /// so no one is named — the signing is abandoned and a new one started.
    /// </summary>
    public static EcdsaSignature Combine(EcdsaSignSession session, IEnumerable<EcdsaSignatureShare> shares, Element? expectedR = null)
    {
        var g = session.Package.Group;
        var got = new Dictionary<Identifier, EcdsaSignatureShare>();
        foreach (var s in shares)
        {
            if (!CryptographicOperations.FixedTimeEquals(s.Session, session.Digest))
                throw new ProtocolException(Fault.WrongSession, $"signature share from {s.Sender} belongs to another signing", s.Sender);
            if (!session.Signers.Contains(s.Sender))
                throw new ProtocolException(Fault.UnexpectedSender, $"signature share from {s.Sender}, not a signer", s.Sender);
            if (!got.TryAdd(s.Sender, s))
                throw new ProtocolException(Fault.DuplicateMessage, $"two signature shares from {s.Sender}", s.Sender);
        }
        foreach (var j in session.Signers)
            if (!got.ContainsKey(j)) throw new ProtocolException(Fault.InvalidUsage, $"no signature share from signer {j}");
        var bigR = expectedR ?? got[session.Signers[0]].R;
        foreach (var s in got.Values)
            if (!s.R.Equals(bigR))
            {
                if (expectedR is null)
                    throw new ProtocolException(Fault.Equivocation, "the signers' signature shares name different nonce points R");
                throw new ProtocolException(Fault.InvalidSignatureShare, $"member {s.Sender}'s signature share names another nonce point R than the openings give", s.Sender);
            }
        var uSum = g.Zero;
        var wSum = g.Zero;
        foreach (var s in got.Values) { uSum += s.U; wSum += s.W; }
        if (uSum.IsZero) throw new ProtocolException(Fault.InvalidResult, "final signature check failed: Σu_i is zero");
        var sc = wSum * uSum.Invert();
        var enc = bigR.Encoding;
        var rBytes = enc[1..].ToArray();
        var rScalar = g.ReduceWide(rBytes);
        if (!rScalar.ToBytes().AsSpan().SequenceEqual(rBytes))
            throw new ProtocolException(Fault.InvalidResult, "x(R) is not below the group order (probability 2^-128); sign again");
        int recid = enc[0] & 1;
        if (sc.ToBigInteger() > EcdsaSignature.HalfOrder)
        {
            sc = -sc;
            recid ^= 1;
        }
        var sig = new EcdsaSignature(rBytes, sc.ToBytes(), recid);
        if (sc.IsZero || !EcdsaSignature.Verify(session.Package.GroupPublicKey, session.MessageDigest, sig.ToBytes()))
            throw new ProtocolException(Fault.InvalidResult,
                "final signature check failed: the combined ECDSA signature does not verify under the group key (a signer sent a wrong u_i or w_i; DKLs23 does not identify which)");
        return sig;
    }
}
