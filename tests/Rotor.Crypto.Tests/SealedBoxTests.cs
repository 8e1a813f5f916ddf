using Rotor.Crypto.Envelopes;

namespace Rotor.Crypto.Tests;

public sealed class SealedBoxTests
{
    private static readonly byte[] Aad = "backup bk-1 header"u8.ToArray();

    [Fact]
    public void Box_opens_with_the_recipient_key_domain_and_associated_data_only()
    {
        using var alice = SealedBoxKey.Create();
        using var eve = SealedBoxKey.Create();
        var secret = "file key: 32 bytes of something"u8.ToArray();
        var box = SealedBox.Seal(alice.PublicKey, "rotor/test", Aad, secret);
        Assert.Equal(secret.Length + SealedBox.Overhead, box.Length);
        Assert.Equal(secret, SealedBox.Open(alice, "rotor/test", Aad, box));

        using var imported = SealedBoxKey.Import(alice.ExportPrivate());
        Assert.Equal(alice.PublicKey, imported.PublicKey);
        Assert.Equal(secret, SealedBox.Open(imported, "rotor/test", Aad, box));

        Assert.Equal(EnvelopeFault.DecryptionFailed, Assert.Throws<EnvelopeException>(() => SealedBox.Open(eve, "rotor/test", Aad, box)).Fault);
        Assert.Equal(EnvelopeFault.DecryptionFailed, Assert.Throws<EnvelopeException>(() => SealedBox.Open(alice, "rotor/other", Aad, box)).Fault);
        Assert.Equal(EnvelopeFault.DecryptionFailed, Assert.Throws<EnvelopeException>(() => SealedBox.Open(alice, "rotor/test", "other"u8, box)).Fault);
        for (int i = 0; i < box.Length; i += 7)
        {
            var bad = (byte[])box.Clone();
            bad[i] ^= 0x80;
            Assert.Throws<EnvelopeException>(() => SealedBox.Open(alice, "rotor/test", Aad, bad));
        }
        Assert.Equal(EnvelopeFault.Malformed, Assert.Throws<EnvelopeException>(() => SealedBox.Open(alice, "rotor/test", Aad, box.AsSpan(0, SealedBox.Overhead - 1))).Fault);
    }

    [Fact]
    public void Sealing_refuses_a_bad_recipient_key()
    {
        Assert.Throws<ArgumentException>(() => SealedBox.Seal(new byte[31], "rotor/test", Aad, [1]));
        Assert.Throws<ArgumentException>(() => SealedBoxKey.Import(new byte[16]));
    }

    [Fact]
    public void A_box_sealed_by_the_former_NSec_construction_still_opens_and_ours_open_there()
    {
        // Backups made before X25519 moved to raw libsodium calls must still open: same keys, same HKDF, same layout.
        using var recipient = SealedBoxKey.Create();
        var secret = "file key of an old backup"u8.ToArray();
        var old = FormerEnvelopeFormat.SealBox(recipient.PublicKey, "rotor/test", Aad, secret);
        Assert.Equal(secret, SealedBox.Open(recipient, "rotor/test", Aad, old));
        // and the private key exported now is the one NSec would compute the same public key from
        var nsecKey = NSec.Cryptography.Key.Import(NSec.Cryptography.KeyAgreementAlgorithm.X25519, recipient.ExportPrivate(),
            NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        Assert.Equal(recipient.PublicKey, nsecKey.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));
        var bad = (byte[])old.Clone();
        bad[40] ^= 1;
        Assert.Equal(EnvelopeFault.DecryptionFailed, Assert.Throws<EnvelopeException>(() => SealedBox.Open(recipient, "rotor/test", Aad, bad)).Fault);
    }

    [Fact]
    public void A_low_order_key_is_refused_on_both_sides()
    {
        // u = 0 (and u = 1) are points of small order: X25519 gives all zeros, which must never become a key.
        using var recipient = SealedBoxKey.Create();
        Assert.Throws<ArgumentException>(() => SealedBox.Seal(new byte[32], "rotor/test", Aad, [1]));
        var one = new byte[32];
        one[0] = 1;
        Assert.Throws<ArgumentException>(() => SealedBox.Seal(one, "rotor/test", Aad, [1]));
        var box = SealedBox.Seal(recipient.PublicKey, "rotor/test", Aad, [1, 2, 3]);
        box.AsSpan(0, 32).Clear();
        Assert.Equal(EnvelopeFault.Malformed, Assert.Throws<EnvelopeException>(() => SealedBox.Open(recipient, "rotor/test", Aad, box)).Fault);
    }

    [Fact]
    public void A_disposed_key_refuses_to_agree()
    {
        var recipient = SealedBoxKey.Create();
        var box = SealedBox.Seal(recipient.PublicKey, "rotor/test", Aad, [1, 2, 3]);
        recipient.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SealedBox.Open(recipient, "rotor/test", Aad, box));
        Assert.Throws<ObjectDisposedException>(() => recipient.ExportPrivate());
    }
}
