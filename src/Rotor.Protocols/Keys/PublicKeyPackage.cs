using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Keys;

/// <summary>
/// The public side of one epoch of a threshold key: who holds shares, the threshold, every member's public
/// verification share Y_i = s_i·G and the group public key Y. Validated on construction: the verification
/// shares lie on one polynomial of degree t−1 whose value at 0 is Y.
/// A package may also record, for every member identifier, the Ed25519 identity public key of the node that holds
/// it (<see cref="MemberKeys"/>, certified at key generation and at every reshare): who stands behind each
/// identifier. A package without them is unbound; the node services refuse to deal, help or repair for one.
/// A key made by this version's DKG also has HD root data (<see cref="ChainCode"/>, for bip340 <see cref="InternalKey"/>),
/// carried unchanged by every reshare and repair: child keys along non-hardened paths are derived from it
/// (<see cref="Hd.HdDerivation"/>).
/// </summary>
public sealed class PublicKeyPackage
{
    /// <summary>Bytes of a member's identity key (a raw Ed25519 public key).</summary>
    public const int MemberKeyLength = 32;

    private readonly Dictionary<Identifier, Element> verifyingShares;
    private readonly Dictionary<Identifier, byte[]> memberKeys = [];
    private byte[]? chainCode;
    private Element? internalKey;
    private byte[]? digest;

    public PublicKeyPackage(string keyId, Scheme scheme, ulong epoch, int threshold,
        IReadOnlyDictionary<Identifier, Element> verifyingShares, Element groupPublicKey)
        : this(keyId, scheme, epoch, threshold, verifyingShares, groupPublicKey, checkConsistency: true)
    {
    }

    /// <summary>
    /// The package a verified (aggregate) Feldman commitment defines: Y = C_0 and Y_j = C(x_j) for every member.
    /// Consistent by construction, so no interpolation check is needed. The commitment's length is the threshold.
    /// </summary>
    public static PublicKeyPackage FromCommitment(string keyId, Scheme scheme, ulong epoch,
        IReadOnlyList<Identifier> members, FeldmanCommitment commitment, IReadOnlyDictionary<Identifier, byte[]>? memberKeys = null)
    {
        var shares = new Dictionary<Identifier, Element>();
        foreach (var m in members)
            if (!shares.TryAdd(m, commitment.Evaluate(m))) throw new ArgumentException($"member {m} appears twice");
        var pub = new PublicKeyPackage(keyId, scheme, epoch, commitment.Threshold, shares, commitment.ConstantTerm, checkConsistency: false);
        return memberKeys is null || memberKeys.Count == 0 ? pub : pub.WithMemberKeys(memberKeys);
    }

    /// <summary>
    /// The same package recording each member's identity key; refuses keys for other identifiers than exactly the
    /// members, or of the wrong length.
    /// </summary>
    public PublicKeyPackage WithMemberKeys(IReadOnlyDictionary<Identifier, byte[]> keys)
    {
        CheckMemberKeys(Members, keys);
        var bound = new PublicKeyPackage(KeyId, Scheme, Epoch, Threshold, VerifyingShares, GroupPublicKey, checkConsistency: false)
        {
            chainCode = chainCode,
            internalKey = internalKey,
        };
        foreach (var (id, k) in keys) bound.memberKeys[id] = k.ToArray();
        return bound;
    }

    /// <summary>Bytes of a chain code.</summary>
    public const int ChainCodeLength = 32;

    /// <summary>
    /// The same package with the HD root data of the key: its 32-byte chain code and, for bip340, the BIP-341
    /// internal key P (even y) that the DKG tweaked into the group key Q = P + int(hash_TapTweak(x(P)))·G. Refuses a
    /// chain code of another length, a bip340 key without an internal key (or another scheme's key with one), and an
    /// internal key that does not tweak to the group key.
    /// </summary>
    public PublicKeyPackage WithHdRoot(ReadOnlySpan<byte> chainCode, Element? internalKey)
    {
        CheckHdRoot(Scheme, GroupPublicKey, chainCode, internalKey);
        var copy = new PublicKeyPackage(KeyId, Scheme, Epoch, Threshold, VerifyingShares, GroupPublicKey, checkConsistency: false)
        {
            chainCode = chainCode.ToArray(),
            internalKey = internalKey,
        };
        foreach (var (id, k) in memberKeys) copy.memberKeys[id] = k;
        return copy;
    }

    /// <summary>The same package with the HD root data of <paramref name="other"/> (a reshare's old package), if it has any.</summary>
    public PublicKeyPackage WithHdRootOf(PublicKeyPackage other) =>
        other.chainCode is null ? this : WithHdRoot(other.chainCode, other.internalKey);

    /// <summary>Checks HD root data as <see cref="WithHdRoot"/> does; throws ArgumentException naming what is wrong.</summary>
    public static void CheckHdRoot(Scheme scheme, Element groupKey, ReadOnlySpan<byte> chainCode, Element? internalKey)
    {
        if (chainCode.Length != ChainCodeLength) throw new ArgumentException($"chain code of {chainCode.Length} bytes, expected {ChainCodeLength}");
        if (scheme != Scheme.Bip340)
        {
            if (internalKey is not null) throw new ArgumentException($"a {scheme.Name()} key has no internal key");
            return;
        }
        if (internalKey is null) throw new ArgumentException("a bip340 key with a chain code needs its internal key");
        if (!ReferenceEquals(internalKey.Group, groupKey.Group) || internalKey.IsIdentity || !Rotor.Crypto.Signatures.Bip340.HasEvenY(internalKey))
            throw new ArgumentException("the internal key is not a secp256k1 point with even y");
        if (!Hd.HdDerivation.TaprootOutputKey(internalKey).Equals(groupKey))
            throw new ArgumentException("the internal key does not tweak to the group public key");
    }

    /// <summary>The root chain code (32 bytes), or null for a key made before HD support (no derivation possible).</summary>
    public ReadOnlySpan<byte> ChainCode => chainCode;

    /// <summary>Whether child keys can be derived (the key has a chain code).</summary>
    public bool HasChainCode => chainCode is not null;

    /// <summary>bip340: the BIP-341 internal key P (even y) of the group key; null otherwise.</summary>
    public Element? InternalKey => internalKey;

    /// <summary>For a child package made by <see cref="Hd.HdDerivation.DerivePackage"/>: its path; null for a root key.</summary>
    public Hd.DerivationPath? DerivedPath { get; private init; }

    /// <summary>
    /// The package of the sharing s′_i = ±s_i + offset (the affine image of this one), for signing under a derived
    /// key: verification shares ±Y_i + offset·G, group key ±Y + offset·G. Same key id, epoch, members and member keys;
    /// no chain code (derive from the root). Consistent by construction (the map preserves the polynomial's degree).
    /// Cheap to make: the group key is the tweak's child key, and each verification share is computed when first
    /// asked for (a signing needs those of its signers only, and only to check or blame their shares).
    /// </summary>
    internal PublicKeyPackage Transformed(Hd.HdTweak tweak)
    {
        if (!ReferenceEquals(tweak.ChildKey.Group, Group)) throw new ArgumentException("a tweak of another group");
        return new PublicKeyPackage(this, tweak);
    }

    /// <summary>A derived package (see <see cref="Transformed"/>).</summary>
    private PublicKeyPackage(PublicKeyPackage root, Hd.HdTweak tweak)
    {
        KeyId = root.KeyId;
        Scheme = root.Scheme;
        Epoch = root.Epoch;
        Threshold = root.Threshold;
        Members = root.Members;
        GroupPublicKey = tweak.ChildKey;
        verifyingShares = [];
        memberKeys = root.memberKeys;   // never changed after construction
        derivedFrom = root;
        derivation = tweak;
        DerivedPath = tweak.Path;
    }

    /// <summary>For a derived package: the root package and the tweak; its verification shares are made lazily.</summary>
    private readonly PublicKeyPackage? derivedFrom;
    private readonly Hd.HdTweak? derivation;
    private System.Collections.Concurrent.ConcurrentDictionary<Identifier, Element>? lazyShares;
    private Dictionary<Identifier, Element>? allShares;

    private Element DerivedShare(Identifier id)
    {
        var shares = lazyShares ?? LazyShares();
        if (shares.TryGetValue(id, out var y)) return y;
        var child = derivation!.ApplyToVerifyingShare(derivedFrom!.VerifyingShare(id));
        if (child.IsIdentity) throw new ArgumentException($"member {id}: verification share is the identity");
        return shares.GetOrAdd(id, child);
    }

    private System.Collections.Concurrent.ConcurrentDictionary<Identifier, Element> LazyShares()
    {
        System.Threading.Interlocked.CompareExchange(ref lazyShares, new(), null);
        return lazyShares!;
    }

    private Dictionary<Identifier, Element> AllShares()
    {
        if (allShares is { } all) return all;
        var d = new Dictionary<Identifier, Element>(Members.Count);
        foreach (var m in Members) d[m] = DerivedShare(m);
        return allShares = d;
    }

    /// <summary>Refuses member keys that are not one 32-byte key for each of exactly these members.</summary>
    public static void CheckMemberKeys(IReadOnlyList<Identifier> members, IReadOnlyDictionary<Identifier, byte[]> keys)
    {
        if (keys.Count != members.Count || members.Any(m => !keys.ContainsKey(m)))
            throw new ArgumentException($"member identity keys are given for {keys.Count} identifiers, not for exactly the {members.Count} members");
        foreach (var (id, k) in keys)
            if (k.Length != MemberKeyLength) throw new ArgumentException($"member {id}: identity key of {k.Length} bytes, expected {MemberKeyLength}");
    }

    private PublicKeyPackage(string keyId, Scheme scheme, ulong epoch, int threshold,
        IReadOnlyDictionary<Identifier, Element> verifyingShares, Element groupPublicKey, bool checkConsistency)
    {
        KeyIds.Validate(keyId);
        var group = scheme.Group();
        if (verifyingShares.Count == 0) throw new ArgumentException("no members");
        if (threshold < 1 || threshold > verifyingShares.Count)
            throw new ArgumentException($"threshold {threshold} is outside 1..{verifyingShares.Count}");
        foreach (var (id, y) in verifyingShares)
        {
            if (!ReferenceEquals(id.Group, group) || !ReferenceEquals(y.Group, group))
                throw new ArgumentException($"member {id}: not a {group.Name} value");
            if (y.IsIdentity) throw new ArgumentException($"member {id}: verification share is the identity");
        }
        if (!ReferenceEquals(groupPublicKey.Group, group) || groupPublicKey.IsIdentity)
            throw new ArgumentException("group public key is not a valid element");
        KeyId = keyId;
        Scheme = scheme;
        Epoch = epoch;
        Threshold = threshold;
        this.verifyingShares = new Dictionary<Identifier, Element>(verifyingShares);
        Members = verifyingShares.Keys.OrderBy(i => i).ToArray();
        GroupPublicKey = groupPublicKey;
        if (checkConsistency) CheckConsistency();
    }

    public string KeyId { get; }
    public Scheme Scheme { get; }
    public Group Group => Scheme.Group();
    public ulong Epoch { get; }
    public int Threshold { get; }

    /// <summary>Member identifiers in ascending order.</summary>
    public IReadOnlyList<Identifier> Members { get; }

    public IReadOnlyDictionary<Identifier, Element> VerifyingShares => derivation is null ? verifyingShares : AllShares();

    public Element GroupPublicKey { get; }

    public Element VerifyingShare(Identifier id)
    {
        if (derivation is not null)
            return derivedFrom!.IsMember(id) ? DerivedShare(id) : throw new ArgumentException($"{id} is not a member of key {KeyId} epoch {Epoch}");
        return verifyingShares.TryGetValue(id, out var y) ? y : throw new ArgumentException($"{id} is not a member of key {KeyId} epoch {Epoch}");
    }

    public bool IsMember(Identifier id) => derivedFrom?.IsMember(id) ?? verifyingShares.ContainsKey(id);

    /// <summary>Each member's identity key (raw Ed25519 public key); empty for an unbound package.</summary>
    public IReadOnlyDictionary<Identifier, byte[]> MemberKeys => memberKeys;

    /// <summary>Whether the package records who holds each identifier.</summary>
    public bool IsBound => memberKeys.Count > 0;

    /// <summary>The identity key recorded for a member, or null (unbound package, or not a member).</summary>
    public byte[]? MemberKey(Identifier id) => memberKeys.TryGetValue(id, out var k) ? k : null;

    /// <summary>
    /// 64 bytes over every public field (<c>rotor/public-package/v1</c>): key id, scheme, epoch, threshold, group key,
    /// each member's identifier, verification share and identity key. Reshare and repair sessions bind it.
    /// </summary>
    public byte[] Digest => digest ??= ComputeDigest();

    /// <summary>Whether two packages are the same in every public field (member keys included).</summary>
    public bool SameAs(PublicKeyPackage other) =>
        ReferenceEquals(this, other) || CryptographicOperations.FixedTimeEquals(Digest, other.Digest);

    private byte[] ComputeDigest()
    {
        using var t = new Transcript("rotor/public-package/v1");
        t.Append("key-id", KeyId).Append("scheme", Scheme.Name()).Append("epoch", Epoch).Append("threshold", (ulong)Threshold)
         .Append("group-public-key", GroupPublicKey.ToBytes()).Append("members", (ulong)Members.Count);
        foreach (var m in Members)
            t.Append("member", m.ToBytes()).Append("verifying-share", VerifyingShare(m).ToBytes()).Append("identity", MemberKey(m) ?? []);
        // Appended only when present, so that the digest of a package made before HD support is unchanged.
        if (chainCode is not null) t.Append("chain-code", chainCode).Append("internal-key", internalKey?.ToBytes() ?? []);
        if (DerivedPath is not null) t.Append("derived-path", DerivedPath.ToString());
        return t.Digest();
    }

    /// <summary>Interpolates Y from the first t verification shares and checks every other share against the same polynomial.</summary>
    private void CheckConsistency()
    {
        var basis = Members.Take(Threshold).ToArray();
        var ys = basis.Select(i => verifyingShares[i]).ToArray();
        var lambdas0 = basis.Select(i => Lagrange.AtZero(i, basis)).ToArray();
        if (!Group.MultiMulVartime(lambdas0, ys).Equals(GroupPublicKey))
            throw new ArgumentException("verification shares do not interpolate to the group public key");
        foreach (var other in Members.Skip(Threshold))
        {
            var lambdas = basis.Select(i => Lagrange.Coefficient(i, basis, other.Scalar)).ToArray();
            if (!Group.MultiMulVartime(lambdas, ys).Equals(verifyingShares[other]))
                throw new ArgumentException($"verification share of member {other} is not on the degree-{Threshold - 1} polynomial of the others");
        }
    }
}

public static class KeyIds
{
    /// <summary>Key ids are 1..64 characters of [A-Za-z0-9._-].</summary>
    public static void Validate(string keyId)
    {
        if (string.IsNullOrEmpty(keyId) || keyId.Length > 64 || !keyId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"invalid key id '{keyId}': use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
    }
}
