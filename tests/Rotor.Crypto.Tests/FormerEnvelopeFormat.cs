using System.Security.Cryptography;
using NSec.Cryptography;
using Rotor.Crypto.Envelopes;

namespace Rotor.Crypto.Tests;

/// <summary>
/// The construction Rotor used before X25519 moved to raw libsodium calls and envelopes to signing a digest (version 1),
/// written out here with NSec's objects as it was: what stored backups and a mailbox kept across an upgrade hold.
/// The product must keep opening it.
/// </summary>
internal static class FormerEnvelopeFormat
{
    /// <summary>A sealed box as <c>SealedBox.Seal</c> made it: NSec X25519 and HKDF-SHA-256, AES-256-GCM.</summary>
    public static byte[] SealBox(ReadOnlySpan<byte> recipientPublic, string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext)
    {
        var box = new byte[32 + plaintext.Length + 16];
        var ephemeralPublic = Encrypt(recipientPublic, domain, associatedData, plaintext, box.AsSpan(32));
        ephemeralPublic.CopyTo(box, 0);
        return box;
    }

    /// <summary>A version-1 envelope's wire form: the sender signed domain ‖ header ‖ the whole ciphertext.</summary>
    public static byte[] SealEnvelopeV1(NodeIdentity sender, string senderName, string recipientName, IdentityKeys recipient,
        byte[] sessionId, string label, byte[] plaintext)
    {
        // The ephemeral key is in the header, which is the AEAD's associated data: make it first, then encrypt.
        using var ephemeral = Key.Create(KeyAgreementAlgorithm.X25519);
        var ephemeralPublic = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var header = new FrameWriter().Byte(1).Bytes(sessionId).Text(senderName).Text(recipientName).Text(label).Bytes(ephemeralPublic).ToArray();
        var ciphertext = new byte[plaintext.Length + 16];
        EncryptWith(ephemeral, ephemeralPublic, recipient.AgreementKey, "rotor/envelope/v1/key", header, plaintext, ciphertext);
        var signature = sender.Sign(new FrameWriter().Text("rotor/envelope/v1/signature").Bytes(header).Bytes(ciphertext).ToArray());
        return new FrameWriter().Byte(1).Bytes(sessionId).Text(senderName).Text(recipientName).Text(label)
            .Bytes(ephemeralPublic).Bytes(ciphertext).Bytes(signature).ToArray();
    }

    private static byte[] Encrypt(ReadOnlySpan<byte> recipientPublic, string domain, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> output)
    {
        using var ephemeral = Key.Create(KeyAgreementAlgorithm.X25519);
        var ephemeralPublic = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        EncryptWith(ephemeral, ephemeralPublic, recipientPublic, domain, associatedData, plaintext, output);
        return ephemeralPublic;
    }

    private static void EncryptWith(Key ephemeral, byte[] ephemeralPublic, ReadOnlySpan<byte> recipientPublic, string domain,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> output)
    {
        var recipient = NSec.Cryptography.PublicKey.Import(KeyAgreementAlgorithm.X25519, recipientPublic, KeyBlobFormat.RawPublicKey);
        using var shared = KeyAgreementAlgorithm.X25519.Agree(ephemeral, recipient)!;
        var salt = new byte[64];
        ephemeralPublic.CopyTo(salt, 0);
        recipientPublic.CopyTo(salt.AsSpan(32));
        var info = new FrameWriter().Text(domain).Bytes(associatedData).ToArray();
        var okm = KeyDerivationAlgorithm.HkdfSha256.DeriveBytes(shared, salt, info, 44);
        using var aead = new AesGcm(okm.AsSpan(0, 32), 16);
        aead.Encrypt(okm.AsSpan(32), plaintext, output[..plaintext.Length], output.Slice(plaintext.Length, 16), associatedData);
    }
}
