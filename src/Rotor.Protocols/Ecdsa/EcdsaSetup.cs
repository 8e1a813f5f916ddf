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

    /// <summary>
    /// The context of the OT extension that derives the other direction's base OTs: the pair, the base-OT sender
    /// (the extension's receiver), the base-OT receiver, and the extension receiver's fresh nonce.
    /// </summary>
    internal static byte[] DerivationId(byte[] pairId, Identifier baseSender, Identifier baseReceiver, byte[] nonce) =>
        OtHash.Hash("setup/derive", pairId, baseSender.ToBytes(), baseReceiver.ToBytes(), nonce);

    /// <summary>
    /// Which member of a pair sends the pair's base OTs: with the key's members in ascending order and a before b,
    /// a when b − a is odd, else b. Every member then sends in about half of its pairs and receives in the other
    /// half (exactly (n − 1)/2 each for odd n), so the base OTs' work is spread over the members.
    /// </summary>
    internal static bool SendsBaseOts(Identifier me, Identifier peer, IReadOnlyList<Identifier> members)
    {
        var sorted = members.OrderBy(m => m).ToList();
        int i = sorted.IndexOf(me), j = sorted.IndexOf(peer);
        if (i < 0 || j < 0 || i == j) throw new ProtocolException(Fault.InvalidUsage, $"{me} and {peer} are not two members of the key");
        var (a, b) = i < j ? (i, j) : (j, i);
        var sender = (b - a) % 2 == 1 ? a : b;
        return sender == i;
    }
}

/// <summary>
/// One setup message between two members. In every pair one member sends the base OTs (the base-OT sender S, chosen
/// by <see cref="EcdsaSetupSession.SendsBaseOts"/>) and the other receives them (R). Rounds: 1 S's A and proof; 2 R's
/// B_i; 3 S's challenges; 4 R's responses; 5 S's openings and the OT extension that derives the other direction's
/// base OTs. Every member plays its role with every peer at once, so every round is one message each way; the
/// message of the member whose turn it is not is empty. Wire: type 0x31 ‖ session digest ‖ sender ‖ recipient ‖
/// round ‖ 0 (empty) or 1 (content) ‖ body, strictly decoded.
/// </summary>
public sealed class EcdsaSetupMessage
{
    internal EcdsaSetupMessage(byte[] session, Identifier sender, Identifier recipient, int round,
        Element[] points, Scalar[] scalars, byte[][] blobs, KosMessage? extension = null)
    {
        Session = session; Sender = sender; Recipient = recipient; Round = round;
        this.points = points; Scalars = scalars; Blobs = blobs; Extension = extension;
        HasContent = true;
    }

    /// <summary>A message whose points are given by their (valid, compressed) encodings: decoded only when read.</summary>
    internal EcdsaSetupMessage(byte[] session, Identifier sender, Identifier recipient, int round, byte[][] encodedPoints)
        : this(session, sender, recipient, round, null!, [], [])
    {
        encoded = encodedPoints;
    }

    /// <summary>The empty message of the member whose turn it is not.</summary>
    internal static EcdsaSetupMessage Empty(byte[] session, Identifier sender, Identifier recipient, int round) =>
        new(session, sender, recipient, round, [], [], []) { HasContent = false };

    private Element[]? points;
    private readonly byte[][]? encoded;

    public byte[] Session { get; }
    public Identifier Sender { get; }
    public Identifier Recipient { get; }
    public int Round { get; }

    /// <summary>False for the empty message of the member whose turn it is not.</summary>
    public bool HasContent { get; private init; }

    internal Element[] Points => points ??= encoded!.Select(e => Crypto.Groups.Secp256k1.Secp256k1Group.Instance.DecodeElement(e)).ToArray();
    internal Scalar[] Scalars { get; }
    internal byte[][] Blobs { get; }

    /// <summary>Round 5 only: the KOS extension (S as its receiver) whose first κ rows are R's base OTs towards S.</summary>
    internal KosMessage? Extension { get; }

    private static (int Points, int Scalars, int Blobs, bool Extension) Shape(int round) => round switch
    {
        1 => (2, 1, 0, false),
        2 => (OtParams.Kappa, 0, 0, false),
        3 or 4 => (0, 0, OtParams.Kappa, false),
        5 => (0, 0, 2 * OtParams.Kappa, true),
        _ => throw new ArgumentOutOfRangeException(nameof(round)),
    };

    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.EcdsaSetup, Session, Sender).Identifier(Recipient).Bytes([(byte)Round, (byte)(HasContent ? 1 : 0)]);
        if (!HasContent) return w.ToArray();
        if (encoded is not null)
            foreach (var e in encoded) w.Bytes(e);
        else
            foreach (var p in Points) w.Element(p);
        foreach (var s in Scalars) w.Scalar(s);
        foreach (var b in Blobs) w.Bytes(b);
        if (Extension is { } k) w.Bytes(k.BobNonce).Bytes(k.Columns).Bytes(k.XCheck).Bytes(k.TCheck);
        return w.ToArray();
    }

    public static EcdsaSetupMessage FromBytes(ReadOnlySpan<byte> bytes)
    {
        var g = Crypto.Groups.Secp256k1.Secp256k1Group.Instance;
        var r = new WireReader(g, "ECDSA setup message", WireType.EcdsaSetup, bytes);
        var recipient = r.Identifier("recipient");
        int round = r.Bytes(1, "round")[0];
        if (round is < 1 or > 5) throw r.Malformed($"round {round} is not 1..5");
        int kind = r.Bytes(1, "kind")[0];
        if (kind > 1) throw r.Malformed($"kind {kind} is not 0 (empty) or 1 (content)");
        if (kind == 0)
        {
            r.End();
            return Empty(r.Digest, r.Sender, recipient, round);
        }
        var (np, ns, nb, ext) = Shape(round);
        var points = new Element[np];
        for (int i = 0; i < np; i++) points[i] = r.Element($"point {i}");
        var scalars = new Scalar[ns];
        for (int i = 0; i < ns; i++) scalars[i] = r.Scalar($"scalar {i}");
        var blobs = new byte[nb][];
        for (int i = 0; i < nb; i++) blobs[i] = r.Bytes(32, $"value {i}").ToArray();
        KosMessage? kos = null;
        if (ext)
            kos = new KosMessage(r.Bytes(KosMessage.NonceLength, "extension nonce").ToArray(),
                r.Bytes(OtParams.Kappa * OtParams.ColumnBytes, "extension").ToArray(),
                r.Bytes(16, "extension check x").ToArray(), r.Bytes(16, "extension check t").ToArray());
        r.End();
        return new EcdsaSetupMessage(r.Digest, r.Sender, recipient, round, points, scalars, blobs, kos);
    }
}

/// <summary>
/// A member's side of the pairwise OT setup with every other member of the epoch (sans I/O): <see cref="Start"/>
/// gives round-1 messages; each <see cref="Receive"/> takes one message from every peer for the current round
/// and gives the next round's; after round 5 <see cref="Result"/> holds the <see cref="EcdsaKeyShare"/>.
/// <para>
/// Per pair, κ Verified Simplest OTs (<see cref="BaseOtSender"/>) run in one direction only: S sends, R receives with
/// random choices Δ_R, which makes R the OT-extension sender towards S. The other direction's base OTs come from
/// that correlation: S, as receiver of a KOS extension (<see cref="OtExtension"/>) with random choice bits x, sends
/// it in round 5 beside its openings; R checks it (KOS's correlation check, blaming S) and keeps
/// v_j^0 = H(j, q_j), v_j^1 = H(j, q_j ⊕ Δ_R) for j &lt; κ as the seeds of its base OTs towards S, while S keeps
/// Δ_S = (x_0 … x_κ−1) and v_j^{x_j} = H(j, t_j). Half the public-key work of running the base OTs both ways
/// (the OT-extension bootstrap of base OTs; KOS15 §1, IKNP03), with every check of both layers.
/// </para>
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
        public required bool SendsBase;            // this member is the pair's base-OT sender S
        public BaseOtSender? Sender;               // S: the base OTs' sender (later the extension receiver, Bob)
        public BaseOtReceiver? Receiver;           // R: the base OTs' receiver with choices Δ_R (the extension sender, Alice)
        public byte[]? Delta;                      // κ bits (0/1): this member's Δ as OT-extension sender
        public byte[]? Chosen, Seeds0, Seeds1;     // κ × 32 each: k^{Δ}, and both seeds as extension receiver
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
            var st = new PairState { PairId = pairId, SendsBase = EcdsaSetupSession.SendsBaseOts(me, peer, share.Members) };
            if (st.SendsBase)
            {
                st.Sender = new BaseOtSender(g, EcdsaSetupSession.DirectionId(pairId, peer, me), peer);
                msgs.Add(new EcdsaSetupMessage(session.Digest, me, peer, 1, [st.Sender.A, st.Sender.Proof.Commitment], [st.Sender.Proof.Response], []));
            }
            else
            {
                st.Delta = RandomBits(OtParams.Kappa);
                st.Receiver = new BaseOtReceiver(g, EcdsaSetupSession.DirectionId(pairId, me, peer), peer, st.Delta);
                msgs.Add(EcdsaSetupMessage.Empty(session.Digest, me, peer, 1));
            }
            s.peers[peer] = st;
        }
        return (s, msgs);
    }

    /// <summary>
    /// Takes the current round's message from every peer; returns the next round's messages (none after round 5,
    /// when <see cref="Result"/> is set). Refuses messages of another session, round, sender or recipient, and a
    /// message with content where the sender's turn is not (or none where it is), blaming the sender; missing or
    /// duplicate peers; any failure ends the setup.
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
            foreach (var st in peers.Values) Wipe(st);
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
            // The peer speaks in odd rounds when it is the pair's base-OT sender, in even rounds when it receives.
            bool peerSpeaks = !peers[m.Sender].SendsBase == (round % 2 == 1);
            if (m.HasContent != peerSpeaks)
                throw new ProtocolException(Fault.MalformedMessage,
                    $"round-{round} setup message from {m.Sender} is {(m.HasContent ? "not empty, but it is member " + me + "'s turn" : "empty, but it is its turn")}", m.Sender);
        }
        foreach (var p in peers.Keys)
            if (!got.ContainsKey(p)) throw new ProtocolException(Fault.InvalidUsage, $"no round-{round} setup message from {p}");
        var outMsgs = new List<EcdsaSetupMessage>();
        foreach (var (peer, st) in peers)
        {
            var m = got[peer];
            var next = Turn(peer, st, m);
            if (round < 5) outMsgs.Add(next ?? EcdsaSetupMessage.Empty(session.Digest, me, peer, round + 1));
        }
        round++;
        if (round == 6)
        {
            var material = peers.Select(kv => new EcdsaPairMaterial(share.KeyId, share.Epoch, session.PackageDigest, me, kv.Key, kv.Value.PairId,
                kv.Value.Delta!, kv.Value.Chosen!, kv.Value.Seeds0!, kv.Value.Seeds1!)).ToList();
            Material = material;
            if (material.Count == share.Members.Count - 1) Result = EcdsaKeyShare.Create(share, material);
            peers.Clear();
        }
        return outMsgs;
    }

    /// <summary>This member's part of round <see cref="round"/> + 1 for one pair, given the peer's round message (null: an empty message).</summary>
    private EcdsaSetupMessage? Turn(Identifier peer, PairState st, EcdsaSetupMessage m)
    {
        var me = share.Identifier;
        switch (round, st.SendsBase)
        {
            case (1, false):
                return new EcdsaSetupMessage(session.Digest, me, peer, 2, st.Receiver!.Choose(m.Points[0], (m.Points[1], m.Scalars[0])));
            case (2, true):
                return new EcdsaSetupMessage(session.Digest, me, peer, 3, [], [], st.Sender!.Challenges(m.Points));
            case (3, false):
                return new EcdsaSetupMessage(session.Digest, me, peer, 4, [], [], st.Receiver!.Respond(m.Blobs));
            case (4, true):
            {
                // R's responses verified: the base OTs stand, S holds both seeds of each. S derives the other
                // direction by extending them as receiver with random choice bits x; its first κ bits are Δ_S.
                var (o0, o1, s0, s1) = st.Sender!.Verify(m.Blobs);
                st.Seeds0 = Flatten(s0);
                st.Seeds1 = Flatten(s1);
                var nonce = RandomNumberGenerator.GetBytes(KosMessage.NonceLength);
                var ctx = EcdsaSetupSession.DerivationId(st.PairId, me, peer, nonce);
                var x = RandomNumberGenerator.GetBytes(OtParams.ColumnBytes);
                var (rows, kos) = OtExtension.ExtendAsReceiver(st.Seeds0, st.Seeds1, ctx, x, nonce);
                st.Delta = new byte[OtParams.Kappa];
                for (int j = 0; j < OtParams.Kappa; j++) st.Delta[j] = (byte)((x[j >> 3] >> (j & 7)) & 1);
                st.Chosen = new byte[OtParams.Kappa * OtParams.SeedLength];
                for (int j = 0; j < OtParams.Kappa; j++) DerivedSeed(ctx, j, rows[j], st.Chosen.AsSpan(j * OtParams.SeedLength));
                CryptographicOperations.ZeroMemory(x);
                Array.Clear(rows);
                return new EcdsaSetupMessage(session.Digest, me, peer, 5, [], [], o0.Concat(o1).ToArray(), kos);
            }
            case (5, false):
            {
                var chosen = st.Receiver!.Finish(m.Blobs[..OtParams.Kappa], m.Blobs[OtParams.Kappa..]);
                st.Chosen = Flatten(chosen);
                var kos = m.Extension!;
                var ctx = EcdsaSetupSession.DerivationId(st.PairId, peer, me, kos.BobNonce);
                var delta = st.Delta!;
                var deltaF = Gf128.FromBits(delta);
                var q = OtExtension.ExtendAsSender(st.Chosen, delta, deltaF, ctx, kos, peer);
                st.Seeds0 = new byte[OtParams.Kappa * OtParams.SeedLength];
                st.Seeds1 = new byte[OtParams.Kappa * OtParams.SeedLength];
                for (int j = 0; j < OtParams.Kappa; j++)
                {
                    DerivedSeed(ctx, j, q[j], st.Seeds0.AsSpan(j * OtParams.SeedLength));
                    DerivedSeed(ctx, j, q[j] ^ deltaF, st.Seeds1.AsSpan(j * OtParams.SeedLength));
                }
                Array.Clear(q);
                return null;
            }
            default:
                return null; // the peer's message was empty and this member has nothing to answer this round
        }
    }

    /// <summary>The seed of derived base OT j: H(j, row) (a random-oracle output; the row is t_j on one side and q_j or q_j ⊕ Δ on the other).</summary>
    private static void DerivedSeed(byte[] ctx, int j, Gf128 row, Span<byte> destination)
    {
        var index = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(index, j);
        var value = new byte[16];
        row.Write(value);
        var h = OtHash.Hash("setup/derived-seed", ctx, index, value);
        h.AsSpan(0, OtParams.SeedLength).CopyTo(destination);
        CryptographicOperations.ZeroMemory(h);
        CryptographicOperations.ZeroMemory(value);
    }

    private static byte[] RandomBits(int n)
    {
        var rnd = RandomNumberGenerator.GetBytes((n + 7) / 8);
        var bits = new byte[n];
        for (int i = 0; i < n; i++) bits[i] = (byte)((rnd[i >> 3] >> (i & 7)) & 1);
        CryptographicOperations.ZeroMemory(rnd);
        return bits;
    }

    private static void Wipe(PairState st)
    {
        foreach (var b in new[] { st.Delta, st.Chosen, st.Seeds0, st.Seeds1 })
            if (b is not null) CryptographicOperations.ZeroMemory(b);
    }

    private static byte[] Flatten(byte[][] seeds)
    {
        var r = new byte[seeds.Length * OtParams.SeedLength];
        for (int i = 0; i < seeds.Length; i++) seeds[i].AsSpan(0, OtParams.SeedLength).CopyTo(r.AsSpan(i * OtParams.SeedLength));
        return r;
    }
}
