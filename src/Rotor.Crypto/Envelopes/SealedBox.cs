using System.Security.Cryptography;

namespace Rotor.Crypto.Envelopes;

/// <summary>
/// An X25519 key pair that receives sealed boxes, e.g. an operator's backup recovery key. Secret; never printed.
/// </summary>
public sealed class SealedBoxKey : IDisposable
{
    private readonly X25519PrivateKey key;

    private SealedBoxKey(X25519PrivateKey key) => this.key = key;

    /// <summary>A fresh key pair from the operating system's CSPRNG.</summary>
    public static SealedBoxKey Create() => new(X25519PrivateKey.Create());

    /// <summary>Imports a raw 32-byte X25519 private key.</summary>
    public static SealedBoxKey Import(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != IdentityKeys.KeyLength)
            throw new ArgumentException($"X25519 private key is {privateKey.Length} bytes, expected {IdentityKeys.KeyLength}");
        return new(X25519PrivateKey.Import(privateKey));
    }

    /// <summary>The raw 32-byte X25519 public key that senders seal to.</summary>
    public byte[] PublicKey => key.PublicKey;

    /// <summary>The raw 32-byte private key. Secret: the caller stores it protected and wipes it.</summary>
    public byte[] ExportPrivate() => key.Export();

    internal bool Agree(ReadOnlySpan<byte> peer, Span<byte> shared) => key.Agree(peer, shared);

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
        if (recipientPublicKey.Length != IdentityKeys.KeyLength)
            throw new ArgumentException($"invalid X25519 public key ({recipientPublicKey.Length} bytes, expected {IdentityKeys.KeyLength})");
        var box = new byte[IdentityKeys.KeyLength + plaintext.Length + TagLength];
        var ephemeralPublic = box.AsSpan(0, IdentityKeys.KeyLength);
        Span<byte> shared = stackalloc byte[X25519.KeyBytes];
        try
        {
            if (!AgreeEphemeral(recipientPublicKey, ephemeralPublic, shared)) throw new ArgumentException("recipient X25519 key has low order");
            Encrypt(shared, ephemeralPublic, recipientPublicKey, domain, associatedData, plaintext, box.AsSpan(IdentityKeys.KeyLength));
        }
        finally { CryptographicOperations.ZeroMemory(shared); }
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

    internal delegate bool Agreement(ReadOnlySpan<byte> peer, Span<byte> shared);

    private static byte[] Open(Agreement agree, ReadOnlySpan<byte> recipientPublic, string domain,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> box)
    {
        if (box.Length < Overhead) throw new EnvelopeException(EnvelopeFault.Malformed, $"sealed box of {box.Length} bytes is shorter than its {Overhead}-byte overhead");
        var ephemeralPublic = box[..IdentityKeys.KeyLength];
        Span<byte> shared = stackalloc byte[X25519.KeyBytes];
        try
        {
            if (!agree(ephemeralPublic, shared)) throw new EnvelopeException(EnvelopeFault.Malformed, "sealed box has a low-order ephemeral key");
            var plaintext = new byte[box.Length - Overhead];
            if (!TryDecrypt(shared, ephemeralPublic, recipientPublic, domain, associatedData, box[IdentityKeys.KeyLength..], plaintext))
                throw new EnvelopeException(EnvelopeFault.DecryptionFailed, "sealed box does not decrypt under this key (wrong key, or altered)");
            return plaintext;
        }
        finally { CryptographicOperations.ZeroMemory(shared); }
    }

    /// <summary>
    /// A fresh ephemeral key pair: its public key into <paramref name="ephemeralPublic"/> and its agreement with
    /// <paramref name="recipientPublic"/> into <paramref name="shared"/> (false for a low-order recipient key). The
    /// ephemeral private key lives on this stack frame only and is wiped before returning.
    /// </summary>
    internal static bool AgreeEphemeral(ReadOnlySpan<byte> recipientPublic, Span<byte> ephemeralPublic, Span<byte> shared)
    {
        Span<byte> ephemeral = stackalloc byte[X25519.KeyBytes];
        try
        {
            X25519.Generate(ephemeral, ephemeralPublic);
            return X25519.Agree(ephemeral, recipientPublic, shared);
        }
        finally { CryptographicOperations.ZeroMemory(ephemeral); }
    }

    /// <summary>AES-256-GCM under the key and nonce derived from <paramref name="shared"/>; writes ciphertext ‖ tag.</summary>
    internal static void Encrypt(ReadOnlySpan<byte> shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
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
    internal static bool TryDecrypt(ReadOnlySpan<byte> shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
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

    /// <summary>HKDF-SHA-256 (RFC 5869): salt = ephemeral ‖ recipient public keys, info = domain ‖ associated data, framed.</summary>
    private static void Derive(ReadOnlySpan<byte> shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
        string domain, ReadOnlySpan<byte> associatedData, Span<byte> okm)
    {
        Span<byte> salt = stackalloc byte[2 * IdentityKeys.KeyLength];
        ephemeralPublic.CopyTo(salt);
        recipientPublic.CopyTo(salt[IdentityKeys.KeyLength..]);
        var info = new FrameWriter().Text(domain).Bytes(associatedData).ToArray();
        HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, okm, salt, info);
    }
}
