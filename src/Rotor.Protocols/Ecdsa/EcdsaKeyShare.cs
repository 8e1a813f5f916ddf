using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Ecdsa;

/// <summary>Digests that bind ECDSA material to one epoch of one key.</summary>
public static class EcdsaBinding
{
    /// <summary>
    /// SHA-512 over everything public about the epoch: key id, scheme, epoch, threshold, members, every
    /// verification share and the group key. Pairwise OT material and signing sessions carry it, so material
    /// of another epoch (or another member set after a reshare) can never be used with this one.
    /// </summary>
    public static byte[] PackageDigest(PublicKeyPackage pkg)
    {
        using var t = new Transcript("rotor/ecdsa/package/v1");
        t.Append("key-id", pkg.KeyId).Append("scheme", pkg.Scheme.Name()).Append("epoch", pkg.Epoch)
         .Append("threshold", (ulong)pkg.Threshold)
         .Append("members", pkg.Members.Select(m => m.Scalar).ToArray())
         .Append("verifying-shares", pkg.Members.Select(pkg.VerifyingShare).ToArray())
         .Append("group-key", pkg.GroupPublicKey);
        return t.Digest();
    }

    /// <summary>Checks that the key's group is secp256k1 (ECDSA here is over secp256k1 only).</summary>
    internal static void RequireSecp256k1(PublicKeyPackage pkg)
    {
        if (!ReferenceEquals(pkg.Group, Crypto.Groups.Secp256k1.Secp256k1Group.Instance))
            throw new ProtocolException(Fault.InvalidUsage, $"threshold ECDSA needs a secp256k1 key; key {pkg.KeyId} is {pkg.Group.Name}");
    }
}

/// <summary>
/// One member's OT material for one peer, made by <see cref="EcdsaSetup"/> (base OTs one way, the other way's
/// derived from them by OT extension: the setup of DKLs23's multiplications): as OT-extension sender ("Alice", multiplying its own inputs) the correlation Δ and the seeds
/// k_i^{Δ_i}; as OT-extension receiver ("Bob") both seeds k_i^0, k_i^1 of the other direction. Secret: stored
/// with the shard, encrypted like it. Bound to key id, epoch, the package digest, this member and the peer,
/// and to the pair's setup (<see cref="PairId"/>), which signing checks on both sides.
/// </summary>
public sealed class EcdsaPairMaterial
{
    private const byte Version = 1;
    private readonly byte[] deltaBits;   // κ bytes, 0/1
    private readonly byte[] senderSeeds; // κ × 32: k_i^{Δ_i}
    private readonly byte[] receiverSeeds0, receiverSeeds1; // κ × 32 each

    internal EcdsaPairMaterial(string keyId, ulong epoch, byte[] packageDigest, Identifier me, Identifier peer, byte[] pairId,
        byte[] deltaBits, byte[] senderSeeds, byte[] receiverSeeds0, byte[] receiverSeeds1)
    {
        KeyId = keyId;
        Epoch = epoch;
        PackageDigest = packageDigest;
        Me = me;
        Peer = peer;
        PairId = pairId;
        this.deltaBits = deltaBits;
        this.senderSeeds = senderSeeds;
        this.receiverSeeds0 = receiverSeeds0;
        this.receiverSeeds1 = receiverSeeds1;
        Delta = Gf128.FromBits(deltaBits.AsSpan(0, OtParams.Kappa));
    }

    public string KeyId { get; }
    public ulong Epoch { get; }
    public byte[] PackageDigest { get; }
    public Identifier Me { get; }
    public Identifier Peer { get; }

    /// <summary>Public digest of the pair's setup session (both members hold the same).</summary>
    public byte[] PairId { get; }

    internal Gf128 Delta { get; }
    internal byte[] DeltaBits => deltaBits;
    internal ReadOnlySpan<byte> SenderSeeds => senderSeeds;
    internal ReadOnlySpan<byte> ReceiverSeeds0 => receiverSeeds0;
    internal ReadOnlySpan<byte> ReceiverSeeds1 => receiverSeeds1;
    internal ReadOnlySpan<byte> SenderSeed(int i) => senderSeeds.AsSpan(i * OtParams.SeedLength, OtParams.SeedLength);
    internal ReadOnlySpan<byte> ReceiverSeed0(int i) => receiverSeeds0.AsSpan(i * OtParams.SeedLength, OtParams.SeedLength);
    internal ReadOnlySpan<byte> ReceiverSeed1(int i) => receiverSeeds1.AsSpan(i * OtParams.SeedLength, OtParams.SeedLength);

    /// <summary>The storage form (secret): version, key id, epoch, package digest, both identifiers, pair id, Δ and the seeds.</summary>
    public byte[] ToBytes()
    {
        var kid = Encoding.UTF8.GetBytes(KeyId);
        using var ms = new MemoryStream();
        ms.WriteByte(Version);
        ms.WriteByte((byte)kid.Length);
        ms.Write(kid);
        Span<byte> e = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(e, Epoch);
        ms.Write(e);
        ms.Write(PackageDigest);
        ms.Write(Me.ToBytes());
        ms.Write(Peer.ToBytes());
        ms.Write(PairId);
        ms.Write(deltaBits);
        ms.Write(senderSeeds);
        ms.Write(receiverSeeds0);
        ms.Write(receiverSeeds1);
        return ms.ToArray();
    }

    /// <summary>Decodes <see cref="ToBytes"/> strictly; throws ArgumentException naming what is wrong.</summary>
    public static EcdsaPairMaterial FromBytes(ReadOnlySpan<byte> b)
    {
        var g = Crypto.Groups.Secp256k1.Secp256k1Group.Instance;
        int seeds = OtParams.Kappa * OtParams.SeedLength;
        if (b.Length < 2 || b[0] != Version) throw new ArgumentException("ECDSA pair material: unknown version or empty");
        int kl = b[1];
        int expected = 2 + kl + 8 + 64 + 32 + 32 + 64 + OtParams.Kappa + 3 * seeds;
        if (b.Length != expected) throw new ArgumentException($"ECDSA pair material: {b.Length} bytes, expected {expected}");
        int p = 2;
        var keyId = Encoding.UTF8.GetString(b.Slice(p, kl)); p += kl;
        KeyIds.Validate(keyId);
        var epoch = BinaryPrimitives.ReadUInt64BigEndian(b[p..]); p += 8;
        var pkg = b.Slice(p, 64).ToArray(); p += 64;
        Identifier me, peer;
        try
        {
            me = Identifier.Decode(g, b.Slice(p, 32)); p += 32;
            peer = Identifier.Decode(g, b.Slice(p, 32)); p += 32;
        }
        catch (InvalidEncodingException e) { throw new ArgumentException($"ECDSA pair material: {e.Message}"); }
        if (me == peer) throw new ArgumentException("ECDSA pair material: a member paired with itself");
        var pairId = b.Slice(p, 64).ToArray(); p += 64;
        var delta = b.Slice(p, OtParams.Kappa).ToArray(); p += OtParams.Kappa;
        if (delta.Any(x => x > 1)) throw new ArgumentException("ECDSA pair material: Δ bits are not 0/1");
        var s = b.Slice(p, seeds).ToArray(); p += seeds;
        var r0 = b.Slice(p, seeds).ToArray(); p += seeds;
        var r1 = b.Slice(p, seeds).ToArray();
        return new EcdsaPairMaterial(keyId, epoch, pkg, me, peer, pairId, delta, s, r0, r1);
    }

    /// <summary>Never prints secrets.</summary>
    public override string ToString() => $"EcdsaPairMaterial(key {KeyId}, epoch {Epoch}, {Me}↔{Peer})";
}

/// <summary>
/// A member's ECDSA key for one epoch: its Shamir share (from Rotor's DKG or a reshare) and OT material with
/// every other member of the epoch, all bound to the same key id, epoch and public package. Construct it
/// through <see cref="Create"/>, which refuses material of another epoch, key or member set by name.
/// </summary>
public sealed class EcdsaKeyShare
{
    private readonly Dictionary<Identifier, EcdsaPairMaterial> pairs;

    private EcdsaKeyShare(KeyShare share, Dictionary<Identifier, EcdsaPairMaterial> pairs, byte[] packageDigest, byte[]? materialDigest = null)
    {
        Share = share;
        this.pairs = pairs;
        PackageDigest = packageDigest;
        MaterialDigest = materialDigest ?? packageDigest;
    }

    /// <summary>
    /// The package digest the pair material is bound to: the root epoch's (<see cref="PackageDigest"/> itself, except
    /// for a share derived with <see cref="Derive"/>, whose signing package is the child's).
    /// </summary>
    public byte[] MaterialDigest { get; }

    /// <summary>
    /// The member's key for the child at <paramref name="path"/> (BIP-32 non-hardened, <see cref="Keys.Hd.HdDerivation"/>):
    /// the share tweaked as FROST signing tweaks it (s′ = s + δ, in memory only), with the root epoch's OT material,
    /// which depends on no share and stays bound to the root package (<see cref="MaterialDigest"/>). Signing sessions
    /// are then made over the child package (<see cref="Keys.Hd.HdDerivation.DerivePackage"/>). The root for "m".
    /// </summary>
    public EcdsaKeyShare Derive(Keys.Hd.DerivationPath path)
    {
        if (path.IsRoot) return this;
        if (Share.Public.DerivedPath is not null) throw new ArgumentException("derive from the root key share, not from a derived one");
        var child = Keys.Hd.HdDerivation.DeriveShare(Share, path);
        var derived = new EcdsaKeyShare(child, pairs, EcdsaBinding.PackageDigest(child.Public), MaterialDigest);
        foreach (var (peer, why) in retired) derived.Retire(peer, why);
        return derived;
    }

    public KeyShare Share { get; }
    public Identifier Identifier => Share.Identifier;
    public PublicKeyPackage Public => Share.Public;
    public byte[] PackageDigest { get; }
    public IReadOnlyDictionary<Identifier, EcdsaPairMaterial> Pairs => pairs;

    /// <summary>
    /// The OT material with <paramref name="peer"/>; refused (<see cref="Fault.InvalidUsage"/>) when there is none or
    /// when it was retired after a failed OT check.
    /// </summary>
    public EcdsaPairMaterial Pair(Identifier peer)
    {
        if (retired.TryGetValue(peer, out var why))
            throw new ProtocolException(Fault.InvalidUsage, $"member {Identifier}'s OT material with {peer} was retired after a failed check ({why}); set the pair up again before signing with {peer}");
        return pairs.TryGetValue(peer, out var m) ? m : throw new ProtocolException(Fault.InvalidUsage, $"member {Identifier} has no OT material with {peer}");
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Identifier, string> retired = new();

    /// <summary>
    /// Peers whose OT material this member stopped using because an OT-extension or multiplication check with
    /// them failed: a failed check may have taught the cheater something about the correlation (selective
    /// failure), so the material is never used again. Persist it (<see cref="ToData"/> does) and renew the pair
    /// with <see cref="EcdsaSetup"/> (peers = that peer) and <see cref="WithPairs"/>.
    /// </summary>
    public IReadOnlyCollection<Identifier> RetiredPairs => retired.Keys.ToArray();

    internal void Retire(Identifier peer, string why) => retired.TryAdd(peer, why);

    /// <summary>
    /// Binds the share to its pair material: exactly one for every other member, each of this member and of the
    /// share's key id, epoch and package digest. Anything else is refused with <see cref="Fault.StaleShare"/>
    /// naming this member and saying which pair and which epoch the material is of.
    /// </summary>
    public static EcdsaKeyShare Create(KeyShare share, IEnumerable<EcdsaPairMaterial> material)
    {
        EcdsaBinding.RequireSecp256k1(share.Public);
        var digest = EcdsaBinding.PackageDigest(share.Public);
        var me = share.Identifier;
        var map = new Dictionary<Identifier, EcdsaPairMaterial>();
        foreach (var m in material)
        {
            if (m.Me != me)
                throw new ProtocolException(Fault.StaleShare, $"OT material for pair ({m.Me}, {m.Peer}) belongs to member {m.Me}, not {me}", me);
            if (m.KeyId != share.KeyId || m.Epoch != share.Epoch || !CryptographicOperations.FixedTimeEquals(m.PackageDigest, digest))
                throw new ProtocolException(Fault.StaleShare,
                    $"OT material for pair ({me}, {m.Peer}) is of key {m.KeyId} epoch {m.Epoch}{(m.KeyId == share.KeyId && m.Epoch == share.Epoch ? " with another public key package" : "")}, not of the share's key {share.KeyId} epoch {share.Epoch}: refused (pairwise material is made anew at every reshare)", me);
            if (!share.Public.IsMember(m.Peer))
                throw new ProtocolException(Fault.StaleShare, $"OT material names {m.Peer}, not a member of key {share.KeyId} epoch {share.Epoch}", me);
            if (!map.TryAdd(m.Peer, m)) throw new ProtocolException(Fault.InvalidUsage, $"two OT materials for pair ({me}, {m.Peer})");
        }
        foreach (var peer in share.Members)
            if (peer != me && !map.ContainsKey(peer))
                throw new ProtocolException(Fault.InvalidUsage, $"member {me} has no OT material with member {peer} for key {share.KeyId} epoch {share.Epoch}");
        return new EcdsaKeyShare(share, map, digest);
    }

    /// <summary>This share with the material of some pairs replaced (after a repair re-ran their setup); checked as <see cref="Create"/> does.</summary>
    public EcdsaKeyShare WithPairs(IEnumerable<EcdsaPairMaterial> replacements)
    {
        var map = new Dictionary<Identifier, EcdsaPairMaterial>(pairs);
        var renewed = new HashSet<Identifier>();
        foreach (var m in replacements)
        {
            map[m.Peer] = m;
            renewed.Add(m.Peer);
        }
        var result = Create(Share, map.Values);
        foreach (var (peer, why) in retired)
            if (!renewed.Contains(peer)) result.Retire(peer, why);
        return result;
    }

    public EcdsaKeyShareData ToData() => new()
    {
        Share = Share.ToData(),
        Pairs = Share.Members.Where(p => p != Identifier).Select(p => pairs[p].ToBytes()).ToArray(),
        RetiredPeers = retired.Keys.Select(p => p.ToBytes()).ToArray(),
    };

    public override string ToString() => $"EcdsaKeyShare({Share}, {pairs.Count} OT pairs)";
}

/// <summary>Storage form of an <see cref="EcdsaKeyShare"/> (secret; encrypt at rest like a shard).</summary>
public sealed class EcdsaKeyShareData
{
    public KeyShareData Share { get; set; } = new();
    public byte[][] Pairs { get; set; } = [];

    /// <summary>Identifiers of the peers whose material was retired after a failed check.</summary>
    public byte[][] RetiredPeers { get; set; } = [];

    public EcdsaKeyShare Validate()
    {
        var key = EcdsaKeyShare.Create(Share.Validate(), Pairs.Select(p => EcdsaPairMaterial.FromBytes(p)));
        foreach (var r in RetiredPeers)
            key.Retire(Rotor.Crypto.Sharing.Identifier.Decode(key.Share.Group, r), "recorded in the stored key share");
        return key;
    }
}
