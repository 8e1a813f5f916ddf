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
}
