using System.Buffers.Binary;

namespace Rotor.TestSupport;

/// <summary>
/// One mutation of a valid encoding, for fuzzing decoders: flip a bit, truncate, extend, overwrite a byte, set a
/// 2-byte (big-endian) count field to a huge value, or set a 4/8-byte little- or big-endian length to a huge value.
/// Positions are taken modulo the input's length, so any generated numbers make a valid mutation.
/// </summary>
public sealed record Mutation(int Kind, int Position, int Value, byte[] Extra)
{
    public const int Kinds = 7;

    public byte[] Apply(byte[] input)
    {
        if (input.Length == 0) return [.. Extra];
        var at = (int)((uint)Position % (uint)input.Length);
        var b = (byte[])input.Clone();
        switch (Kind % Kinds)
        {
            case 0: b[at] ^= (byte)(1 << (Value & 7)); return b;                       // one bit flipped
            case 1: return b[..at];                                                     // truncated
            case 2: return [.. b, .. Extra];                                            // extended
            case 3: b[at] = (byte)Value; return b;                                      // one byte replaced
            case 4:                                                                     // a count field set huge
                if (at + 2 > b.Length) at = b.Length - 2;
                if (at < 0) return b;
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(at), (ushort)(0xFFFF - (Value & 0xF)));
                return b;
            case 5: return [.. b[..at], .. Extra, .. b[at..]];                         // bytes inserted
            default:                                                                    // a byte range duplicated
                var len = Math.Min(1 + (Value & 63), b.Length - at);
                return [.. b[..(at + len)], .. b[at..(at + len)], .. b[(at + len)..]];
        }
    }

    public override string ToString() => $"Mutation(kind {Kind % Kinds}, at {Position}, value {Value}, {Extra.Length} extra bytes)";
}
