using NSec.Cryptography;

namespace Rotor.Crypto.Envelopes;

/// <summary>
/// A node's public identity: its Ed25519 signature key (authenticates what it sends) and its X25519
/// key-agreement key (lets others encrypt to it). Public, immutable, validated on construction.
/// </summary>
public sealed class IdentityKeys : IEquatable<IdentityKeys>
{
    /// <summary>Bytes of each raw public key.</summary>
    public const int KeyLength = 32;

    private readonly byte[] signingKey;
    private readonly byte[] agreementKey;

    /// <summary>Imports both raw public keys, refusing a wrong length or an encoding NSec rejects.</summary>
    public IdentityKeys(ReadOnlySpan<byte> signingKey, ReadOnlySpan<byte> agreementKey)
    {
        if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, signingKey, KeyBlobFormat.RawPublicKey, out var sig) || sig is null)
            throw new ArgumentException($"invalid Ed25519 identity key ({signingKey.Length} bytes, expected {KeyLength})");
        if (!PublicKey.TryImport(KeyAgreementAlgorithm.X25519, agreementKey, KeyBlobFormat.RawPublicKey, out var agr) || agr is null)
            throw new ArgumentException($"invalid X25519 identity key ({agreementKey.Length} bytes, expected {KeyLength})");
        SignatureKey = sig;
        this.signingKey = signingKey.ToArray();
        this.agreementKey = agreementKey.ToArray();
    }

    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    public ReadOnlySpan<byte> SigningKey => signingKey;

    /// <summary>The raw 32-byte X25519 public key.</summary>
    public ReadOnlySpan<byte> AgreementKey => agreementKey;

    internal PublicKey SignatureKey { get; }

    /// <summary>Both keys, signing key first: the 64-byte form carried in certificates and registries.</summary>
    public byte[] ToBytes() => [.. signingKey, .. agreementKey];

    /// <summary>Decodes the 64-byte form written by <see cref="ToBytes"/>.</summary>
    public static IdentityKeys FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 2 * KeyLength) throw new ArgumentException($"identity keys are {bytes.Length} bytes, expected {2 * KeyLength}");
        return new IdentityKeys(bytes[..KeyLength], bytes[KeyLength..]);
    }

    /// <summary>Verifies an Ed25519 signature under a raw 32-byte identity signing key (false for a key that does not import).</summary>
    public static bool VerifyWith(ReadOnlySpan<byte> signingKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        PublicKey.TryImport(SignatureAlgorithm.Ed25519, signingKey, KeyBlobFormat.RawPublicKey, out var key) && key is not null &&
        SignatureAlgorithm.Ed25519.Verify(key, data, signature);

    /// <summary>Verifies an Ed25519 signature by this identity.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        SignatureAlgorithm.Ed25519.Verify(SignatureKey, data, signature);

    public bool Equals(IdentityKeys? other) => other is not null && signingKey.AsSpan().SequenceEqual(other.signingKey) && agreementKey.AsSpan().SequenceEqual(other.agreementKey);
    public override bool Equals(object? obj) => obj is IdentityKeys k && Equals(k);
    public override int GetHashCode() => BitConverter.ToInt32(signingKey, 0);

    /// <summary>A short fingerprint of the signing key, for logs and status output.</summary>
    public override string ToString() => "id:" + Convert.ToHexStringLower(signingKey.AsSpan(0, 8));
}
