using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;

namespace Rotor.Protocols;

/// <summary>A signature scheme Rotor keys are used with. The names are the CLI's and the wire's.</summary>
public enum Scheme
{
    /// <summary>FROST(Ed25519, SHA-512): RFC 8032 Ed25519 signatures.</summary>
    Ed25519,
    /// <summary>FROST(secp256k1, SHA-256): the RFC 9591 65-byte signature (R compressed, z).</summary>
    Secp256k1,
    /// <summary>FROST(secp256k1, SHA-256, Taproot): BIP-340 Schnorr signatures under an x-only key.</summary>
    Bip340,
    /// <summary>Threshold ECDSA over secp256k1 (DKLs23): 64-byte r ‖ s (low-S) with a recovery id, over a 32-byte digest.</summary>
    EcdsaSecp256k1,
}

public static class Schemes
{
    public static string Name(this Scheme s) => s switch
    {
        Scheme.Ed25519 => "ed25519",
        Scheme.Secp256k1 => "secp256k1",
        Scheme.Bip340 => "bip340",
        Scheme.EcdsaSecp256k1 => "ecdsa-secp256k1",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static bool TryParse(string? name, out Scheme scheme)
    {
        switch (name?.ToLowerInvariant())
        {
            case "ed25519": scheme = Scheme.Ed25519; return true;
            case "secp256k1": scheme = Scheme.Secp256k1; return true;
            case "bip340": case "taproot": scheme = Scheme.Bip340; return true;
            case "ecdsa-secp256k1": scheme = Scheme.EcdsaSecp256k1; return true;
            default: scheme = default; return false;
        }
    }

    public static Scheme Parse(string name) =>
        TryParse(name, out var s) ? s : throw new ArgumentException($"unknown scheme '{name}' (expected ed25519, secp256k1, bip340 or ecdsa-secp256k1)");

    public static Group Group(this Scheme s) => s switch
    {
        Scheme.Ed25519 => Crypto.Groups.Ed25519.Ed25519Group.Instance,
        Scheme.Secp256k1 or Scheme.Bip340 or Scheme.EcdsaSecp256k1 => Crypto.Groups.Secp256k1.Secp256k1Group.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    /// <summary>
    /// The FROST ciphersuite of the scheme (bip340: the frost-secp256k1-tr suite). ecdsa-secp256k1 is not FROST and
    /// has none: refused with <see cref="Fault.InvalidUsage"/> (a FROST signing with an ECDSA key share stops here).
    /// </summary>
    public static Ciphersuite Ciphersuite(this Scheme s) => s switch
    {
        Scheme.Ed25519 => Ed25519Sha512.Instance,
        Scheme.Secp256k1 => Secp256k1Sha256.Instance,
        Scheme.Bip340 => Secp256k1Sha256Tr.Instance,
        Scheme.EcdsaSecp256k1 => throw new ProtocolException(Fault.InvalidUsage,
            "ecdsa-secp256k1 is threshold ECDSA (DKLs23), not FROST: it has no FROST ciphersuite (sign with Rotor.Protocols.Ecdsa)"),
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    /// <summary>
    /// The ciphersuite of the DKG's proofs of knowledge: the scheme's FROST suite; for ecdsa-secp256k1 (no FROST
    /// suite: an ECDSA key never signs with FROST) the secp256k1 suite. Sessions bind the scheme's name, so the
    /// two schemes' DKG transcripts never mix.
    /// </summary>
    public static Ciphersuite DkgCiphersuite(this Scheme s) => s == Scheme.EcdsaSecp256k1 ? Secp256k1Sha256.Instance : s.Ciphersuite();
}
