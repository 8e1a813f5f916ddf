using Rotor.Crypto;
using Rotor.Crypto.Groups;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// Public-key recovery from an ECDSA signature (what Ethereum's ecrecover does with v = 27 + recovery id):
/// R is the point with x = r and the y parity of the recovery id, Q = r⁻¹·(s·R − e·G). Public data only.
/// Recovery ids 2 and 3 (x(R) ≥ n) do not occur: Rotor's signing refuses such an R.
/// </summary>
public static class EcdsaRecovery
{
    /// <summary>The key that (r ‖ s, recovery id) recovers for the 32-byte digest, or null when none does.</summary>
    public static Element? Recover(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, int recoveryId)
    {
        var g = Scheme.EcdsaSecp256k1.Group();
        if (digest.Length != EcdsaSignSession.MessageDigestLength || signature.Length != 64 || recoveryId is not (0 or 1)) return null;
        try
        {
            var r = g.DecodeNonZeroScalar(signature[..32]);
            var s = g.DecodeNonZeroScalar(signature[32..]);
            var rPoint = g.DecodeElement([(byte)(0x02 + recoveryId), .. signature[..32]]);
            var e = g.ReduceWide(digest);
            var rInv = r.Invert();
            var q = g.MultiMulVartime([s * rInv, -(e * rInv)], [rPoint, g.Generator]);
            return q.IsIdentity ? null : q;
        }
        catch (InvalidEncodingException)
        {
            return null;
        }
    }

    /// <summary>
    /// The recovery id (0 or 1) under which the signature recovers <paramref name="publicKey"/> for the digest, or
    /// null when the signature does not verify under that key for that digest.
    /// </summary>
    public static int? RecoveryId(Element publicKey, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (!EcdsaSignature.Verify(publicKey, digest, signature)) return null;
        for (int v = 0; v < 2; v++)
            if (Recover(digest, signature, v) is { } q && q.Equals(publicKey)) return v;
        return null;
    }
}
