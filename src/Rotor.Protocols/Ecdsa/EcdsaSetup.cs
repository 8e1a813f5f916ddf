using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// One run of the pairwise OT setup for one epoch of a key (at key generation and after every reshare):
/// binds the public key package (through its digest: key id, epoch, members, verification shares, group key)
/// and a fresh 32-byte nonce. Public.
/// </summary>
public sealed class EcdsaSetupSession
{
    public EcdsaSetupSession(PublicKeyPackage package, ReadOnlySpan<byte> nonce = default)
    {
        EcdsaBinding.RequireSecp256k1(package);
        if (!nonce.IsEmpty && nonce.Length != 32) throw new ArgumentException("setup nonce must be 32 bytes");
        Package = package;
        PackageDigest = EcdsaBinding.PackageDigest(package);
        Nonce = nonce.IsEmpty ? RandomNumberGenerator.GetBytes(32) : nonce.ToArray();
        using var t = new Transcript("rotor/ecdsa/setup-session/v1");
        t.Append("key-id", package.KeyId).Append("epoch", package.Epoch).Append("package", PackageDigest).Append("nonce", Nonce);
        Digest = t.Digest();
    }

    public PublicKeyPackage Package { get; }
    public byte[] PackageDigest { get; }
    public byte[] Nonce { get; }

    /// <summary>64 bytes: what every setup message carries.</summary>
    public byte[] Digest { get; }

    internal byte[] PairId(Identifier x, Identifier y)
    {
        var (lo, hi) = x.CompareTo(y) < 0 ? (x, y) : (y, x);
        return OtHash.Hash("setup/pair", Digest, lo.ToBytes(), hi.ToBytes());
    }

    /// <summary>The session of the base OTs in which <paramref name="alice"/> (the later OT-extension sender) receives.</summary>
    internal static byte[] DirectionId(byte[] pairId, Identifier alice, Identifier bob) =>
        OtHash.Hash("setup/direction", pairId, alice.ToBytes(), bob.ToBytes());
}

/// <summary>
/// One setup message between two members. Rounds: 1 the VSOT sender's A and proof; 2 the receiver's B_i;
/// 3 the sender's challenges; 4 the receiver's responses; 5 the sender's openings. Every member plays both
/// roles with every peer at once (one base-OT batch per direction), so every round is one message each way.
/// Wire: type 0x31 ‖ session digest ‖ sender ‖ recipient ‖ round ‖ body, strictly decoded.
/// </summary>
public sealed class EcdsaSetupMessage
{
    internal EcdsaSetupMessage(byte[] session, Identifier sender, Identifier recipient, int round,
        Element[] points, Scalar[] scalars, byte[][] blobs)
    {
        Session = session; Sender = sender; Recipient = recipient; Round = round;
        this.points = points; Scalars = scalars; Blobs = blobs;
    }

    /// <summary>A message whose points are given by their (valid, compressed) encodings: decoded only when read.</summary>
    internal EcdsaSetupMessage(byte[] session, Identifier sender, Identifier recipient, int round, byte[][] encodedPoints)
        : this(session, sender, recipient, round, null!, [], [])
    {
        encoded = encodedPoints;
    }

    private Element[]? points;
    private readonly byte[][]? encoded;

    public byte[] Session { get; }
    public Identifier Sender { get; }
    public Identifier Recipient { get; }
    public int Round { get; }
    internal Element[] Points => points ??= encoded!.Select(e => Crypto.Groups.Secp256k1.Secp256k1Group.Instance.DecodeElement(e)).ToArray();
    internal Scalar[] Scalars { get; }
    internal byte[][] Blobs { get; }

    private static (int Points, int Scalars, int Blobs) Shape(int round) => round switch
    {
        1 => (2, 1, 0),
        2 => (OtParams.Kappa, 0, 0),
        3 or 4 => (0, 0, OtParams.Kappa),
        5 => (0, 0, 2 * OtParams.Kappa),
        _ => throw new ArgumentOutOfRangeException(nameof(round)),
    };

    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.EcdsaSetup, Session, Sender).Identifier(Recipient).Bytes([(byte)Round]);
        if (encoded is not null)
            foreach (var e in encoded) w.Bytes(e);
        else
            foreach (var p in Points) w.Element(p);
        foreach (var s in Scalars) w.Scalar(s);
        foreach (var b in Blobs) w.Bytes(b);
        return w.ToArray();
    }

    public static EcdsaSetupMessage FromBytes(ReadOnlySpan<byte> bytes)
    {
        var g = Crypto.Groups.Secp256k1.Secp256k1Group.Instance;
        var r = new WireReader(g, "ECDSA setup message", WireType.EcdsaSetup, bytes);
        var recipient = r.Identifier("recipient");
        int round = r.Bytes(1, "round")[0];
        if (round is < 1 or > 5) throw r.Malformed($"round {round} is not 1..5");
        var (np, ns, nb) = Shape(round);
        var points = new Element[np];
        for (int i = 0; i < np; i++) points[i] = r.Element($"point {i}");
        var scalars = new Scalar[ns];
        for (int i = 0; i < ns; i++) scalars[i] = r.Scalar($"scalar {i}");
        var blobs = new byte[nb][];
        for (int i = 0; i < nb; i++) blobs[i] = r.Bytes(32, $"value {i}").ToArray();
        r.End();
        return new EcdsaSetupMessage(r.Digest, r.Sender, recipient, round, points, scalars, blobs);
    }
}

/// <summary>
/// A member's side of the pairwise OT setup with every other member of the epoch (sans I/O): <see cref="Start"/>
/// gives round-1 messages; each <see cref="Receive"/> takes one message from every peer for the current round
/// and gives the next round's; after round 5 <see cref="Result"/> holds the <see cref="EcdsaKeyShare"/>.
/// A failed check aborts naming the peer (<see cref="Fault.InvalidProof"/>): the setup is then dead and must be
/// run again from scratch with a fresh session, never resumed.
/// </summary>
public sealed class EcdsaSetup
{
    private readonly KeyShare share;
    private readonly EcdsaSetupSession session;
    private readonly Dictionary<Identifier, PairState> peers = new();
    private int round = 1;
    private bool failed;

    private sealed class PairState
    {
        public required byte[] PairId;
        public required BaseOtSender Sender;       // me as base-OT sender: I will be the OT-extension receiver (Bob)
        public required BaseOtReceiver Receiver;   // me as base-OT receiver with choices Δ: the OT-extension sender (Alice)
        public required byte[] Delta;
        public byte[][]? Seeds0, Seeds1, Chosen;
    }

    private EcdsaSetup(KeyShare share, EcdsaSetupSession session)
    {
        this.share = share;
        this.session = session;
    }

    /// <summary>The member's key share with its OT material, once round 5 is received (a setup with every other member only).</summary>
    public EcdsaKeyShare? Result { get; private set; }

    /// <summary>The OT material made with each peer, once round 5 is received.</summary>
    public IReadOnlyList<EcdsaPairMaterial>? Material { get; private set; }

    /// <summary>
    /// Round 1 with every other member of the epoch, or only with <paramref name="peers"/> (after a repair: the
    /// repaired member with everyone, everyone else with it; they then replace that pair's material with
    /// <see cref="EcdsaKeyShare.WithPairs"/>).
    /// </summary>
    public static (EcdsaSetup State, IReadOnlyList<EcdsaSetupMessage> Messages) Start(KeyShare share, EcdsaSetupSession session, IReadOnlyCollection<Identifier>? peers = null)
    {
        if (share.KeyId != session.Package.KeyId || share.Epoch != session.Package.Epoch ||
            !CryptographicOperations.FixedTimeEquals(EcdsaBinding.PackageDigest(share.Public), session.PackageDigest))
            throw new ProtocolException(Fault.StaleShare, $"member {share.Identifier}'s share is of key {share.KeyId} epoch {share.Epoch}, the setup is for key {session.Package.KeyId} epoch {session.Package.Epoch}", share.Identifier);
        var s = new EcdsaSetup(share, session);
        var g = share.Group;
        var me = share.Identifier;
        var msgs = new List<EcdsaSetupMessage>();
        foreach (var p in peers ?? [])
            if (p == me || !share.Public.IsMember(p))
                throw new ProtocolException(Fault.InvalidUsage, $"{p} is not another member of key {share.KeyId} epoch {share.Epoch}");
        foreach (var peer in share.Members)
        {
            if (peer == me || (peers is not null && !peers.Contains(peer))) continue;
            var pairId = session.PairId(me, peer);
            var delta = new byte[OtParams.Kappa];
            var rnd = RandomNumberGenerator.GetBytes(OtParams.Kappa / 8);
            for (int i = 0; i < delta.Length; i++) delta[i] = (byte)((rnd[i >> 3] >> (i & 7)) & 1);
            CryptographicOperations.ZeroMemory(rnd);
            var st = new PairState
            {
                PairId = pairId,
                Sender = new BaseOtSender(g, EcdsaSetupSession.DirectionId(pairId, peer, me), peer),
                Receiver = new BaseOtReceiver(g, EcdsaSetupSession.DirectionId(pairId, me, peer), peer, delta),
                Delta = delta,
            };
            s.peers[peer] = st;
            msgs.Add(new EcdsaSetupMessage(session.Digest, me, peer, 1, [st.Sender.A, st.Sender.Proof.Commitment], [st.Sender.Proof.Response], []));
        }
        return (s, msgs);
    }

    /// <summary>
    /// Takes the current round's message from every peer; returns the next round's messages (none after round 5,
    /// when <see cref="Result"/> is set). Refuses messages of another session, round, sender or recipient
    /// (blaming the sender), missing or duplicate peers; any failure ends the setup.
    /// </summary>
    public IReadOnlyList<EcdsaSetupMessage> Receive(IEnumerable<EcdsaSetupMessage> messages)
    {
        if (failed) throw new ProtocolException(Fault.InvalidUsage, "this ECDSA setup has failed; start a new one");
        if (round > 5) throw new ProtocolException(Fault.InvalidUsage, "this ECDSA setup is finished");
        try
        {
            return Step(messages);
        }
        catch
        {
            failed = true;
            peers.Clear();
            throw;
        }
    }

    private IReadOnlyList<EcdsaSetupMessage> Step(IEnumerable<EcdsaSetupMessage> messages)
    {
        var me = share.Identifier;
        var got = new Dictionary<Identifier, EcdsaSetupMessage>();
        foreach (var m in messages)
        {
            if (!session.Digest.AsSpan().SequenceEqual(m.Session))
                throw new ProtocolException(Fault.WrongSession, $"setup message from {m.Sender} belongs to another session", m.Sender);
            if (!peers.ContainsKey(m.Sender))
                throw new ProtocolException(Fault.UnexpectedSender, $"setup message from {m.Sender}, not a peer of member {me}", m.Sender);
            if (m.Recipient != me)
                throw new ProtocolException(Fault.UnexpectedSender, $"setup message from {m.Sender} is addressed to {m.Recipient}, not {me}", m.Sender);
            if (m.Round != round)
                throw new ProtocolException(Fault.UnexpectedSender, $"setup message from {m.Sender} is of round {m.Round}, expected {round}", m.Sender);
            if (!got.TryAdd(m.Sender, m))
                throw new ProtocolException(Fault.DuplicateMessage, $"two round-{round} setup messages from {m.Sender}", m.Sender);
        }
        foreach (var p in peers.Keys)
            if (!got.ContainsKey(p)) throw new ProtocolException(Fault.InvalidUsage, $"no round-{round} setup message from {p}");
        var outMsgs = new List<EcdsaSetupMessage>();
        foreach (var (peer, st) in peers)
        {
            var m = got[peer];
            switch (round)
            {
                case 1:
                    var b = st.Receiver.Choose(m.Points[0], (m.Points[1], m.Scalars[0]));
                    outMsgs.Add(new EcdsaSetupMessage(session.Digest, me, peer, 2, b));
                    break;
                case 2:
                    outMsgs.Add(new EcdsaSetupMessage(session.Digest, me, peer, 3, [], [], st.Sender.Challenges(m.Points)));
                    break;
                case 3:
                    outMsgs.Add(new EcdsaSetupMessage(session.Digest, me, peer, 4, [], [], st.Receiver.Respond(m.Blobs)));
                    break;
                case 4:
                    var (o0, o1, s0, s1) = st.Sender.Verify(m.Blobs);
                    st.Seeds0 = s0;
                    st.Seeds1 = s1;
                    outMsgs.Add(new EcdsaSetupMessage(session.Digest, me, peer, 5, [], [], o0.Concat(o1).ToArray()));
                    break;
                case 5:
                    st.Chosen = st.Receiver.Finish(m.Blobs[..OtParams.Kappa], m.Blobs[OtParams.Kappa..]);
                    break;
            }
        }
        round++;
        if (round == 6)
        {
            var material = peers.Select(kv => new EcdsaPairMaterial(share.KeyId, share.Epoch, session.PackageDigest, me, kv.Key, kv.Value.PairId,
                kv.Value.Delta, Flatten(kv.Value.Chosen!), Flatten(kv.Value.Seeds0!), Flatten(kv.Value.Seeds1!))).ToList();
            Material = material;
            if (material.Count == share.Members.Count - 1) Result = EcdsaKeyShare.Create(share, material);
            peers.Clear();
        }
        return outMsgs;
    }

    private static byte[] Flatten(byte[][] seeds)
    {
        var r = new byte[seeds.Length * OtParams.SeedLength];
        for (int i = 0; i < seeds.Length; i++) seeds[i].AsSpan(0, OtParams.SeedLength).CopyTo(r.AsSpan(i * OtParams.SeedLength));
        return r;
    }
}
