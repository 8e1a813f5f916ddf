using System.Buffers.Binary;
using System.Security.Cryptography;
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
/// </summary>
public sealed record HdTweak(Scheme Scheme, DerivationPath Path, bool Negate, Scalar Offset, Element ChildKey, byte[]? ChainCode)
{
    /// <summary>The child share of a root share s_i.</summary>
    public Scalar ApplyToShare(Scalar share) => (Negate ? -share : share) + Offset;

    /// <summary>The child key in the scheme's encoding (SchemeKeys.EncodePublicKey: x-only for bip340).</summary>
    public byte[] EncodedChildKey => SchemeKeys.EncodePublicKey(Scheme, ChildKey);
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
        HMACSHA512.HashData(chainCode, data, i);
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
        var child = parent + g.MulBase(tweak);
        if (child.IsIdentity) throw new ArgumentException($"index {index} gives an invalid child (the point at infinity): use the next index");
        return (tweak, child, i[32..].ToArray());
    }

    /// <summary>CKDpub along a whole path: the sum of the step tweaks, the child key and its chain code.</summary>
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

    /// <summary>The BIP-341 output key of an internal key with no script path: even(P) + TapTweak(P)·G.</summary>
    public static Element TaprootOutputKey(Element internalKey) =>
        (Bip340.HasEvenY(internalKey) ? internalKey : -internalKey) + internalKey.Group.MulBase(TapTweak(internalKey));

    /// <summary>
    /// The tweak that takes the key of <paramref name="root"/> to the child at <paramref name="path"/> (the root
    /// itself for "m"). Throws <see cref="HdUnavailableException"/> for a non-root path of a key without a chain code.
    /// </summary>
    public static HdTweak Tweak(PublicKeyPackage root, DerivationPath path)
    {
        if (root.DerivedPath is not null) throw new ArgumentException("derive from the root key's package, not from a derived one");
        return TweakCore(root.Scheme, root.KeyId, root.GroupPublicKey, root.HasChainCode ? root.ChainCode.ToArray() : null, root.InternalKey, path);
    }

    /// <summary>
    /// <see cref="Tweak(PublicKeyPackage, DerivationPath)"/> from the root's public data alone (group key, chain code,
    /// bip340 internal key), checked as <see cref="PublicKeyPackage.WithHdRoot"/> checks them.
    /// </summary>
    public static HdTweak Tweak(Scheme scheme, string keyId, Element groupKey, byte[]? chainCode, Element? internalKey, DerivationPath path)
    {
        if (chainCode is not null) PublicKeyPackage.CheckHdRoot(scheme, groupKey, chainCode, internalKey);
        return TweakCore(scheme, keyId, groupKey, chainCode, internalKey, path);
    }

    /// <summary>The tweak, from HD root data already checked (a validated package's).</summary>
    private static HdTweak TweakCore(Scheme scheme, string keyId, Element groupKey, byte[]? chainCode, Element? internalKey, DerivationPath path)
    {
        var g = groupKey.Group;
        if (path.IsRoot) return new HdTweak(scheme, path, false, g.Zero, groupKey, chainCode);
        if (chainCode is null) throw new HdUnavailableException(keyId);
        if (scheme != Scheme.Bip340)
        {
            var (delta, child, chain) = DerivePublic(scheme, groupKey, chainCode, path);
            return new HdTweak(scheme, path, false, delta, child, chain);
        }
        // bip340: the root shares are of Q = P + t·G (P the internal key, even y): shares of P are s_i − t.
        var p = internalKey!;
        var t = TapTweak(p);
        var (d, pc, cc) = DerivePublic(scheme, p, chainCode, path);
        var tc = TapTweak(pc);
        bool negate = !Bip340.HasEvenY(pc);
        // child internal share: s_i − t + δ; output share: ±(s_i − t + δ) + t_c
        var offset = negate ? t - d + tc : d - t + tc;
        var q = (negate ? -pc : pc) + g.MulBase(tc);
        return new HdTweak(scheme, path, negate, offset, q, cc);
    }

    /// <summary>The child key at <paramref name="path"/> in the scheme's encoding (x-only for bip340).</summary>
    public static byte[] ChildPublicKey(PublicKeyPackage root, DerivationPath path) => Tweak(root, path).EncodedChildKey;

    /// <summary>The public package of the child at <paramref name="path"/>: what a coordinator verifies shares and aggregates against.</summary>
    public static PublicKeyPackage DerivePackage(PublicKeyPackage root, DerivationPath path)
    {
        if (path.IsRoot) return root;
        var tw = Tweak(root, path);
        return root.Transformed(tw.Negate, tw.Offset, tw.ChildKey, path);
    }

    /// <summary>
    /// The member's share of the child key at <paramref name="path"/>, in memory only (never stored): what the
    /// member signs with. Same key id, epoch and identifier as the root share.
    /// </summary>
    public static KeyShare DeriveShare(KeyShare root, DerivationPath path)
    {
        if (path.IsRoot) return root;
        var tw = Tweak(root.Public, path);
        var pub = root.Public.Transformed(tw.Negate, tw.Offset, tw.ChildKey, path);
        return KeyShare.FromVerified(pub, root.Identifier, tw.ApplyToShare(root.SigningShare));
    }

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
}

/// <summary>A derivation was asked of a key that has no chain code (made before HD support).</summary>
public sealed class HdUnavailableException(string keyId)
    : ArgumentException($"key {keyId} has no chain code (it was created before HD wallets were supported): only the root path m can be used; create a new wallet for derived addresses")
{
    public string KeyId { get; } = keyId;
}
