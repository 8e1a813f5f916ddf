using System.Buffers.Binary;
using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Signatures;
using Rotor.Protocols.Frost;

namespace Rotor.Protocols.Keys.Hd;

/// <summary>
/// How a child key relates to the root sharing: every member's child share is s′_i = (Negate ? −s_i : s_i) + Offset
/// and the child key is (Negate ? −Y : Y) + Offset·G. Because the Lagrange coefficients of any signer set sum to 1,
/// adding Offset to <em>every</em> share adds it to the secret, and negating every share negates it: the map works on
/// shares without anyone holding the secret. Members never store child shares; they apply the map when they sign.
/// For secp256k1 and ed25519 (and threshold ECDSA) Negate is always false and Offset is the sum of the path's
/// step tweaks; for bip340 the BIP-341 tweaks of the root and the child enter too (see <see cref="HdDerivation"/>).
/// Immutable and public (it is derived from public data only), so <see cref="HdDerivation"/> caches it.
/// </summary>
public sealed record HdTweak(Scheme Scheme, DerivationPath Path, bool Negate, Scalar Offset, Element ChildKey, byte[]? ChainCode)
{
    private readonly byte[]? chainCode = ChainCode?.ToArray();
    private Element? offsetPoint;

    /// <summary>The child chain code (a copy; null for the root of a key without one).</summary>
    public byte[]? ChainCode { get => chainCode?.ToArray(); init => chainCode = value?.ToArray(); }

    /// <summary>The child share of a root share s_i.</summary>
    public Scalar ApplyToShare(Scalar share) => (Negate ? -share : share) + Offset;

    /// <summary>The child key in the scheme's encoding (SchemeKeys.EncodePublicKey: x-only for bip340).</summary>
    public byte[] EncodedChildKey => SchemeKeys.EncodePublicKey(Scheme, ChildKey);

    /// <summary>Offset·G (public; computed once, when a verification share of the child is first asked for).</summary>
    internal Element OffsetPoint => offsetPoint ??= Offset.IsZero ? Offset.Group.Identity : Offset.Group.MulBaseVartime(Offset);

    /// <summary>A member's child verification share ±Y_i + Offset·G.</summary>
    internal Element ApplyToVerifyingShare(Element y) => (Negate ? -y : y) + OffsetPoint;
}

/// <summary>
/// Non-hardened HD derivation on threshold keys.
/// <list type="bullet">
/// <item>secp256k1 and bip340: BIP-32 CKDpub: I = HMAC-SHA512(c, ser_P(K) || ser32(i)), K_i = K + parse256(I_L)·G,
/// c_i = I_R (an I_L ≥ n or a K_i at infinity is refused: pick the next index, probability below 2^-127).</item>
/// <item>bip340: BIP-32 on the internal key P (the xpub is P's), then the BIP-341 tweak of each child
/// (as bitcoin/bips "FROST tweaks" describes): P_c = P + δ·G, Q_c = ±P_c + int(hash_TapTweak(x(P_c)))·G.</item>
/// <item>ed25519: the "Edwards" derivation of LFDT-Lockness/hd-wallet: I = HMAC-SHA512(c, enc(A) || 0x00 || ser32(i)),
/// A_i = A + (I_L read big-endian mod ℓ)·G, c_i = I_R.</item>
/// </list>
/// Speed (docs/performance.md "HD derivation"): every value here is public, so each step's K + t·G is
/// <see cref="Group.AddMulBaseVartime"/> (a fixed-base table, one addition per 8-bit digit for ed25519 and per 12-bit
/// digit for secp256k1, the result encoded once for the next step's HMAC). The tweak of a (root, path) and every
/// prefix's extended key are kept in bounded process-wide caches keyed by everything they depend on (scheme, group key,
/// internal key, chain code, path, not the epoch: a reshare keeps all of them), so signing again at a path, or
/// deriving the next address under a cached parent, costs a lookup or one step.
/// </summary>
public static class HdDerivation
{
    /// <summary>One CKDpub step: the step's tweak, the child key and the child chain code.</summary>
    public static (Scalar Tweak, Element Child, byte[] ChainCode) DeriveChild(Scheme scheme, Element parent, ReadOnlySpan<byte> chainCode, uint index)
    {
        if (index >= DerivationPath.HardenedOffset) throw new ArgumentException($"index {index} is hardened: not derivable from a public key");
        if (chainCode.Length != PublicKeyPackage.ChainCodeLength) throw new ArgumentException($"chain code of {chainCode.Length} bytes, expected 32");
        var g = parent.Group;
        var enc = parent.Encoding; // secp256k1: 33-byte compressed (ser_P); ed25519: the 32-byte RFC 8032 encoding
        bool edwards = scheme == Scheme.Ed25519;
        Span<byte> data = stackalloc byte[enc.Length + (edwards ? 1 : 0) + 4];
        enc.CopyTo(data);
        if (edwards) data[enc.Length] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(data[^4..], index);
        Span<byte> i = stackalloc byte[64];
        HmacSha512.Compute(chainCode, data, i);       // libsodium: no per-call MAC context (HMACSHA512.HashData's cost)
        Scalar tweak;
        if (edwards)
        {
            Span<byte> le = stackalloc byte[32];
            i[..32].CopyTo(le);
            le.Reverse(); // I_L is read big-endian; the ed25519 group reads little-endian
            tweak = g.ReduceWide(le);
        }
        else
        {
            try { tweak = g.DecodeScalar(i[..32]); }
            catch (InvalidEncodingException) { throw new ArgumentException($"index {index} gives an invalid child (I_L ≥ n): use the next index"); }
        }
        var child = g.AddMulBaseVartime(parent, tweak); // public tweak and key: the fast variable-time path
        if (child.IsIdentity) throw new ArgumentException($"index {index} gives an invalid child (the point at infinity): use the next index");
        return (tweak, child, i[32..].ToArray());
    }

    /// <summary>CKDpub along a whole path: the sum of the step tweaks, the child key and its chain code (not cached).</summary>
    public static (Scalar Tweak, Element Child, byte[] ChainCode) DerivePublic(Scheme scheme, Element root, ReadOnlySpan<byte> chainCode, DerivationPath path)
    {
        var sum = root.Group.Zero;
        var key = root;
        var chain = chainCode.ToArray();
        foreach (var index in path.Indexes)
        {
            (var t, key, chain) = DeriveChild(scheme, key, chain, index);
            sum += t;
        }
        return (sum, key, chain);
    }

    /// <summary>The BIP-341 key-path-only tweak t = int(hash_TapTweak(x(P))).</summary>
    public static Scalar TapTweak(Element internalKey) =>
        internalKey.Group.ReduceWide(Bip340.TaggedHash("TapTweak", Bip340.XOnly(internalKey)));

    /// <summary>The last root internal key's TapTweak (a deposit service derives many addresses of one root).</summary>
    private sealed record RootTap(byte[] Encoding, Scalar Tweak);

    private static RootTap? lastRootTap;

    /// <summary><see cref="TapTweak"/> of a root internal key, remembered for the last root asked (compared by encoding).</summary>
    private static Scalar RootTapTweak(Element internalKey)
    {
        var last = Volatile.Read(ref lastRootTap);
        if (last is not null && internalKey.Encoding.SequenceEqual(last.Encoding)) return last.Tweak;
        var t = TapTweak(internalKey);
        Volatile.Write(ref lastRootTap, new RootTap(internalKey.Encoding.ToArray(), t));
        return t;
    }

    /// <summary>The BIP-341 output key of an internal key with no script path: even(P) + TapTweak(P)·G.</summary>
    public static Element TaprootOutputKey(Element internalKey) =>
        internalKey.Group.AddMulBaseVartime(Bip340.HasEvenY(internalKey) ? internalKey : -internalKey, TapTweak(internalKey));

    /// <summary>
    /// The tweak that takes the key of <paramref name="root"/> to the child at <paramref name="path"/> (the root
    /// itself for "m"). Throws <see cref="HdUnavailableException"/> for a non-root path of a key without a chain code.
    /// Cached (see <see cref="HdDerivation"/>); <paramref name="useCache"/> false computes it afresh and caches nothing.
    /// </summary>
    public static HdTweak Tweak(PublicKeyPackage root, DerivationPath path, bool useCache = true)
    {
        if (root.DerivedPath is not null) throw new ArgumentException("derive from the root key's package, not from a derived one");
        return TweakCore(root.Scheme, root.KeyId, root.GroupPublicKey, root.HasChainCode ? root.ChainCode : default, root.HasChainCode, root.InternalKey, path, useCache);
    }

    /// <summary>
    /// <see cref="Tweak(PublicKeyPackage, DerivationPath, bool)"/> from the root's public data alone (group key, chain
    /// code, bip340 internal key), checked as <see cref="PublicKeyPackage.WithHdRoot"/> checks them (the check is
    /// skipped when the same root data is already in the cache: only checked roots ever enter it).
    /// </summary>
    public static HdTweak Tweak(Scheme scheme, string keyId, Element groupKey, byte[]? chainCode, Element? internalKey, DerivationPath path)
    {
        if (chainCode is not null)
        {
            bool known = !path.IsRoot && Cache.Tweaks.TryGet(Cache.Key(scheme, groupKey, chainCode, internalKey, path), out _);
            if (!known) PublicKeyPackage.CheckHdRoot(scheme, groupKey, chainCode, internalKey);
        }
        return TweakCore(scheme, keyId, groupKey, chainCode, chainCode is not null, internalKey, path, useCache: true);
    }

    /// <summary>The tweak, from HD root data already checked (a validated package's).</summary>
    private static HdTweak TweakCore(Scheme scheme, string keyId, Element groupKey, ReadOnlySpan<byte> chainCode, bool hasChainCode,
        Element? internalKey, DerivationPath path, bool useCache)
    {
        var g = groupKey.Group;
        if (path.IsRoot) return new HdTweak(scheme, path, false, g.Zero, groupKey, hasChainCode ? chainCode.ToArray() : null);
        if (!hasChainCode) throw new HdUnavailableException(keyId);
        Cache.RootPath key = default;
        if (useCache)
        {
            key = Cache.Key(scheme, groupKey, chainCode, internalKey, path);
            if (Cache.Tweaks.TryGet(key, out var hit)) return hit;
        }
        HdTweak tweak;
        if (scheme != Scheme.Bip340)
        {
            var (delta, child, chain) = useCache ? Cache.DerivePublic(key, scheme, groupKey, chainCode, path) : DerivePublic(scheme, groupKey, chainCode, path);
            tweak = new HdTweak(scheme, path, false, delta, child, chain);
        }
        else
        {
            // bip340: the root shares are of Q = P + t·G (P the internal key, even y): shares of P are s_i − t.
            var p = internalKey!;
            var t = useCache ? RootTapTweak(p) : TapTweak(p);
            var (d, pc, cc) = useCache ? Cache.DerivePublic(key, scheme, p, chainCode, path) : DerivePublic(scheme, p, chainCode, path);
            var tc = TapTweak(pc);
            bool negate = !Bip340.HasEvenY(pc);
            // child internal share: s_i − t + δ; output share: ±(s_i − t + δ) + t_c
            var offset = negate ? t - d + tc : d - t + tc;
            var q = g.AddMulBaseVartime(negate ? -pc : pc, tc);
            tweak = new HdTweak(scheme, path, negate, offset, q, cc);
        }
        if (useCache) Cache.Tweaks.Add(key, tweak);
        return tweak;
    }

    /// <summary>The child key at <paramref name="path"/> in the scheme's encoding (x-only for bip340).</summary>
    public static byte[] ChildPublicKey(PublicKeyPackage root, DerivationPath path, bool useCache = true) => Tweak(root, path, useCache).EncodedChildKey;

    /// <summary>
    /// The public package of the child at <paramref name="path"/>: what a coordinator verifies shares and aggregates
    /// against. Its verification shares ±Y_j + offset·G are computed when first asked for, one member at a time, so a
    /// signing computes only those of its signers.
    /// </summary>
    public static PublicKeyPackage DerivePackage(PublicKeyPackage root, DerivationPath path)
    {
        if (path.IsRoot) return root;
        return root.Transformed(Tweak(root, path));
    }

    /// <summary>
    /// The member's share of the child key at <paramref name="path"/>, in memory only (never stored): what the
    /// member signs with. Same key id, epoch and identifier as the root share.
    /// </summary>
    public static KeyShare DeriveShare(KeyShare root, DerivationPath path)
    {
        if (path.IsRoot) return root;
        var tw = Tweak(root.Public, path);
        return KeyShare.FromVerified(root.Public.Transformed(tw), root.Identifier, tw.ApplyToShare(root.SigningShare));
    }

    /// <summary>Empties the derivation caches (tests and benchmarks that measure a first derivation).</summary>
    public static void ClearCache() => Cache.Clear();

    /// <summary>Entries each derivation cache keeps before it starts forgetting the least recently used half.</summary>
    public const int CacheCapacity = Cache.Capacity;

    /// <summary>
    /// The chain code a DKG gives its key: a hash of the session and of every member's round-1 commitment, in
    /// member order, computed by every member from the confirmed broadcast once all commitments are fixed.
    /// </summary>
    public static byte[] ChainCodeFromTranscript(ReadOnlySpan<byte> sessionDigest, IEnumerable<ReadOnlyMemory<byte>> commitmentsInMemberOrder)
    {
        using var t = new Transcript("rotor/chain-code/v1");
        t.Append("session", sessionDigest);
        foreach (var c in commitmentsInMemberOrder) t.Append("commitment", c.Span);
        return t.Digest()[..PublicKeyPackage.ChainCodeLength];
    }

    /// <summary>
    /// The caches: extended keys (key, chain code, sum of the tweaks so far) of every path prefix derived, and the
    /// tweaks of whole paths, keyed by the root's public data and the path. Two generations of at most
    /// <see cref="Capacity"/> entries each: when the newer fills up, the older is dropped and a hit in the older
    /// moves the entry to the newer, so memory stays bounded and paths in use stay cached.
    /// </summary>
    private static class Cache
    {
        public const int Capacity = 4096;

        public static readonly TwoGenerationCache<RootPath, HdTweak> Tweaks = new(Capacity);
        private static readonly TwoGenerationCache<RootPath, Node> Nodes = new(Capacity);

        public static void Clear()
        {
            Tweaks.Clear();
            Nodes.Clear();
        }

        private sealed record Node(Element Key, byte[] ChainCode, Scalar Sum);

        /// <summary>The cache key of (root, path): scheme, group key, internal key and chain code, and the path's first <c>Depth</c> indexes.</summary>
        public readonly struct RootPath(byte[] root, uint[] indexes, int depth) : IEquatable<RootPath>
        {
            private readonly byte[] root = root;
            private readonly uint[] indexes = indexes;
            private readonly int depth = depth;

            public RootPath Prefix(int d) => new(root, indexes, d);

            public bool Equals(RootPath o) =>
                depth == o.depth && root.AsSpan().SequenceEqual(o.root) && indexes.AsSpan(0, depth).SequenceEqual(o.indexes.AsSpan(0, depth));

            public override bool Equals(object? obj) => obj is RootPath o && Equals(o);

            public override int GetHashCode()
            {
                var h = new HashCode();
                h.AddBytes(root);
                h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(indexes.AsSpan(0, depth)));
                h.Add(depth);
                return h.ToHashCode();
            }
        }

        public static RootPath Key(Scheme scheme, Element groupKey, ReadOnlySpan<byte> chainCode, Element? internalKey, DerivationPath path)
        {
            var q = groupKey.Encoding;
            var p = internalKey is null ? default : internalKey.Encoding;
            var root = new byte[1 + q.Length + p.Length + chainCode.Length];
            root[0] = (byte)scheme;
            q.CopyTo(root.AsSpan(1));
            p.CopyTo(root.AsSpan(1 + q.Length));
            chainCode.CopyTo(root.AsSpan(1 + q.Length + p.Length));
            return new RootPath(root, path.IndexArray, path.Depth);
        }

        /// <summary>CKDpub along the path from the longest prefix already cached, caching every prefix on the way.</summary>
        public static (Scalar Tweak, Element Child, byte[] ChainCode) DerivePublic(RootPath key, Scheme scheme, Element root, ReadOnlySpan<byte> chainCode, DerivationPath path)
        {
            var indexes = path.IndexArray;
            int depth = path.Depth;
            Node? node = null;
            int from = depth;
            for (; from > 0; from--)
                if (Nodes.TryGet(key.Prefix(from), out node)) break;
            node ??= new Node(root, chainCode.ToArray(), root.Group.Zero);
            for (int d = from; d < depth; d++)
            {
                var (t, k, c) = DeriveChild(scheme, node.Key, node.ChainCode, indexes[d]);
                node = new Node(k, c, node.Sum + t);
                Nodes.Add(key.Prefix(d + 1), node);
            }
            return (node.Sum, node.Key, node.ChainCode.ToArray());
        }
    }
}

/// <summary>
/// A bounded map for caches: two generations of at most <c>capacity</c> entries; when the newer is full it becomes
/// the older and the former older one is dropped; a hit in the older generation is copied into the newer one.
/// Thread safe (one lock, held for a dictionary operation).
/// </summary>
internal sealed class TwoGenerationCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly Lock gate = new();
    private Dictionary<TKey, TValue> newer = [], older = [];

    public int Count { get { lock (gate) return newer.Count + older.Count; } }

    public bool TryGet(TKey key, out TValue value)
    {
        lock (gate)
        {
            if (newer.TryGetValue(key, out value!)) return true;
            if (!older.TryGetValue(key, out value!)) return false;
            Put(key, value);
            return true;
        }
    }

    public void Add(TKey key, TValue value)
    {
        lock (gate) Put(key, value);
    }

    public void Clear()
    {
        lock (gate)
        {
            newer = [];
            older = [];
        }
    }

    private void Put(TKey key, TValue value)
    {
        if (newer.Count >= capacity && !newer.ContainsKey(key))
        {
            older = newer;
            newer = [];
        }
        newer[key] = value;
    }
}

/// <summary>A derivation was asked of a key that has no chain code (made before HD support).</summary>
public sealed class HdUnavailableException(string keyId)
    : ArgumentException($"key {keyId} has no chain code (it was created before HD wallets were supported): only the root path m can be used; create a new wallet for derived addresses")
{
    public string KeyId { get; } = keyId;
}
