using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Hashing;

/// <summary>
/// A domain-separated, unambiguous hash transcript (SHA-512). Every item is framed as
/// label length, label, value length, value, so two different sequences of appends never hash alike.
/// Used for session ids, transcript hashes, broadcast-consistency digests and proof challenges.
/// </summary>
public sealed class Transcript : IDisposable
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);

    public Transcript(string domain)
    {
        Append("rotor-domain", Encoding.UTF8.GetBytes(domain));
    }

    public Transcript Append(string label, ReadOnlySpan<byte> value)
    {
        Span<byte> len = stackalloc byte[4];
        var l = Encoding.UTF8.GetBytes(label);
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)l.Length);
        hash.AppendData(len);
        hash.AppendData(l);
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)value.Length);
        hash.AppendData(len);
        hash.AppendData(value);
        return this;
    }

    public Transcript Append(string label, string value) => Append(label, Encoding.UTF8.GetBytes(value));

    public Transcript Append(string label, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return Append(label, b);
    }

    public Transcript Append(string label, Scalar value) => Append(label, value.ToBytes());

    public Transcript Append(string label, Element value) => Append(label, value.Encoding);

    public Transcript Append(string label, IReadOnlyList<Element> values)
    {
        Append(label + ".count", (ulong)values.Count);
        foreach (var v in values) Append(label, v.Encoding);
        return this;
    }

    public Transcript Append(string label, IReadOnlyList<Scalar> values)
    {
        Append(label + ".count", (ulong)values.Count);
        foreach (var v in values) Append(label, v.ToBytes());
        return this;
    }

    /// <summary>The 64-byte digest of everything appended so far; the transcript can go on afterwards.</summary>
    public byte[] Digest() => hash.GetCurrentHash();

    /// <summary>A scalar challenge derived from everything appended so far.</summary>
    public Scalar ChallengeScalar(Group group, string label)
    {
        Append("challenge", label);
        return group.ReduceWide(Digest());
    }

    public void Dispose() => hash.Dispose();
}
