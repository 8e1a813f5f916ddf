using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Signatures;

/// <summary>
/// BIP-340 Schnorr signatures over secp256k1, written from the BIP: 32-byte x-only public keys, 64-byte
/// signatures bytes(R) || bytes(s) where R has even y, and tagged SHA-256 hashes.
/// </summary>
public static class Bip340
{
    /// <summary>The tag of the challenge hash.</summary>
    public const string ChallengeTag = "BIP0340/challenge";

    /// <summary>Bytes of an x-only public key and of each signature half.</summary>
    public const int KeyLength = 32;

    public const int SignatureLength = 64;

    private static readonly byte[] ChallengeTagHash = SHA256.HashData(Encoding.UTF8.GetBytes(ChallengeTag));

    private static Secp256k1Group G => Secp256k1Group.Instance;

    /// <summary>hash_tag(x) = SHA256(SHA256(tag) || SHA256(tag) || x).</summary>
    public static byte[] TaggedHash(string tag, ReadOnlySpan<byte> m)
    {
        // one-shot over a buffer (short messages such as TapTweak's 32 bytes): no incremental hash object
        var tagHash = tag == TapTweakTag ? TapTweakTagHash : SHA256.HashData(Encoding.UTF8.GetBytes(tag));
        if (m.Length > 256)
        {
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            h.AppendData(tagHash);
            h.AppendData(tagHash);
            h.AppendData(m);
            return h.GetHashAndReset();
        }
        Span<byte> buf = stackalloc byte[64 + m.Length];
        tagHash.CopyTo(buf);
        tagHash.CopyTo(buf[32..]);
        m.CopyTo(buf[64..]);
        return SHA256.HashData(buf);
    }

    private const string TapTweakTag = "TapTweak";
    private static readonly byte[] TapTweakTagHash = SHA256.HashData(Encoding.UTF8.GetBytes(TapTweakTag));

    /// <summary>e = int(hash_BIP0340/challenge(bytes(R) || bytes(P) || m)) mod n.</summary>
    public static Scalar Challenge(ReadOnlySpan<byte> rx, ReadOnlySpan<byte> px, ReadOnlySpan<byte> message)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(ChallengeTagHash);
        h.AppendData(ChallengeTagHash);
        h.AppendData(rx);
        h.AppendData(px);
        h.AppendData(message);
        Span<byte> digest = stackalloc byte[32];
        h.GetHashAndReset(digest);
        return G.ReduceWide(digest);
    }

    /// <summary>bytes(P): the 32-byte x coordinate of a non-identity secp256k1 element.</summary>
    public static byte[] XOnly(Element e)
    {
        CheckPoint(e);
        return e.Encoding[1..].ToArray();
    }

    /// <summary>Whether a non-identity secp256k1 element has an even y coordinate.</summary>
    public static bool HasEvenY(Element e)
    {
        CheckPoint(e);
        return e.Encoding[0] == 0x02;
    }

    /// <summary>lift_x: the point with x coordinate <paramref name="x"/> and even y; refuses x ≥ p and x off the curve.</summary>
    public static Element LiftX(ReadOnlySpan<byte> x)
    {
        if (x.Length != KeyLength)
            throw new InvalidEncodingException("BIP-340 x-only key", EncodingError.WrongLength, $"{x.Length} bytes, expected {KeyLength}");
        Span<byte> compressed = stackalloc byte[33];
        compressed[0] = 0x02;
        x.CopyTo(compressed[1..]);
        return G.DecodeElement(compressed);
    }

    /// <summary>
    /// BIP-340 Verify(pk, m, sig): false for a key or signature of the wrong length, a key that is not the x
    /// coordinate of a curve point, r ≥ p, s ≥ n, or when R = s·G − e·P is the identity, has odd y or x(R) ≠ r.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != KeyLength || signature.Length != SignatureLength) return false;
        Element p;
        Scalar s;
        try
        {
            p = LiftX(publicKey);
            s = G.DecodeScalar(signature[32..]);
        }
        catch (InvalidEncodingException)
        {
            return false;
        }
        var r = signature[..32];
        var e = Challenge(r, publicKey, message);
        var rPoint = G.MultiMulVartime([s, -e], [G.Generator, p]);
        // x(R) < p always, so comparing with r also refuses r ≥ p.
        return !rPoint.IsIdentity && rPoint.Encoding[0] == 0x02 && rPoint.Encoding[1..].SequenceEqual(r);
    }

    private static void CheckPoint(Element e)
    {
        if (!ReferenceEquals(e.Group, G)) throw new ArgumentException($"BIP-340 needs a secp256k1 element, not {e.Group.Name}");
        if (e.IsIdentity) throw new ArgumentException("the identity has no BIP-340 encoding");
    }
}
