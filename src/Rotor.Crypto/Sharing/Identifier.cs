using System.Numerics;
using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Sharing;

/// <summary>
/// A participant identifier: a non-zero scalar (RFC 9591 section 3.1), so any number of participants fits,
/// not only 255. Public. Ordered by integer value.
/// </summary>
public readonly struct Identifier : IEquatable<Identifier>, IComparable<Identifier>
{
    private Identifier(Scalar value) => Scalar = value;

    public Scalar Scalar { get; }

    public Group Group => Scalar.Group;

    public static Identifier FromUInt64(Group group, ulong value)
    {
        if (value == 0) throw new ArgumentOutOfRangeException(nameof(value), "identifier 0 is not allowed");
        return new Identifier(group.ScalarFromUInt64(value));
    }

    /// <summary>Wraps a scalar, refusing zero.</summary>
    public static Identifier FromScalar(Scalar s)
    {
        if (s.IsZero) throw new InvalidEncodingException($"{s.Group.Name} identifier", EncodingError.Zero, "");
        return new Identifier(s);
    }

    /// <summary>Decodes a canonical, non-zero scalar encoding.</summary>
    public static Identifier Decode(Group group, ReadOnlySpan<byte> bytes) => new(group.DecodeNonZeroScalar(bytes));

    public byte[] ToBytes() => Scalar.ToBytes();

    /// <summary>The identifier's integer value (identifiers are public).</summary>
    public BigInteger Value => Scalar.ToBigInteger();

    public bool Equals(Identifier other) => Scalar.Equals(other.Scalar);
    public override bool Equals(object? obj) => obj is Identifier i && Equals(i);
    public override int GetHashCode() => Scalar.GetHashCode();
    public int CompareTo(Identifier other) => Value.CompareTo(other.Value);
    public static bool operator ==(Identifier a, Identifier b) => a.Equals(b);
    public static bool operator !=(Identifier a, Identifier b) => !a.Equals(b);

    /// <summary>Small identifiers print as their number, large ones as hex.</summary>
    public override string ToString()
    {
        var v = Value;
        return v < 1_000_000 ? v.ToString() : "0x" + Convert.ToHexStringLower(ToBytes());
    }
}
