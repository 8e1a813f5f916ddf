using System.Security.Cryptography;
using NSec.Cryptography;

namespace Rotor.Crypto.Envelopes;

/// <summary>
/// An X25519 key pair that receives sealed boxes, e.g. an operator's backup recovery key. Secret; never printed.
/// </summary>
public sealed class SealedBoxKey : IDisposable
{
    private readonly Key key;

    private SealedBoxKey(Key key)
    {
        this.key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>A fresh key pair from the operating system's CSPRNG.</summary>
    public static SealedBoxKey Create() =>
        new(Key.Create(KeyAgreementAlgorithm.X25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    /// <summary>Imports a raw 32-byte X25519 private key.</summary>
    public static SealedBoxKey Import(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != IdentityKeys.KeyLength)
            throw new ArgumentException($"X25519 private key is {privateKey.Length} bytes, expected {IdentityKeys.KeyLength}");
        return new(Key.Import(KeyAgreementAlgorithm.X25519, privateKey, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));
    }

    /// <summary>The raw 32-byte X25519 public key that senders seal to.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The raw 32-byte private key. Secret: the caller stores it protected and wipes it.</summary>
    public byte[] ExportPrivate() => key.Export(KeyBlobFormat.RawPrivateKey);

    internal SharedSecret? Agree(PublicKey peer) => KeyAgreementAlgorithm.X25519.Agree(key, peer);

    public void Dispose() => key.Dispose();

    public override string ToString() => "SealedBoxKey(x25519:" + Convert.ToHexStringLower(PublicKey.AsSpan(0, 8)) + ")";
}

/// <summary>
/// Anonymous public-key encryption to an X25519 key: a fresh ephemeral key pair per box; the key agreement
/// goes through HKDF-SHA-256 (salt: ephemeral and recipient public keys; info: domain and associated data) to
/// a one-time AES-256-GCM key and nonce, with the associated data authenticated. The same construction seals
/// <see cref="Envelope"/>s, which add the sender's signature.
/// </summary>
public static class SealedBox
{
    private const int TagLength = 16;
    private const int NonceLength = 12;

    /// <summary>Bytes a box adds to its plaintext: the ephemeral public key and the tag.</summary>
    public const int Overhead = IdentityKeys.KeyLength + TagLength;

    /// <summary>Seals <paramref name="plaintext"/> to <paramref name="recipientPublicKey"/>: ephemeral key ‖ ciphertext ‖ tag.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> recipientPublicKey, string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext)
    {
        if (!NSec.Cryptography.PublicKey.TryImport(KeyAgreementAlgorithm.X25519, recipientPublicKey, KeyBlobFormat.RawPublicKey, out var recipient) || recipient is null)
            throw new ArgumentException($"invalid X25519 public key ({recipientPublicKey.Length} bytes, expected {IdentityKeys.KeyLength})");
        using var ephemeral = Key.Create(KeyAgreementAlgorithm.X25519);
        var box = new byte[IdentityKeys.KeyLength + plaintext.Length + TagLength];
        var ephemeralPublic = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        ephemeralPublic.CopyTo(box, 0);
        using var shared = KeyAgreementAlgorithm.X25519.Agree(ephemeral, recipient)
            ?? throw new ArgumentException("recipient X25519 key has low order");
        Encrypt(shared, ephemeralPublic, recipientPublicKey, domain, associatedData, plaintext, box.AsSpan(IdentityKeys.KeyLength));
        return box;
    }

    /// <summary>
    /// Opens a box made by <see cref="Seal"/> for <paramref name="recipient"/> under the same domain and associated
    /// data. Throws <see cref="EnvelopeException"/>: <see cref="EnvelopeFault.Malformed"/> for a box too short or with
    /// a bad ephemeral key, <see cref="EnvelopeFault.DecryptionFailed"/> when it does not authenticate.
    /// </summary>
    public static byte[] Open(SealedBoxKey recipient, string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> box) =>
        Open(recipient.Agree, recipient.PublicKey, domain, associatedData, box);

    /// <summary>Opens a box sealed to a node's X25519 identity key (<see cref="IdentityKeys.AgreementKey"/>).</summary>
    public static byte[] Open(NodeIdentity recipient, string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> box) =>
        Open(recipient.Agree, recipient.Public.AgreementKey, domain, associatedData, box);

    private static byte[] Open(Func<PublicKey, SharedSecret?> agree, ReadOnlySpan<byte> recipientPublic, string domain,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> box)
    {
        if (box.Length < Overhead) throw new EnvelopeException(EnvelopeFault.Malformed, $"sealed box of {box.Length} bytes is shorter than its {Overhead}-byte overhead");
        var ephemeralPublic = box[..IdentityKeys.KeyLength];
        if (!NSec.Cryptography.PublicKey.TryImport(KeyAgreementAlgorithm.X25519, ephemeralPublic, KeyBlobFormat.RawPublicKey, out var eph) || eph is null)
            throw new EnvelopeException(EnvelopeFault.Malformed, "sealed box has an invalid ephemeral key");
        using var shared = agree(eph) ?? throw new EnvelopeException(EnvelopeFault.Malformed, "sealed box has a low-order ephemeral key");
        var plaintext = new byte[box.Length - Overhead];
        if (!TryDecrypt(shared, ephemeralPublic, recipientPublic, domain, associatedData, box[IdentityKeys.KeyLength..], plaintext))
            throw new EnvelopeException(EnvelopeFault.DecryptionFailed, "sealed box does not decrypt under this key (wrong key, or altered)");
        return plaintext;
    }

    /// <summary>AES-256-GCM under the key and nonce derived from <paramref name="shared"/>; writes ciphertext ‖ tag.</summary>
    internal static void Encrypt(SharedSecret shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
        string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertextAndTag)
    {
        Span<byte> okm = stackalloc byte[32 + NonceLength];
        try
        {
            Derive(shared, ephemeralPublic, recipientPublic, domain, associatedData, okm);
            using var aead = new AesGcm(okm[..32], TagLength);
            aead.Encrypt(okm[32..], plaintext, ciphertextAndTag[..plaintext.Length], ciphertextAndTag.Slice(plaintext.Length, TagLength), associatedData);
        }
        finally { CryptographicOperations.ZeroMemory(okm); }
    }

    /// <summary>The inverse of <see cref="Encrypt"/>; false (plaintext wiped) when authentication fails.</summary>
    internal static bool TryDecrypt(SharedSecret shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
        string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext)
    {
        Span<byte> okm = stackalloc byte[32 + NonceLength];
        try
        {
            Derive(shared, ephemeralPublic, recipientPublic, domain, associatedData, okm);
            using var aead = new AesGcm(okm[..32], TagLength);
            aead.Decrypt(okm[32..], ciphertextAndTag[..plaintext.Length], ciphertextAndTag[plaintext.Length..], plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
        finally { CryptographicOperations.ZeroMemory(okm); }
    }

    private static void Derive(SharedSecret shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
        string domain, ReadOnlySpan<byte> associatedData, Span<byte> okm)
    {
        var salt = new byte[2 * IdentityKeys.KeyLength];
        ephemeralPublic.CopyTo(salt);
        recipientPublic.CopyTo(salt.AsSpan(IdentityKeys.KeyLength));
        var info = new FrameWriter().Text(domain).Bytes(associatedData).ToArray();
        KeyDerivationAlgorithm.HkdfSha256.DeriveBytes(shared, salt, info, okm);
    }
}
