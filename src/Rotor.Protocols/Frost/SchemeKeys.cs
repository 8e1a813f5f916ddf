using Rotor.Crypto.Groups;
using Rotor.Crypto.Signatures;

namespace Rotor.Protocols.Frost;

/// <summary>Public keys as each scheme's verifiers and chains expect them.</summary>
public static class SchemeKeys
{
    /// <summary>Bytes of an encoded public key: ed25519 32, secp256k1 33, bip340 32.</summary>
    public static int PublicKeyLength(Scheme scheme) => scheme switch
    {
        Scheme.Ed25519 => Ed25519Verifier.KeyLength,
        Scheme.Secp256k1 => 33,
        Scheme.Bip340 => Bip340.KeyLength,
        Scheme.EcdsaSecp256k1 => 33,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme)),
    };

    /// <summary>
    /// The key as the scheme's verifiers take it: ed25519 the RFC 8032 32-byte encoding, secp256k1 the 33-byte
    /// SEC1 compressed point, bip340 the 32-byte x-only key (the signature is made under the point with that x
    /// and even y).
    /// </summary>
    public static byte[] EncodePublicKey(Scheme scheme, Element key)
    {
        if (!ReferenceEquals(key.Group, scheme.Group())) throw new ArgumentException($"a {scheme.Name()} key must be a {scheme.Group().Name} element");
        if (key.IsIdentity) throw new ArgumentException("the identity is not a public key");
        return scheme == Scheme.Bip340 ? Bip340.XOnly(key) : key.ToBytes();
    }
}

/// <summary>Signatures of each scheme: encodings and verification with the scheme's standard verifier.</summary>
public static class SchemeSignatures
{
    /// <summary>Bytes of a signature: ed25519 64 (R || S), secp256k1 65 (R compressed || z), bip340 64 (x(R) || s).</summary>
    public static int Length(Scheme scheme) => scheme switch
    {
        Scheme.Ed25519 => Ed25519Verifier.SignatureLength,
        Scheme.Secp256k1 => 65,
        Scheme.Bip340 => Bip340.SignatureLength,
        Scheme.EcdsaSecp256k1 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme)),
    };

    /// <summary>
    /// Verifies with the scheme's standard, FROST-independent verifier: ed25519 with NSec (RFC 8032),
    /// secp256k1 with RFC 9591's verification, bip340 with the BIP-340 verifier.
    /// </summary>
    public static bool Verify(Scheme scheme, Element publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        Verify(scheme, SchemeKeys.EncodePublicKey(scheme, publicKey), message, signature);

    /// <summary>As <see cref="Verify(Scheme, Element, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> with a key encoded by <see cref="SchemeKeys.EncodePublicKey"/>.</summary>
    public static bool Verify(Scheme scheme, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) => scheme switch
    {
        Scheme.Ed25519 => Ed25519Verifier.Verify(publicKey, message, signature),
        Scheme.Secp256k1 => Rfc9591Verifier.Verify(scheme.Ciphersuite(), publicKey, message, signature),
        Scheme.Bip340 => Bip340.Verify(publicKey, message, signature),
        Scheme.EcdsaSecp256k1 => VerifyEcdsa(publicKey, message, signature),
        _ => throw new ArgumentOutOfRangeException(nameof(scheme)),
    };

    /// <summary>ECDSA (r ‖ s, 64 bytes) over a 32-byte digest under a 33-byte compressed key; false for anything malformed.</summary>
    private static bool VerifyEcdsa(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        Element key;
        try { key = Crypto.Groups.Secp256k1.Secp256k1Group.Instance.DecodeElement(publicKey); }
        catch (Crypto.InvalidEncodingException) { return false; }
        return Ecdsa.EcdsaSignature.Verify(key, digest, signature);
    }

    /// <summary>Encodes (R, z): ed25519 and secp256k1 SerializeElement(R) || SerializeScalar(z); bip340 x(R) || z with R of even y.</summary>
    internal static byte[] Encode(Scheme scheme, Element r, Scalar z)
    {
        var rBytes = scheme == Scheme.Bip340 ? Bip340.XOnly(r) : r.Encoding;
        var sig = new byte[rBytes.Length + z.Group.ScalarLength];
        rBytes.CopyTo(sig);
        z.WriteTo(sig.AsSpan(rBytes.Length));
        return sig;
    }
}
