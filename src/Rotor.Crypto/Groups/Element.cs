namespace Rotor.Crypto.Groups;

/// <summary>
/// An element of a prime-order group, bound to its group. Immutable. Its canonical encoding is computed
/// once and cached. Group elements are public values: their arithmetic may be variable time.
/// </summary>
public abstract class Element : IEquatable<Element>
{
    private byte[]? encoding;

    protected Element(Group group) => Group = group;

    public Group Group { get; }

    public bool IsIdentity => Group.IsIdentity(this);

    /// <summary>The group's canonical encoding (Ed25519: 32 bytes; secp256k1: 33-byte SEC1 compressed).
    /// The identity encodes as the group's identity encoding (Ed25519: y = 1; secp256k1: 33 zero bytes).</summary>
    public ReadOnlySpan<byte> Encoding => encoding ??= Group.EncodeElement(this);

    public byte[] ToBytes() => Encoding.ToArray();

    public string ToHex() => Convert.ToHexStringLower(Encoding);

    public static Element operator +(Element a, Element b) => Same(a, b).Add(a, b);
    public static Element operator -(Element a, Element b) => Same(a, b).Add(a, a.Group.Negate(b));
    public static Element operator -(Element a) => a.Group.Negate(a);
    public static Element operator *(Element p, Scalar k) => p.Group.MulVartime(p, k);

    public bool Equals(Element? other) => other is not null && ReferenceEquals(Group, other.Group) && Group.ElementEquals(this, other);
    public override bool Equals(object? obj) => obj is Element e && Equals(e);
    public override int GetHashCode() => HashCode.Combine(Group, Encoding[^1], Encoding[^2], Encoding[^3]);
    public static bool operator ==(Element? a, Element? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Element? a, Element? b) => !(a == b);
    public override string ToString() => $"{Group.Name}:{ToHex()}";

    /// <summary>Whether the encoding is already known (computing it may cost a field inversion).</summary>
    internal bool HasEncoding => encoding is not null;

    /// <summary>Used by a group to set the encoding it already has (for example after decoding).</summary>
    protected void SetEncoding(byte[] canonical) => encoding = canonical;

    private static Group Same(Element a, Element b)
    {
        if (!ReferenceEquals(a.Group, b.Group)) throw new InvalidOperationException($"elements of different groups ({a.Group.Name}, {b.Group.Name})");
        return a.Group;
    }
}
