using System.Buffers.Binary;
using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Dkg;

/// <summary>The DKG round a package belongs to; the second byte of every DKG package on the wire.</summary>
public enum DkgRound : byte
{
    /// <summary>Round 1, broadcast: Feldman commitment and proof of knowledge.</summary>
    Commitments = 1,
    /// <summary>Round 2, private: one secret share per recipient.</summary>
    Shares = 2,
    /// <summary>Round 3, broadcast: digests of every round-1 package received.</summary>
    Confirmation = 3,
}

/// <summary>
/// The common header of every DKG package: format version (1 byte), round (1 byte), session digest (64 bytes),
/// sender identifier (one scalar). Reading is strict: anything that does not fit is
/// <see cref="Fault.MalformedMessage"/>, naming the sender once its identifier has been read.
/// </summary>
internal static class DkgWire
{
    public const byte Version = 1;
    public const int SessionLength = 64;

    public static int HeaderLength(Group group) => 2 + SessionLength + group.ScalarLength;

    public static void WriteHeader(Span<byte> destination, DkgRound round, ReadOnlySpan<byte> session, Identifier sender)
    {
        destination[0] = Version;
        destination[1] = (byte)round;
        session.CopyTo(destination[2..]);
        sender.Scalar.WriteTo(destination.Slice(2 + SessionLength, sender.Group.ScalarLength));
    }

    /// <summary>Reads and checks the header; the returned reader is positioned at the body.</summary>
    public static WireReader ReadHeader(Group group, ReadOnlySpan<byte> bytes, DkgRound round, out byte[] session, out Identifier sender)
    {
        string what = $"DKG round-{(byte)round} package";
        if (bytes.Length < HeaderLength(group))
            throw new ProtocolException(Fault.MalformedMessage, $"{what}: {bytes.Length} bytes is shorter than its {HeaderLength(group)}-byte header");
        try
        {
            sender = Identifier.Decode(group, bytes.Slice(2 + SessionLength, group.ScalarLength));
        }
        catch (InvalidEncodingException e)
        {
            throw new ProtocolException(Fault.MalformedMessage, $"{what}: sender: {e.Message}");
        }
        if (bytes[0] != Version)
            throw new ProtocolException(Fault.MalformedMessage, $"{what}: format version {bytes[0]}, expected {Version}", sender);
        if (bytes[1] != (byte)round)
            throw new ProtocolException(Fault.MalformedMessage, $"{what}: it is marked as round {bytes[1]}", sender);
        session = bytes.Slice(2, SessionLength).ToArray();
        return new WireReader(group, bytes, HeaderLength(group), what, sender);
    }
}

/// <summary>Reads a package body field by field; every failure is a <see cref="Fault.MalformedMessage"/> blaming the sender.</summary>
internal ref struct WireReader
{
    private readonly Group group;
    private readonly ReadOnlySpan<byte> bytes;
    private readonly string what;
    private readonly Identifier sender;
    private int position;

    public WireReader(Group group, ReadOnlySpan<byte> bytes, int position, string what, Identifier sender)
    {
        this.group = group;
        this.bytes = bytes;
        this.position = position;
        this.what = what;
        this.sender = sender;
    }

    public ushort ReadUInt16(string field) => BinaryPrimitives.ReadUInt16BigEndian(Take(2, field));

    public ReadOnlySpan<byte> ReadBytes(int length, string field) => Take(length, field);

    public Scalar ReadScalar(string field)
    {
        var b = Take(group.ScalarLength, field);
        try { return group.DecodeScalar(b); }
        catch (InvalidEncodingException e) { throw Malformed($"{field}: {e.Message}"); }
    }

    public Identifier ReadIdentifier(string field)
    {
        var b = Take(group.ScalarLength, field);
        try { return Identifier.Decode(group, b); }
        catch (InvalidEncodingException e) { throw Malformed($"{field}: {e.Message}"); }
    }

    public Element ReadElement(string field)
    {
        var b = Take(group.ElementLength, field);
        try { return group.DecodeElement(b); }
        catch (InvalidEncodingException e) { throw Malformed($"{field}: {e.Message}"); }
    }

    /// <summary>Refuses trailing bytes.</summary>
    public readonly void End()
    {
        if (position != bytes.Length) throw Malformed($"{bytes.Length - position} trailing bytes");
    }

    public readonly ProtocolException Malformed(string detail) =>
        new(Fault.MalformedMessage, $"{what} from {sender}: {detail}", sender);

    private ReadOnlySpan<byte> Take(int length, string field)
    {
        if (bytes.Length - position < length)
            throw Malformed($"truncated in {field} ({bytes.Length} bytes in all)");
        var s = bytes.Slice(position, length);
        position += length;
        return s;
    }
}
