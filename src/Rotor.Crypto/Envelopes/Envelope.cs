using System.Security.Cryptography;
using System.Text;

namespace Rotor.Crypto.Envelopes;

/// <summary>
/// A node-to-node protocol message as it crosses the coordinator: encrypted to its recipient and signed by
/// its sender, bound to one session. The relay sees only who talks to whom, in which session, under which
/// label and how much; it can neither read the payload nor alter or forge any byte of the envelope.
/// </summary>
/// <remarks>
/// Sealing: a fresh X25519 key pair per envelope; the key-agreement result with the recipient's X25519
/// identity key goes through HKDF-SHA-256 (salt: both public keys; info: the header) to a one-time
/// AES-256-GCM key and nonce; the header is the AEAD's associated data. The sender then signs, with its Ed25519
/// identity key, the domain tag, the header and the SHA-256 digest of the ciphertext (version 2; version 1 signed
/// the ciphertext itself, which made Ed25519 hash a large message three times, twice to sign and once to verify).
/// Version 1 envelopes (a mailbox kept across an upgrade) still open; only version 2 is made. Opening checks
/// recipient, session, sender and signature before any decryption.
/// </remarks>
public sealed class Envelope
{
    private const byte Version = 2;
    private const byte Version1 = 1;
    private const string SignatureDomain = "rotor/envelope/v2/signature";
    private const string SignatureDomain1 = "rotor/envelope/v1/signature";
    private const string KeyDomain = "rotor/envelope/v1/key";
    private const int MaxSessionId = 64;
    private const int MaxName = 128;
    private const int MaxPayload = 16 << 20;
    private const int TagLength = 16;

    private readonly byte version;
    private readonly byte[] sessionId;
    private readonly byte[] ephemeralKey;
    private readonly byte[] ciphertext;
    private readonly byte[] signature;

    private Envelope(byte version, byte[] sessionId, string sender, string recipient, string label, byte[] ephemeralKey, byte[] ciphertext, byte[] signature)
    {
        this.version = version;
        this.sessionId = sessionId;
        Sender = sender;
        Recipient = recipient;
        Label = label;
        this.ephemeralKey = ephemeralKey;
        this.ciphertext = ciphertext;
        this.signature = signature;
    }

    /// <summary>The session this envelope belongs to.</summary>
    public ReadOnlySpan<byte> SessionId => sessionId;

    /// <summary>The sending node's name (as the session's member list names it).</summary>
    public string Sender { get; }

    /// <summary>The receiving node's name.</summary>
    public string Recipient { get; }

    /// <summary>The protocol's name for this message, e.g. "dkg/round2"; authenticated, not secret.</summary>
    public string Label { get; }

    /// <summary>Encrypts <paramref name="plaintext"/> to <paramref name="recipientKeys"/> and signs the result.</summary>
    public static Envelope Seal(NodeIdentity sender, string senderName, string recipientName, IdentityKeys recipientKeys,
        ReadOnlySpan<byte> sessionId, string label, ReadOnlySpan<byte> plaintext)
    {
        CheckHeader(sessionId, senderName, recipientName, label);
        if (plaintext.Length > MaxPayload) throw new ArgumentException($"payload of {plaintext.Length} bytes exceeds {MaxPayload}");
        var ephemeralPublic = new byte[IdentityKeys.KeyLength];
        byte[] header, ciphertext;
        Span<byte> shared = stackalloc byte[X25519.KeyBytes];
        try
        {
            if (!SealedBox.AgreeEphemeral(recipientKeys.AgreementKey, ephemeralPublic, shared))
                throw new ArgumentException($"recipient {recipientName}'s X25519 key has low order");
            header = Header(Version, sessionId, senderName, recipientName, label, ephemeralPublic);
            ciphertext = new byte[plaintext.Length + TagLength];
            SealedBox.Encrypt(shared, ephemeralPublic, recipientKeys.AgreementKey, KeyDomain, header, plaintext, ciphertext);
        }
        finally { CryptographicOperations.ZeroMemory(shared); }
        var signature = sender.Sign(SignedBytes(Version, header, ciphertext));
        return new Envelope(Version, sessionId.ToArray(), senderName, recipientName, label, ephemeralPublic, ciphertext, signature);
    }

    /// <summary>
    /// Checks that the envelope is for <paramref name="recipientName"/> in session <paramref name="expectedSessionId"/>,
    /// that its sender is known to <paramref name="senderKeys"/> and signed it, then decrypts it.
    /// Throws <see cref="EnvelopeException"/> naming the first check that failed.
    /// </summary>
    public byte[] Open(NodeIdentity recipient, string recipientName, ReadOnlySpan<byte> expectedSessionId,
        Func<string, IdentityKeys?> senderKeys)
    {
        if (Recipient != recipientName)
            throw Fail(EnvelopeFault.WrongRecipient, $"is addressed to '{Recipient}', not to '{recipientName}'");
        if (!CryptographicOperations.FixedTimeEquals(sessionId, expectedSessionId))
            throw Fail(EnvelopeFault.WrongSession, $"belongs to session {Convert.ToHexStringLower(sessionId)}, not {Convert.ToHexStringLower(expectedSessionId)}");
        var keys = senderKeys(Sender) ?? throw Fail(EnvelopeFault.UnknownSender, "comes from a sender that is not a party of this session");
        var header = Header(version, sessionId, Sender, Recipient, Label, ephemeralKey);
        if (!keys.Verify(SignedBytes(version, header, ciphertext), signature))
            throw Fail(EnvelopeFault.BadSignature, "has a signature that does not verify under the sender's identity key (altered in transit or forged)");
        Span<byte> shared = stackalloc byte[X25519.KeyBytes];
        try
        {
            if (!recipient.Agree(ephemeralKey, shared)) throw Fail(EnvelopeFault.Malformed, "has a low-order ephemeral key");
            var plaintext = new byte[ciphertext.Length - TagLength];
            if (!SealedBox.TryDecrypt(shared, ephemeralKey, recipient.Public.AgreementKey, KeyDomain, header, ciphertext, plaintext))
                throw Fail(EnvelopeFault.DecryptionFailed, "does not decrypt under this node's key");
            return plaintext;
        }
        finally { CryptographicOperations.ZeroMemory(shared); }
    }

    /// <summary>The wire form.</summary>
    public byte[] Encode() => new FrameWriter(1 + FrameWriter.FieldLength(sessionId.Length) + FrameWriter.FieldLength(Sender)
            + FrameWriter.FieldLength(Recipient) + FrameWriter.FieldLength(Label) + FrameWriter.FieldLength(ephemeralKey.Length)
            + FrameWriter.FieldLength(ciphertext.Length) + FrameWriter.FieldLength(signature.Length))
        .Byte(version).Bytes(sessionId).Text(Sender).Text(Recipient).Text(Label)
        .Bytes(ephemeralKey).Bytes(ciphertext).Bytes(signature).ToArray();

    /// <summary>Parses the wire form; nothing in it is trusted until <see cref="Open"/> has checked it.</summary>
    public static Envelope Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new FrameReader(bytes);
        var version = r.Byte();
        if (version is not (Version or Version1)) throw new EnvelopeException(EnvelopeFault.Malformed, $"malformed envelope: version {version}, expected {Version} (or {Version1})");
        var sid = r.Bytes("session id", MaxSessionId).ToArray();
        var sender = r.Text("sender", MaxName);
        var recipient = r.Text("recipient", MaxName);
        var label = r.Text("label", MaxName);
        var eph = r.Bytes("ephemeral key", IdentityKeys.KeyLength).ToArray();
        var ct = r.Bytes("ciphertext", MaxPayload + TagLength).ToArray();
        var sig = r.Bytes("signature", 64).ToArray();
        r.End();
        if (eph.Length != IdentityKeys.KeyLength) throw new EnvelopeException(EnvelopeFault.Malformed, "malformed envelope: ephemeral key is not 32 bytes");
        if (ct.Length < TagLength) throw new EnvelopeException(EnvelopeFault.Malformed, "malformed envelope: ciphertext shorter than its tag");
        if (sig.Length != 64) throw new EnvelopeException(EnvelopeFault.Malformed, "malformed envelope: signature is not 64 bytes");
        return new Envelope(version, sid, sender, recipient, label, eph, ct, sig);
    }

    public override string ToString() => $"Envelope({Label}: {Sender} -> {Recipient}, {ciphertext.Length - TagLength} bytes)";

    private EnvelopeException Fail(EnvelopeFault fault, string why) =>
        new(fault, $"envelope '{Label}' from '{Sender}' to '{Recipient}' {why}");

    private static void CheckHeader(ReadOnlySpan<byte> sessionId, string sender, string recipient, string label)
    {
        if (sessionId.Length is 0 or > MaxSessionId) throw new ArgumentException($"session id must be 1..{MaxSessionId} bytes");
        foreach (var (what, v) in new[] { ("sender", sender), ("recipient", recipient), ("label", label) })
            if (string.IsNullOrEmpty(v) || Encoding.UTF8.GetByteCount(v) > MaxName) throw new ArgumentException($"{what} name must be 1..{MaxName} bytes");
    }

    private static byte[] Header(byte version, ReadOnlySpan<byte> sessionId, string sender, string recipient, string label, ReadOnlySpan<byte> ephemeral) =>
        new FrameWriter().Byte(version).Bytes(sessionId).Text(sender).Text(recipient).Text(label).Bytes(ephemeral).ToArray();

    /// <summary>What the sender signs: version 2 the ciphertext's SHA-256 digest, version 1 the ciphertext itself.</summary>
    private static byte[] SignedBytes(byte version, byte[] header, byte[] ciphertext) => version == Version1
        ? new FrameWriter().Text(SignatureDomain1).Bytes(header).Bytes(ciphertext).ToArray()
        : new FrameWriter().Text(SignatureDomain).Bytes(header).Bytes(SHA256.HashData(ciphertext)).ToArray();
}
