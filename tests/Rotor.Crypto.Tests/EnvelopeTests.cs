using System.Text;
using Rotor.Crypto.Envelopes;

namespace Rotor.Crypto.Tests;

public sealed class EnvelopeTests : IDisposable
{
    private static readonly byte[] Session = Convert.FromHexString("00112233445566778899aabbccddeeff");
    private readonly NodeIdentity alice = NodeIdentity.Create();
    private readonly NodeIdentity bob = NodeIdentity.Create();
    private readonly NodeIdentity mallory = NodeIdentity.Create();

    public void Dispose()
    {
        alice.Dispose();
        bob.Dispose();
        mallory.Dispose();
    }

    private IdentityKeys? Directory(string name) => name switch
    {
        "alice" => alice.Public,
        "bob" => bob.Public,
        _ => null,
    };

    private byte[] SealToBob(string text = "secret share 42") =>
        Envelope.Seal(alice, "alice", "bob", bob.Public, Session, "dkg/round2", Encoding.UTF8.GetBytes(text)).Encode();

    [Fact]
    public void Round_trip_recovers_the_payload_and_hides_it_on_the_wire()
    {
        var wire = SealToBob("secret share 42");
        Assert.False(wire.AsSpan().IndexOf("secret share"u8) >= 0, "payload appears in clear on the wire");
        var env = Envelope.Decode(wire);
        Assert.Equal("alice", env.Sender);
        Assert.Equal("dkg/round2", env.Label);
        Assert.Equal("secret share 42", Encoding.UTF8.GetString(env.Open(bob, "bob", Session, Directory)));
    }

    [Fact]
    public void Every_single_bit_flip_is_rejected()
    {
        var wire = SealToBob();
        for (int i = 0; i < wire.Length; i++)
        {
            var altered = (byte[])wire.Clone();
            altered[i] ^= 0x01;
            var ex = Assert.ThrowsAny<EnvelopeException>(() => Envelope.Decode(altered).Open(bob, "bob", Session, Directory));
            Assert.Contains("envelope", ex.Message);
        }
    }

    [Fact]
    public void Altered_ciphertext_is_rejected_as_a_bad_signature_naming_the_sender()
    {
        var wire = SealToBob();
        wire[^70] ^= 0x80; // inside the ciphertext, before the 64-byte signature and its length
        var ex = Assert.Throws<EnvelopeException>(() => Envelope.Decode(wire).Open(bob, "bob", Session, Directory));
        Assert.Equal(EnvelopeFault.BadSignature, ex.Fault);
        Assert.Contains("'alice'", ex.Message);
    }

    [Fact]
    public void Envelope_from_another_session_is_rejected()
    {
        var env = Envelope.Decode(SealToBob());
        var ex = Assert.Throws<EnvelopeException>(() => env.Open(bob, "bob", new byte[16], Directory));
        Assert.Equal(EnvelopeFault.WrongSession, ex.Fault);
    }

    [Fact]
    public void Envelope_for_another_recipient_is_rejected()
    {
        var env = Envelope.Decode(SealToBob());
        var ex = Assert.Throws<EnvelopeException>(() => env.Open(alice, "alice", Session, Directory));
        Assert.Equal(EnvelopeFault.WrongRecipient, ex.Fault);
    }

    [Fact]
    public void Forgery_by_a_relay_with_its_own_key_is_rejected()
    {
        // The relay seals a message claiming to come from alice, signed with its own key.
        var forged = Envelope.Seal(mallory, "alice", "bob", bob.Public, Session, "dkg/round2", "evil"u8).Encode();
        var ex = Assert.Throws<EnvelopeException>(() => Envelope.Decode(forged).Open(bob, "bob", Session, Directory));
        Assert.Equal(EnvelopeFault.BadSignature, ex.Fault);
    }

    [Fact]
    public void Unknown_sender_is_rejected()
    {
        var env = Envelope.Decode(Envelope.Seal(mallory, "mallory", "bob", bob.Public, Session, "x", "hi"u8).Encode());
        Assert.Equal(EnvelopeFault.UnknownSender, Assert.Throws<EnvelopeException>(() => env.Open(bob, "bob", Session, Directory)).Fault);
    }

    [Fact]
    public void Only_the_recipient_can_decrypt()
    {
        // Mallory holds a valid envelope to bob and pretends to be bob: the signature verifies, decryption fails.
        var env = Envelope.Decode(SealToBob());
        var ex = Assert.Throws<EnvelopeException>(() => env.Open(mallory, "bob", Session, Directory));
        Assert.Equal(EnvelopeFault.DecryptionFailed, ex.Fault);
    }

    [Fact]
    public void Truncated_or_extended_wire_form_is_malformed()
    {
        var wire = SealToBob();
        Assert.Equal(EnvelopeFault.Malformed, Assert.Throws<EnvelopeException>(() => Envelope.Decode(wire[..^1])).Fault);
        Assert.Equal(EnvelopeFault.Malformed, Assert.Throws<EnvelopeException>(() => Envelope.Decode([.. wire, 0])).Fault);
    }

    [Fact]
    public void Identity_survives_private_export_and_import()
    {
        var secret = alice.ExportPrivate();
        using var again = NodeIdentity.ImportPrivate(secret);
        Assert.Equal(alice.Public, again.Public);
        Assert.Equal(alice.Public, IdentityKeys.FromBytes(alice.Public.ToBytes()));
        var env = Envelope.Seal(again, "alice", "bob", bob.Public, Session, "l", "x"u8).Encode();
        Assert.Equal("x"u8.ToArray(), Envelope.Decode(env).Open(bob, "bob", Session, Directory));
    }

    [Fact]
    public void Envelopes_are_made_at_version_2_and_a_version_1_envelope_kept_across_an_upgrade_still_opens()
    {
        Assert.Equal(2, SealToBob()[0]);
        var payload = "reshare sub-share kept in a mailbox"u8.ToArray();
        var v1 = FormerEnvelopeFormat.SealEnvelopeV1(alice, "alice", "bob", bob.Public, Session, "reshare/round2", payload);
        Assert.Equal(1, v1[0]);
        Assert.Equal(payload, Envelope.Decode(v1).Open(bob, "bob", Session, Directory));

        // Version 1 still covers the ciphertext with the signature ...
        var altered = (byte[])v1.Clone();
        altered[^70] ^= 0x80;
        Assert.Equal(EnvelopeFault.BadSignature, Assert.Throws<EnvelopeException>(() => Envelope.Decode(altered).Open(bob, "bob", Session, Directory)).Fault);
        // ... and the version byte is signed: a relay cannot relabel a version-1 envelope as version 2 or back.
        var relabelled = (byte[])v1.Clone();
        relabelled[0] = 2;
        Assert.Equal(EnvelopeFault.BadSignature, Assert.Throws<EnvelopeException>(() => Envelope.Decode(relabelled).Open(bob, "bob", Session, Directory)).Fault);
        var downgraded = SealToBob();
        downgraded[0] = 1;
        Assert.Equal(EnvelopeFault.BadSignature, Assert.Throws<EnvelopeException>(() => Envelope.Decode(downgraded).Open(bob, "bob", Session, Directory)).Fault);
        var unknown = SealToBob();
        unknown[0] = 3;
        Assert.Equal(EnvelopeFault.Malformed, Assert.Throws<EnvelopeException>(() => Envelope.Decode(unknown)).Fault);
    }

    [Fact]
    public void A_large_envelope_round_trips_and_any_altered_ciphertext_byte_is_a_bad_signature()
    {
        // The size of an ECDSA signing's round-2 message: the signature covers its SHA-256 digest.
        var payload = new byte[66 * 1024];
        Random.Shared.NextBytes(payload);
        var wire = Envelope.Seal(alice, "alice", "bob", bob.Public, Session, "ecdsa/round2", payload).Encode();
        Assert.Equal(payload, Envelope.Decode(wire).Open(bob, "bob", Session, Directory));
        foreach (var back in new[] { 70, 1000, 40_000, payload.Length })
        {
            var altered = (byte[])wire.Clone();
            altered[^back] ^= 0x01;
            Assert.Equal(EnvelopeFault.BadSignature, Assert.Throws<EnvelopeException>(() => Envelope.Decode(altered).Open(bob, "bob", Session, Directory)).Fault);
        }
    }
}
