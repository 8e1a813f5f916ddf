using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Sharing;

/// <summary>Lagrange interpolation coefficients over a set of distinct identifiers.</summary>
public static class Lagrange
{
    /// <summary>λ_i(at) = Π_{j≠i} (at − x_j) / (x_i − x_j).</summary>
    public static Scalar Coefficient(Identifier i, IReadOnlyList<Identifier> set, Scalar at)
    {
        Check(i, set);
        var g = i.Group;
        var num = g.One;
        var den = g.One;
        foreach (var j in set)
        {
            if (j == i) continue;
            num *= at - j.Scalar;
            den *= i.Scalar - j.Scalar;
        }
        return num * den.Invert();
    }

    /// <summary>λ_i(0) = Π_{j≠i} x_j / (x_j − x_i).</summary>
    public static Scalar AtZero(Identifier i, IReadOnlyList<Identifier> set) => Coefficient(i, set, i.Group.Zero);

    /// <summary>λ_i(0) for every member of the set, in the set's order.</summary>
    public static Scalar[] AllAtZero(IReadOnlyList<Identifier> set) => set.Select(i => AtZero(i, set)).ToArray();

    private static void Check(Identifier i, IReadOnlyList<Identifier> set)
    {
        bool found = false;
        var seen = new HashSet<Identifier>();
        foreach (var j in set)
        {
            if (!ReferenceEquals(j.Group, i.Group)) throw new ArgumentException("identifiers of different groups");
            if (!seen.Add(j)) throw new ArgumentException($"identifier {j} appears twice in the set");
            if (j == i) found = true;
        }
        if (!found) throw new ArgumentException($"identifier {i} is not in the set");
    }
}
