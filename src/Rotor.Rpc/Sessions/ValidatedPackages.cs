using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Node;

namespace Rotor.Rpc.Sessions;

/// <summary>
/// Public key packages this process has validated (or taken from a verified protocol run), remembered by a digest
/// of every public field: key id, scheme, epoch, threshold, each member's identifier and verification share, and
/// the group key. A package met again in any form (a reshare request, a stored share, a registry row) is then not
/// decoded and checked again: its validation (decoding every element and interpolating the verification shares)
/// costs more than signing. Public data only. Bounded: two generations of at most half the capacity each, the
/// older dropped when the newer fills, so recently used packages stay.
/// </summary>
public sealed class ValidatedPackages(int capacity)
{
    /// <summary>The process's packages: room for the wallets of a large batch at two epochs.</summary>
    public static ValidatedPackages Shared { get; } = new(40_000);

    private readonly object gate = new();
    private Dictionary<string, PublicKeyPackage> current = [], previous = [];

    /// <summary>The remembered package with this digest, or null.</summary>
    public PublicKeyPackage? Find(string digest)
    {
        lock (gate)
        {
            if (current.TryGetValue(digest, out var p)) return p;
            if (!previous.Remove(digest, out p)) return null;
            Add(digest, p);
            return p;
        }
    }

    /// <summary>Remembers a validated package.</summary>
    public void Remember(PublicKeyPackage package)
    {
        var digest = Digest(package);
        lock (gate) Add(digest, package);
    }

    /// <summary>
    /// The package with this digest if remembered, else <paramref name="validate"/>'s result (which must validate
    /// exactly the fields the digest was made of), remembered.
    /// </summary>
    public PublicKeyPackage GetOrValidate(string digest, Func<PublicKeyPackage> validate)
    {
        if (Find(digest) is { } known) return known;
        var package = validate();
        lock (gate) Add(digest, package);
        return package;
    }

    private void Add(string digest, PublicKeyPackage package)
    {
        current[digest] = package;
        if (current.Count < capacity / 2) return;
        previous = current;
        current = [];
    }

    /// <summary>The digest of a package: hex of <see cref="PublicKeyPackage.Digest"/>.</summary>
    public static string Digest(PublicKeyPackage p) => Convert.ToHexStringLower(p.Digest);

    /// <summary>The digest of a package in its wire form (members by party index).</summary>
    public static string Digest(KeyPackage w)
    {
        if (!Schemes.TryParse(w.Scheme, out var scheme)) return "";
        var g = scheme.Group();
        return Digest(w.KeyId, w.Scheme, w.Epoch, (int)w.Threshold,
            w.VerifyingShares.Where(kv => kv.Key != 0).OrderBy(kv => kv.Key)
                .Select(kv => (g.ScalarFromUInt64(kv.Key).ToBytes(), kv.Value.ToByteArray(), w.MemberKeys.TryGetValue(kv.Key, out var k) ? k.ToByteArray() : [])),
            w.GroupPublicKey.ToByteArray(), w.ChainCode.ToByteArray(), w.InternalKey.ToByteArray());
    }

    /// <summary>
    /// The digest of a package given field by field, laid out as <see cref="PublicKeyPackage.Digest"/>: members as
    /// identifier encodings with their verification shares' and identity keys' encodings (empty when unbound), in
    /// ascending identifier order (another order only makes a different digest, never a false match).
    /// </summary>
    public static string Digest(string keyId, string scheme, ulong epoch, int threshold, IEnumerable<(byte[] Identifier, byte[] VerifyingShare, byte[] MemberKey)> members, byte[] groupKey,
        byte[]? chainCode = null, byte[]? internalKey = null)
    {
        var list = members.ToList();
        using var t = new Transcript("rotor/public-package/v1");
        t.Append("key-id", keyId).Append("scheme", scheme).Append("epoch", epoch).Append("threshold", (ulong)threshold)
         .Append("group-public-key", groupKey).Append("members", (ulong)list.Count);
        foreach (var (id, y, k) in list) t.Append("member", id).Append("verifying-share", y).Append("identity", k);
        if (chainCode is { Length: > 0 }) t.Append("chain-code", chainCode).Append("internal-key", internalKey ?? []);
        return Convert.ToHexStringLower(t.Digest());
    }
}
