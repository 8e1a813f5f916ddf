using System.Numerics;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Protocols.Ecdsa;

namespace Rotor.Protocols.Tests.Ecdsa;

/// <summary>Independent checks: .NET's ECDsa (OpenSSL) over secP256k1 and public-key recovery from (r, s, v) in plain BigInteger arithmetic.</summary>
internal static class EcdsaCheck
{
    private static readonly BigInteger P = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", System.Globalization.NumberStyles.HexNumber);

    public static byte[] Uncompressed(Element pk)
    {
        var enc = pk.Encoding;
        var x = new BigInteger(enc[1..], isUnsigned: true, isBigEndian: true);
        var y = BigInteger.ModPow((BigInteger.ModPow(x, 3, P) + 7) % P, (P + 1) / 4, P);
        if ((int)(y & 1) != (enc[0] & 1)) y = P - y;
        var xb = x.ToByteArray(isUnsigned: true, isBigEndian: true);
        var yb = y.ToByteArray(isUnsigned: true, isBigEndian: true);
        var r = new byte[64];
        xb.CopyTo(r, 32 - xb.Length);
        yb.CopyTo(r, 64 - yb.Length);
        return r;
    }

    /// <summary>Verifies with .NET's ECDsa (the platform's OpenSSL), independent of Rotor's group code.</summary>
    public static bool DotNetVerifies(Element pk, byte[] digest, byte[] rs)
    {
        var q = Uncompressed(pk);
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.CreateFromFriendlyName("secP256k1"),
            Q = new ECPoint { X = q[..32], Y = q[32..] },
        });
        return ecdsa.VerifyHash(digest, rs);
    }

    /// <summary>Verifies the DER form (RFC 3279 sequence) with .NET's ECDsa.</summary>
    public static bool DotNetVerifiesDer(Element pk, byte[] digest, byte[] der)
    {
        var q = Uncompressed(pk);
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.CreateFromFriendlyName("secP256k1"),
            Q = new ECPoint { X = q[..32], Y = q[32..] },
        });
        return ecdsa.VerifyHash(digest, der, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>Recovers the public key from (digest, r, s, v) as Ethereum's ecrecover does, and compares.</summary>
    public static bool Recovers(Element pk, byte[] digest, EcdsaSignature sig)
    {
        var g = Secp256k1Group.Instance;
        var rPoint = g.DecodeElement([(byte)(0x02 + sig.RecoveryId), .. sig.R]);
        var r = g.DecodeNonZeroScalar(sig.R);
        var s = g.DecodeNonZeroScalar(sig.S);
        var e = g.ReduceWide(digest);
        var rInv = r.Invert();
        var q = g.MultiMulVartime([s * rInv, -(e * rInv)], [rPoint, g.Generator]);
        return q.Equals(pk);
    }

    public static byte[] Digest(string text) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
}
