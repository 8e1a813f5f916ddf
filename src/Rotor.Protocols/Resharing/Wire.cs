using System.Buffers;
using System.Buffers.Binary;
using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Resharing;

/// <summary>The first byte of every reshare and repair message: what it is (and its format version).</summary>
internal enum WireType : byte
{
    ReshareCommitment = 0x11,
    ReshareSubShare = 0x12,
    ReshareConfirmation = 0x13,
    RepairCommitments = 0x21,
    RepairDelta = 0x22,
    RepairSigma = 0x23,
}

/// <summary>Writes the fixed-layout binary messages of resharing and repair.</summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> buffer = new();

    public WireWriter(WireType type) => buffer.Write([(byte)type]);

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

    public byte[] ToArray() => buffer.WrittenSpan.ToArray();
}

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote, strictly: a wrong type byte, a short or over-long message, a
/// non-canonical scalar and an invalid element are all refused with an <see cref="InvalidEncodingException"/>.
/// </summary>
internal ref struct WireReader
{
    private readonly Group group;
    private readonly string what;
    private ReadOnlySpan<byte> rest;

    public WireReader(Group group, string what, WireType type, ReadOnlySpan<byte> message)
    {
        this.group = group;
        this.what = what;
        rest = message;
        if (Bytes(1)[0] != (byte)type)
            throw new InvalidEncodingException(what, EncodingError.NonCanonical, $"type byte 0x{message[0]:x2}, expected 0x{(byte)type:x2}");
    }

    public ReadOnlySpan<byte> Bytes(int length)
    {
        if (rest.Length < length) throw new InvalidEncodingException(what, EncodingError.WrongLength, "message ends early");
        var r = rest[..length];
        rest = rest[length..];
        return r;
    }

    public int Count() => BinaryPrimitives.ReadUInt16BigEndian(Bytes(2));

    public Scalar Scalar() => group.DecodeScalar(Bytes(group.ScalarLength));

    public Identifier Identifier() => Rotor.Crypto.Sharing.Identifier.Decode(group, Bytes(group.ScalarLength));

    public Element Element() => group.DecodeElement(Bytes(group.ElementLength));

    /// <summary>Refuses trailing bytes.</summary>
    public readonly void End()
    {
        if (!rest.IsEmpty) throw new InvalidEncodingException(what, EncodingError.WrongLength, $"{rest.Length} bytes after the end");
    }
}

internal static class Wire
{
    /// <summary>Bytes of a plan, event or session digest.</summary>
    public const int DigestLength = 64;

    /// <summary>The error for a message that does not decode; names the sender once its identifier is known.</summary>
    public static ProtocolException Malformed(InvalidEncodingException e, Identifier? sender, string role) =>
        sender is { } s
            ? new ProtocolException(Fault.MalformedMessage, $"message of {role} {s}: {e.Message}", s)
            : new ProtocolException(Fault.MalformedMessage, e.Message);
}
