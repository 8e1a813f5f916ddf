using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Sharing;

/// <summary>
/// Feldman VSS commitment to a polynomial: C_k = a_k·G. Public. Lets anyone compute f(x)·G and so check a
/// share f(x) without learning it.
/// </summary>
public sealed class FeldmanCommitment : IEquatable<FeldmanCommitment>
{
    private readonly Element[] coefficients;

    public FeldmanCommitment(IReadOnlyList<Element> coefficients)
    {
        if (coefficients.Count == 0) throw new ArgumentException("a commitment needs at least one coefficient");
        this.coefficients = coefficients.ToArray();
        var g = this.coefficients[0].Group;
        if (this.coefficients.Any(c => !ReferenceEquals(c.Group, g))) throw new ArgumentException("elements of different groups");
    }

    public Group Group => coefficients[0].Group;

    public IReadOnlyList<Element> Coefficients => coefficients;

    /// <summary>Threshold t = number of coefficients.</summary>
    public int Threshold => coefficients.Length;

    /// <summary>The committed constant term a0·G (the dealt secret's public image).</summary>
    public Element ConstantTerm => coefficients[0];

    /// <summary>f(x)·G = Σ x^k·C_k, by Horner's rule in the exponent (cheap for small identifiers).</summary>
    public Element Evaluate(Scalar x)
    {
        var g = Group;
        var acc = coefficients[^1];
        for (int i = coefficients.Length - 2; i >= 0; i--) acc = g.Add(g.MulVartime(acc, x), coefficients[i]);
        return acc;
    }

    public Element Evaluate(Identifier x) => Evaluate(x.Scalar);

    /// <summary>Does share·G equal f(x)·G?</summary>
    public bool Verify(Identifier x, Scalar share) => Group.MulBase(share).Equals(Evaluate(x));

    /// <summary>Coefficient-wise sum (commitment to the sum of the polynomials); the two must have the same length.</summary>
    public FeldmanCommitment Add(FeldmanCommitment other)
    {
        if (other.coefficients.Length != coefficients.Length) throw new ArgumentException("commitments of different thresholds");
        var r = new Element[coefficients.Length];
        for (int i = 0; i < r.Length; i++) r[i] = coefficients[i] + other.coefficients[i];
        return new FeldmanCommitment(r);
    }

    public static FeldmanCommitment Sum(IReadOnlyList<FeldmanCommitment> commitments)
    {
        if (commitments.Count == 0) throw new ArgumentException("nothing to sum");
        var acc = commitments[0];
        for (int i = 1; i < commitments.Count; i++) acc = acc.Add(commitments[i]);
        return acc;
    }

    public bool Equals(FeldmanCommitment? other) =>
        other is not null && other.coefficients.Length == coefficients.Length &&
        coefficients.Zip(other.coefficients).All(p => p.First.Equals(p.Second));

    public override bool Equals(object? obj) => obj is FeldmanCommitment c && Equals(c);
    public override int GetHashCode() => coefficients[0].GetHashCode();

    /// <summary>Concatenated canonical element encodings.</summary>
    public byte[] ToBytes() => coefficients.SelectMany(c => c.ToBytes()).ToArray();

    /// <summary>Decodes t concatenated elements, each checked by <see cref="Group.DecodeElement(ReadOnlySpan{byte})"/>.</summary>
    public static FeldmanCommitment Decode(Group group, ReadOnlySpan<byte> bytes)
    {
        int n = group.ElementLength;
        if (bytes.Length == 0 || bytes.Length % n != 0)
            throw new InvalidEncodingException($"{group.Name} commitment", EncodingError.WrongLength, $"{bytes.Length} bytes is not a positive multiple of {n}");
        var elems = new Element[bytes.Length / n];
        for (int i = 0; i < elems.Length; i++) elems[i] = group.DecodeElement(bytes.Slice(i * n, n));
        return new FeldmanCommitment(elems);
    }
}
