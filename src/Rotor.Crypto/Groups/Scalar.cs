using System.Numerics;

namespace Rotor.Crypto.Groups;

/// <summary>
/// An element of a group's scalar field (an integer modulo the group order), bound to its group.
/// Immutable. Arithmetic on scalars is constant time (<see cref="MontgomeryField"/>, modulo either group's order).
/// Mixing scalars of two groups throws.
/// </summary>
public readonly struct Scalar : IEquatable<Scalar>
{
    private readonly Group? group;
    internal readonly UInt256 Value;

    internal Scalar(Group group, UInt256 value)
    {
        this.group = group;
        Value = value;
    }

    public Group Group => group ?? throw new InvalidOperationException("uninitialised Scalar");

    /// <summary>The group without the check (null for an uninitialised scalar), for the batch operations' own check.</summary>
    internal Group? GroupOrNull => group;

    public bool IsZero => UInt256.IsZeroMask(Value) != 0;

    /// <summary>The group's canonical scalar encoding (Ed25519: 32 bytes little-endian; secp256k1: 32 bytes big-endian).</summary>
    public byte[] ToBytes()
    {
        var b = new byte[Group.ScalarLength];
        Group.EncodeScalar(this, b);
        return b;
    }

    public void WriteTo(Span<byte> destination) => Group.EncodeScalar(this, destination);

    public Scalar Invert() => Group.ScalarInvert(this);

    /// <summary>For tests and diagnostics only; not constant time.</summary>
    public BigInteger ToBigInteger() => Value.ToBigInteger();

    public static Scalar operator +(Scalar a, Scalar b) => Same(a, b).ScalarAdd(a, b);
    public static Scalar operator -(Scalar a, Scalar b) => Same(a, b).ScalarSub(a, b);
    public static Scalar operator *(Scalar a, Scalar b) => Same(a, b).ScalarMul(a, b);
    public static Scalar operator -(Scalar a) => a.Group.ScalarNegate(a);
    public static Element operator *(Scalar k, Element p) => p.Group.MulVartime(p, k);

    /// <summary>bit = 0: <paramref name="ifZero"/>, bit = 1: <paramref name="ifOne"/>, by a mask (constant time; bit may be secret).</summary>
    public static Scalar Select(Scalar ifZero, Scalar ifOne, ulong bit)
    {
        var g = Same(ifZero, ifOne);
        return new Scalar(g, UInt256.Select(0UL - (bit & 1), ifOne.Value, ifZero.Value));
    }

    /// <summary>Constant-time equality.</summary>
    public bool Equals(Scalar other) => ReferenceEquals(group, other.group) && UInt256.EqualMask(Value, other.Value) != 0;
    public override bool Equals(object? obj) => obj is Scalar s && Equals(s);
    public override int GetHashCode() => HashCode.Combine(group, Value.L0);
    public static bool operator ==(Scalar a, Scalar b) => a.Equals(b);
    public static bool operator !=(Scalar a, Scalar b) => !a.Equals(b);

    /// <summary>Never prints the value: scalars are usually secret.</summary>
    public override string ToString() => $"Scalar({group?.Name ?? "uninitialised"})";

    private static Group Same(in Scalar a, in Scalar b)
    {
        var g = a.Group;
        if (!ReferenceEquals(g, b.Group)) throw new InvalidOperationException($"scalars of different groups ({g.Name}, {b.Group.Name})");
        return g;
    }
}

/// <summary>
/// A scalar prepared by <see cref="Group.Prepare"/> for many multiplications: x·c in one Montgomery product (the
/// factor is kept as c·R mod n). Constant time. Never printed.
/// </summary>
public readonly struct ScalarFactor
{
    private readonly Scalar value;
    private readonly UInt256 montgomery;

    internal ScalarFactor(Scalar value, UInt256 montgomery)
    {
        this.value = value;
        this.montgomery = montgomery;
    }

    public Scalar Value => value;

    /// <summary>c·R mod n (R = 2^256), for the batch operations.</summary>
    internal UInt256 Montgomery => montgomery;

    /// <summary>x·c.</summary>
    public Scalar Times(Scalar x)
    {
        var g = value.Group;
        if (!ReferenceEquals(g, x.Group)) throw new InvalidOperationException($"scalars of different groups ({g.Name}, {x.Group.Name})");
        var f = g.ScalarField;
        return f is null ? value * x : new Scalar(g, f.MulByMontgomery(x.Value, montgomery));
    }

    public override string ToString() => "ScalarFactor";
}
