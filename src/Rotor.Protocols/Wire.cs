using System.Buffers;
using System.Buffers.Binary;
using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols;

/// <summary>The first byte of every DKG, reshare and repair message: what it is, and its format version.</summary>
internal enum WireType : byte
{
    DkgCommitments = 0x01,
    DkgShares = 0x02,
    DkgConfirmation = 0x03,
    ReshareCommitment = 0x11,
    ReshareSubShare = 0x12,
    ReshareConfirmation = 0x13,
    RepairCommitments = 0x21,
    RepairDelta = 0x22,
    RepairSigma = 0x23,
    EcdsaSetup = 0x31,
    EcdsaSignRound1 = 0x41,
    EcdsaSignRound2 = 0x42,
    EcdsaSignatureShare = 0x43,
}

/// <summary>
/// Layout shared by every DKG, reshare and repair message: type (1 byte) ‖ digest (64 bytes: the session, plan or
/// event it belongs to) ‖ sender identifier (one scalar) ‖ body. Counts are 2 bytes, big-endian.
/// </summary>
internal static class Wire
{
    /// <summary>Bytes of a session, plan or event digest.</summary>
    public const int DigestLength = 64;

    /// <summary>Where the sender's identifier starts.</summary>
    public const int SenderOffset = 1 + DigestLength;

    /// <summary>Bytes of the header for <paramref name="group"/>: where the body starts.</summary>
    public static int HeaderLength(Group group) => SenderOffset + group.ScalarLength;
}

/// <summary>Writes one message: the header at construction, then the body field by field.</summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> buffer = new();

    public WireWriter(WireType type, ReadOnlySpan<byte> digest, Identifier sender)
    {
        if (digest.Length != Wire.DigestLength) throw new ArgumentException($"a message digest is {Wire.DigestLength} bytes, not {digest.Length}");
        buffer.Write([(byte)type]);
        Bytes(digest).Identifier(sender);
    }

    public WireWriter Bytes(ReadOnlySpan<byte> value)
    {
        buffer.Write(value);
        return this;
    }

    public WireWriter Count(int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, checked((ushort)value));
        return Bytes(b);
    }

    public WireWriter Scalar(Scalar value)
    {
        var span = buffer.GetSpan(value.Group.ScalarLength)[..value.Group.ScalarLength];
        value.WriteTo(span);
        buffer.Advance(span.Length);
        return this;
    }

    public WireWriter Identifier(Identifier value) => Scalar(value.Scalar);

    public WireWriter Element(Element value) => Bytes(value.Encoding);

    /// <summary>The message; the writer's own buffer is wiped (bodies may hold secret scalars).</summary>
    public byte[] ToArray()
    {
        var bytes = buffer.WrittenSpan.ToArray();
        buffer.Clear();
        return bytes;
    }
}

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote, strictly: a wrong type byte, a short or over-long message, a
/// non-canonical scalar, a zero identifier and an invalid element are refused with a
/// <see cref="ProtocolException"/> (<see cref="Fault.MalformedMessage"/>) that names the sender once its
/// identifier has decoded. The type byte is checked after the sender is read, so that a message of the wrong
/// type from a known sender is blamed on it.
/// </summary>
internal ref struct WireReader
{
    private readonly Group group;
    private readonly string what;
    private readonly ReadOnlySpan<byte> message;
    private Identifier? sender;
    private int position;

    /// <summary>
    /// Reads and checks the header; the reader is then positioned at the body. <paramref name="from"/> is the
    /// authenticated sender (the identifier of the party whose signed envelope carried the message), when the caller
    /// knows it: the sender field must then equal it (else <see cref="Fault.UnexpectedSender"/>), and every refusal
    /// blames it, never the party the body names, so no sender can frame another.
    /// </summary>
    public WireReader(Group group, string what, WireType type, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        this.group = group;
        this.what = what;
        this.message = message;
        sender = from;
        if (message.Length < Wire.HeaderLength(group))
            throw Malformed($"{message.Length} bytes is shorter than its {Wire.HeaderLength(group)}-byte header");
        position = Wire.SenderOffset;
        var named = Identifier("sender");
        if (from is { } f && named != f)
            throw new ProtocolException(Fault.UnexpectedSender, $"{what} sent by {f} names {named} as its sender", f);
        sender = named;
        if (message[0] != (byte)type)
            throw Malformed($"type byte 0x{message[0]:x2}, expected 0x{(byte)type:x2}");
        Digest = message.Slice(1, Wire.DigestLength).ToArray();
    }

    /// <summary>The session, plan or event digest the message claims to belong to.</summary>
    public byte[] Digest { get; }

    /// <summary>The sender the message names.</summary>
    public readonly Identifier Sender => sender!.Value;

    public ReadOnlySpan<byte> Bytes(int length, string field) => Take(length, field);

    /// <summary>
    /// Reads a count of <paramref name="itemLength"/>-byte items and checks it before anything is allocated or decoded:
    /// against <paramref name="expected"/> when the caller knows it (e.g. the threshold), and against the bytes left.
    /// A message claiming 65,535 coefficients is refused here, by its count, not after decoding points.
    /// </summary>
    public int Count(string field, int itemLength, int? expected = null)
    {
        int n = BinaryPrimitives.ReadUInt16BigEndian(Take(2, field));
        if (expected is { } e && n != e) throw Malformed($"{field} is {n}, expected {e}");
        if ((long)n * itemLength > message.Length - position)
            throw Malformed($"{field} {n} needs {(long)n * itemLength} bytes, only {message.Length - position} follow");
        return n;
    }

    /// <summary>Bytes of one identifier (a scalar) of this message's group.</summary>
    public readonly int ScalarLength => group.ScalarLength;

    /// <summary>Bytes of one element of this message's group.</summary>
    public readonly int ElementLength => group.ElementLength;

    public Scalar Scalar(string field)
    {
        var b = Take(group.ScalarLength, field);
        try { return group.DecodeScalar(b); }
        catch (InvalidEncodingException e) { throw Malformed($"{field}: {e.Message}"); }
    }

    public Identifier Identifier(string field)
    {
        var b = Take(group.ScalarLength, field);
        try { return Rotor.Crypto.Sharing.Identifier.Decode(group, b); }
        catch (InvalidEncodingException e) { throw Malformed($"{field}: {e.Message}"); }
    }

    public Element Element(string field)
    {
        var b = Take(group.ElementLength, field);
        try { return group.DecodeElement(b); }
        catch (InvalidEncodingException e) { throw Malformed($"{field}: {e.Message}"); }
    }

    /// <summary>Refuses trailing bytes.</summary>
    public readonly void End()
    {
        if (position != message.Length) throw Malformed($"{message.Length - position} bytes after the end");
    }

    /// <summary>The error for this message, blaming its sender once known.</summary>
    public readonly ProtocolException Malformed(string detail) =>
        sender is { } s
            ? new ProtocolException(Fault.MalformedMessage, $"{what} from {s}: {detail}", s)
            : new ProtocolException(Fault.MalformedMessage, $"{what}: {detail}");

    private ReadOnlySpan<byte> Take(int length, string field)
    {
        if (message.Length - position < length)
            throw Malformed($"truncated in {field} ({message.Length} bytes in all)");
        var s = message.Slice(position, length);
        position += length;
        return s;
    }
}
