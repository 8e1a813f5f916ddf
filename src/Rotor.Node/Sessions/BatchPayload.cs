using System.Buffers.Binary;
using System.Text;

namespace Rotor.Node.Sessions;

/// <summary>
/// The plaintext of one envelope in a batch session: for each key of the batch, that key's protocol message.
/// One envelope per sender, recipient and round carries all keys, so a batch of thousands of wallets costs one
/// envelope per pair, not one per wallet. Layout: count, then (key id length, key id, message length, message)…
/// with u32 big-endian lengths.
/// </summary>
public static class BatchPayload
{
    public static byte[] Encode(IReadOnlyList<(string KeyId, byte[] Message)> items)
    {
        var size = 4 + items.Sum(i => 8 + Encoding.UTF8.GetByteCount(i.KeyId) + i.Message.Length);
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)items.Count);
        var pos = 4;
        foreach (var (keyId, message) in items)
        {
            var k = Encoding.UTF8.GetBytes(keyId);
            BinaryPrimitives.WriteUInt32BigEndian(span[pos..], (uint)k.Length);
            k.CopyTo(span[(pos + 4)..]);
            pos += 4 + k.Length;
            BinaryPrimitives.WriteUInt32BigEndian(span[pos..], (uint)message.Length);
            message.CopyTo(span[(pos + 4)..]);
            pos += 4 + message.Length;
        }
        return buffer;
    }

    /// <summary>Decodes a batch, refusing truncation, trailing bytes and a key given twice.</summary>
    public static Dictionary<string, byte[]> Decode(ReadOnlySpan<byte> bytes, string from)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (bytes.Length < 4) throw Bad(from, "truncated");
        var count = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        var pos = 4;
        for (uint i = 0; i < count; i++)
        {
            var key = Encoding.UTF8.GetString(Take(bytes, ref pos, from));
            var message = Take(bytes, ref pos, from).ToArray();
            if (!result.TryAdd(key, message)) throw Bad(from, $"key '{key}' appears twice");
        }
        if (pos != bytes.Length) throw Bad(from, "trailing bytes");
        return result;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> bytes, ref int pos, string from)
    {
        if (bytes.Length - pos < 4) throw Bad(from, "truncated");
        var len = BinaryPrimitives.ReadUInt32BigEndian(bytes[pos..]);
        if (len > (uint)(bytes.Length - pos - 4)) throw Bad(from, "truncated");
        var v = bytes.Slice(pos + 4, (int)len);
        pos += 4 + (int)len;
        return v;
    }

    private static Rotor.Protocols.ProtocolException Bad(string from, string why) =>
        new(Rotor.Protocols.Fault.MalformedMessage, $"batch message from '{from}' is malformed: {why}");
}
