using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Sharing;

/// <summary>A secret polynomial f(x) = a0 + a1·x + ... + a_{t-1}·x^{t-1} over a group's scalar field.</summary>
public sealed class Polynomial
{
    private readonly Scalar[] coefficients;

    public Polynomial(IReadOnlyList<Scalar> coefficients)
    {
        if (coefficients.Count == 0) throw new ArgumentException("a polynomial needs at least one coefficient");
        this.coefficients = coefficients.ToArray();
        var g = this.coefficients[0].Group;
        if (this.coefficients.Any(c => !ReferenceEquals(c.Group, g))) throw new ArgumentException("coefficients of different groups");
    }

    /// <summary>A uniformly random polynomial of the given degree with a fixed constant term.</summary>
    public static Polynomial Random(Scalar constant, int degree)
    {
        if (degree < 0) throw new ArgumentOutOfRangeException(nameof(degree));
        var c = new Scalar[degree + 1];
        c[0] = constant;
        for (int i = 1; i <= degree; i++) c[i] = constant.Group.RandomScalar();
        return new Polynomial(c);
    }

    public Group Group => coefficients[0].Group;

    public int Degree => coefficients.Length - 1;

    public IReadOnlyList<Scalar> Coefficients => coefficients;

    /// <summary>f(x) by Horner's rule (constant time in the coefficients).</summary>
    public Scalar Evaluate(Scalar x)
    {
        var acc = coefficients[^1];
        for (int i = coefficients.Length - 2; i >= 0; i--) acc = acc * x + coefficients[i];
        return acc;
    }

    public Scalar Evaluate(Identifier x) => Evaluate(x.Scalar);

    /// <summary>The Feldman commitment (a_k·G)_k, each coefficient multiplied in constant time.</summary>
    public FeldmanCommitment Commit() => new(coefficients.Select(c => Group.MulBase(c)).ToArray());

    /// <summary>
    /// The commitment when the constant term's image a₀·G is already public (a reshare dealer's λ_i·Y_i): only
    /// the other coefficients are multiplied by G. The caller vouches that <paramref name="constantTerm"/> is a₀·G;
    /// a wrong one makes the commitment inconsistent with the shares, which every recipient's check catches.
    /// </summary>
    public FeldmanCommitment Commit(Element constantTerm)
    {
        if (!ReferenceEquals(constantTerm.Group, Group)) throw new ArgumentException("constant term of another group");
        var c = new Element[coefficients.Length];
        c[0] = constantTerm;
        for (int i = 1; i < c.Length; i++) c[i] = Group.MulBase(coefficients[i]);
        return new FeldmanCommitment(c);
    }
}
