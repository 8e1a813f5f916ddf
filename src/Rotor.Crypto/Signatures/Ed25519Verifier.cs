using NSec.Cryptography;

namespace Rotor.Crypto.Signatures;

/// <summary>RFC 8032 Ed25519 verification through NSec (libsodium), independent of Rotor's own group code.</summary>
public static class Ed25519Verifier
{
    public const int KeyLength = 32;

    public const int SignatureLength = 64;

    /// <summary>True when <paramref name="signature"/> (R || S, 64 bytes) is a valid signature of the message under the 32-byte key.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var algorithm = SignatureAlgorithm.Ed25519;
        if (publicKey.Length != KeyLength || signature.Length != SignatureLength) return false;
        if (!PublicKey.TryImport(algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null) return false;
        return algorithm.Verify(key, message, signature);
    }
}
