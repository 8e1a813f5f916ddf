namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>
/// P + k·G for public k and P, variable time: k in 32 signed base-256 digits (k &lt; L &lt; 2^253, so no carry
/// leaves the top digit), and a table of j·256^w·G (j = 1..128, w = 0..31) in affine Niels form, so that the
/// multiplication is at most 32 mixed additions (7 field multiplications each) and no doubling. The table
/// (4,096 points, about 0.8 MB) is built on first use from the generator with the same addition formulas and
/// one shared inversion. Only for public scalars: the table index is the digit.
/// </summary>
internal static class EdwardsFixedBase
{
    private const int Windows = 32;
    private const int PerWindow = 128;

    private static EdwardsPoint.AffineNiels[]? table;

    private static EdwardsPoint.AffineNiels[] Table(EdwardsPoint generator) =>
        Volatile.Read(ref table) ?? Build(generator);

    private static EdwardsPoint.AffineNiels[] Build(EdwardsPoint generator)
    {
        var t = new EdwardsPoint.Temps();
        var points = new EdwardsPoint[Windows * PerWindow];
        var b = generator.Clone();                              // 256^w·G
        for (int w = 0; w < Windows; w++)
        {
            points[w * PerWindow] = b;
            for (int j = 1; j < PerWindow; j++)
            {
                var r = new EdwardsPoint();
                EdwardsPoint.Add(points[w * PerWindow + j - 1], b, r, t);
                points[w * PerWindow + j] = r;
            }
            var next = new EdwardsPoint();
            EdwardsPoint.Double(points[w * PerWindow + PerWindow - 1], next, t); // 2·128·256^w·G
            b = next;
        }
        var built = EdwardsPoint.ToAffineNiels(points);
        Interlocked.CompareExchange(ref table, built, null);
        return table!;
    }

    /// <summary>The signed base-256 digits of k &lt; 2^253: k = Σ d_w·256^w with d_w in [−128, 127].</summary>
    private static void Digits(in UInt256 k, Span<sbyte> digits)
    {
        Span<byte> b = stackalloc byte[32];
        k.WriteLittleEndian(b);
        int carry = 0;
        for (int w = 0; w < Windows; w++)
        {
            int v = b[w] + carry;
            carry = (v + 128) >> 8;
            digits[w] = (sbyte)(v - (carry << 8));
        }
        if (carry != 0) throw new ArgumentOutOfRangeException(nameof(k), "scalar is not below 2^255");
    }

    /// <summary>P + k·G (a new point; P is not changed).</summary>
    public static EdwardsPoint AddMulBase(EdwardsPoint p, in UInt256 k, EdwardsPoint generator)
    {
        var tab = Table(generator);
        Span<sbyte> digits = stackalloc sbyte[Windows];
        Digits(k, digits);
        var t = EdwardsPoint.Temps.Current;
        var acc = p.Clone();
        for (int w = 0; w < Windows; w++)
        {
            int d = digits[w];
            if (d == 0) continue;
            EdwardsPoint.AddAffine(acc, tab[w * PerWindow + (d > 0 ? d : -d) - 1], d < 0, acc, t);
        }
        return acc;
    }
}
