using System.Buffers.Binary;
using System.Text;

namespace Rotor.Crypto.Envelopes;

/// <summary>Length-prefixed binary framing (u32 big-endian lengths) for the envelope wire form.</summary>
internal sealed class FrameWriter
{
    private readonly MemoryStream stream;

    public FrameWriter() => stream = new MemoryStream();

    /// <summary>A writer for a frame of known size: one buffer, handed back by <see cref="ToArray"/> without a copy when filled exactly.</summary>
    public FrameWriter(int capacity) => stream = new MemoryStream(capacity);

    /// <summary>Bytes a <see cref="Bytes"/> field of <paramref name="length"/> bytes takes.</summary>
    public static int FieldLength(int length) => 4 + length;

    /// <summary>Bytes a <see cref="Text"/> field takes.</summary>
    public static int FieldLength(string value) => 4 + Encoding.UTF8.GetByteCount(value);

    public FrameWriter Byte(byte b)
    {
        stream.WriteByte(b);
        return this;
    }

    public FrameWriter Bytes(ReadOnlySpan<byte> value)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)value.Length);
        stream.Write(len);
        stream.Write(value);
        return this;
    }

    public FrameWriter Text(string value) => Bytes(Encoding.UTF8.GetBytes(value));

    public byte[] ToArray() => stream.Length == stream.Capacity ? stream.GetBuffer() : stream.ToArray();
}

/// <summary>Reads what <see cref="FrameWriter"/> wrote; any inconsistency is an <see cref="EnvelopeFault.Malformed"/> error.</summary>
internal ref struct FrameReader
{
    private ReadOnlySpan<byte> rest;

    public FrameReader(ReadOnlySpan<byte> bytes) => rest = bytes;

    public int Consumed { get; private set; }

    public byte Byte()
    {
        if (rest.IsEmpty) throw Malformed("truncated");
        var b = rest[0];
        Advance(1);
        return b;
    }

    public ReadOnlySpan<byte> Bytes(string field, int max)
    {
        if (rest.Length < 4) throw Malformed($"truncated before {field}");
        var len = BinaryPrimitives.ReadUInt32BigEndian(rest);
        if (len > (uint)max) throw Malformed($"{field} is {len} bytes, at most {max} allowed");
        if (rest.Length - 4 < len) throw Malformed($"truncated {field}");
        var v = rest.Slice(4, (int)len);
        Advance(4 + (int)len);
        return v;
    }

    public string Text(string field, int max)
    {
        var b = Bytes(field, max);
        try { return new UTF8Encoding(false, true).GetString(b); }
        catch (DecoderFallbackException) { throw Malformed($"{field} is not UTF-8"); }
    }

    public readonly void End()
    {
        if (!rest.IsEmpty) throw Malformed($"{rest.Length} trailing bytes");
    }

    private void Advance(int n)
    {
        rest = rest[n..];
        Consumed += n;
    }

    private static EnvelopeException Malformed(string why) => new(EnvelopeFault.Malformed, $"malformed envelope: {why}");
}
