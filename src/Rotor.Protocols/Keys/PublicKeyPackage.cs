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
/// </summary>
public sealed class PublicKeyPackage
{
    /// <summary>Bytes of a member's identity key (a raw Ed25519 public key).</summary>
    public const int MemberKeyLength = 32;

    private readonly Dictionary<Identifier, Element> verifyingShares;
    private readonly Dictionary<Identifier, byte[]> memberKeys = [];
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
        var bound = new PublicKeyPackage(KeyId, Scheme, Epoch, Threshold, verifyingShares, GroupPublicKey, checkConsistency: false);
        foreach (var (id, k) in keys) bound.memberKeys[id] = k.ToArray();
        return bound;
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

    public IReadOnlyDictionary<Identifier, Element> VerifyingShares => verifyingShares;

    public Element GroupPublicKey { get; }

    public Element VerifyingShare(Identifier id) =>
        verifyingShares.TryGetValue(id, out var y) ? y : throw new ArgumentException($"{id} is not a member of key {KeyId} epoch {Epoch}");

    public bool IsMember(Identifier id) => verifyingShares.ContainsKey(id);

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
            t.Append("member", m.ToBytes()).Append("verifying-share", verifyingShares[m].ToBytes()).Append("identity", MemberKey(m) ?? []);
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
