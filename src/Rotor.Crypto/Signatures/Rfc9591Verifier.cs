using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Signatures;

/// <summary>
/// RFC 9591 section 6 signature verification for a prime-order ciphersuite: the signature is
/// SerializeElement(R) || SerializeScalar(z) (secp256k1: 33 + 32 = 65 bytes) and is valid when
/// z·G = R + c·PK with c = H2(SerializeElement(R) || SerializeElement(PK) || msg).
/// </summary>
public static class Rfc9591Verifier
{
    /// <summary>Bytes of a signature under <paramref name="suite"/>: Ne + Ns.</summary>
    public static int SignatureLength(Ciphersuite suite) => suite.Group.ElementLength + suite.Group.ScalarLength;

    /// <summary>
    /// True when the signature verifies; false for an encoding of the wrong length, a non-canonical or
    /// identity R or key, or z not below the order.
    /// </summary>
    public static bool Verify(Ciphersuite suite, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var g = suite.Group;
        if (signature.Length != SignatureLength(suite) || publicKey.Length != g.ElementLength) return false;
        Element pk, r;
        Scalar z;
        try
        {
            pk = g.DecodeElement(publicKey);
            r = g.DecodeElement(signature[..g.ElementLength]);
            z = g.DecodeScalar(signature[g.ElementLength..]);
        }
        catch (InvalidEncodingException)
        {
            return false;
        }
        var c = suite.Challenge(r, pk, message);
        return g.MultiMulVartime([z, -c], [g.Generator, pk]).Equals(r);
    }
}
