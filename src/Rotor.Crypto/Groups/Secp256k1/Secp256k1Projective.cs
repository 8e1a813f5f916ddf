using System.Runtime.CompilerServices;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// A secp256k1 point in homogeneous projective coordinates (X : Y : Z), y² = x³ + 7 with x = X/Z, y = Y/Z; the
/// identity is (0 : 1 : 0). Addition and doubling are the complete formulas of Renes, Costello and Batina
/// ("Complete addition formulas for prime order elliptic curves", EUROCRYPT 2016, algorithms 7 and 9 for a = 0):
/// one sequence of field operations for every pair of inputs, the identity and P + P included, so nothing branches
/// on a point.
/// </summary>
internal readonly struct Projective
{
    public readonly Fe X, Y, Z;

    public Projective(in Fe x, in Fe y, in Fe z) { X = x; Y = y; Z = z; }

    public static readonly Projective Identity = new(Fe.Zero, Fe.One, Fe.Zero);

    /// <summary>3·b = 21.</summary>
    private static readonly Fe B3 = new(21, 0, 0, 0);

    public static Projective FromAffine(in Fe x, in Fe y) => new(x, y, Fe.One);

    /// <summary>Complete addition (RCB16 algorithm 7, a = 0): 12 multiplications and 2 by 3b.</summary>
    public static Projective Add(in Projective p, in Projective q)
    {
        Fe t0 = p.X * q.X;
        Fe t1 = p.Y * q.Y;
        Fe t2 = p.Z * q.Z;
        Fe t3 = p.X + p.Y;
        Fe t4 = q.X + q.Y;
        t3 = t3 * t4;
        t4 = t0 + t1;
        t3 = t3 - t4;
        t4 = p.Y + p.Z;
        Fe x3 = q.Y + q.Z;
        t4 = t4 * x3;
        x3 = t1 + t2;
        t4 = t4 - x3;
        x3 = p.X + p.Z;
        Fe y3 = q.X + q.Z;
        x3 = x3 * y3;
        y3 = t0 + t2;
        y3 = x3 - y3;
        x3 = t0 + t0;
        t0 = x3 + t0;
        t2 = B3 * t2;
        Fe z3 = t1 + t2;
        t1 = t1 - t2;
        y3 = B3 * y3;
        x3 = t4 * y3;
        t2 = t3 * t1;
        x3 = t2 - x3;
        y3 = y3 * t0;
        t1 = t1 * z3;
        y3 = t1 + y3;
        t0 = t0 * t3;
        z3 = z3 * t4;
        z3 = z3 + t0;
        return new Projective(x3, y3, z3);
    }

    /// <summary>Complete doubling (RCB16 algorithm 9, a = 0): 6 multiplications, 2 squarings and 1 by 3b.</summary>
    public Projective Double()
    {
        Fe t0 = Y.Square();
        Fe z3 = t0 + t0;
        z3 = z3 + z3;
        z3 = z3 + z3;
        Fe t1 = Y * Z;
        Fe t2 = Z.Square();
        t2 = B3 * t2;
        Fe x3 = t2 * z3;
        Fe y3 = t0 + t2;
        z3 = t1 * z3;
        t1 = t2 + t2;
        t2 = t1 + t2;
        t0 = t0 - t2;
        y3 = t0 * y3;
        y3 = x3 + y3;
        t1 = X * Y;
        x3 = t0 * t1;
        x3 = x3 + x3;
        return new Projective(x3, y3, z3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Projective Select(ulong mask, in Projective a, in Projective b) =>
        new(Fe.Select(mask, a.X, b.X), Fe.Select(mask, a.Y, b.Y), Fe.Select(mask, a.Z, b.Z));

    /// <summary>
    /// table[index] for a secret index below table.Length: every entry is read and kept under a mask (no memory
    /// access depends on the index).
    /// </summary>
    public static Projective Lookup(ReadOnlySpan<Projective> table, uint index)
    {
        var r = table[0];
        for (int i = 1; i < table.Length; i++)
        {
            // mask = all ones when i == index
            uint d = (uint)i ^ index;
            ulong eq = ((ulong)((d | (0u - d)) >> 31)) - 1;
            r = Select(eq, table[i], r);
        }
        return r;
    }

    /// <summary>The affine coordinates (one constant-time inversion); <paramref name="isIdentity"/> all ones for the identity (then x = y = 0).</summary>
    public void ToAffine(out Fe x, out Fe y, out ulong isIdentity)
    {
        var zi = Z.Invert();
        x = X * zi;
        y = Y * zi;
        isIdentity = Z.IsZeroMask();
    }

    /// <summary>Affine coordinates of many points with one inversion (Montgomery's trick), constant time; identities give x = y = 0 and an all-ones mask.</summary>
    public static void ToAffineMany(ReadOnlySpan<Projective> points, Span<Fe> xs, Span<Fe> ys, Span<ulong> isIdentity)
    {
        int n = points.Length;
        if (n == 0) return;
        var prefix = new Fe[n];
        var acc = Fe.One;
        for (int i = 0; i < n; i++)
        {
            isIdentity[i] = points[i].Z.IsZeroMask();
            var z = Fe.Select(isIdentity[i], Fe.One, points[i].Z); // a zero Z would zero the product
            prefix[i] = acc;
            acc = acc * z;
        }
        var inv = acc.Invert();
        for (int i = n - 1; i >= 0; i--)
        {
            var z = Fe.Select(isIdentity[i], Fe.One, points[i].Z);
            var zi = inv * prefix[i];
            inv = inv * z;
            xs[i] = Fe.Select(isIdentity[i], Fe.Zero, points[i].X * zi);
            ys[i] = Fe.Select(isIdentity[i], Fe.Zero, points[i].Y * zi);
        }
        Array.Clear(prefix);
    }
}

/// <summary>
/// Constant-time scalar multiplications over <see cref="Projective"/> points: a fixed-base comb (64 windows of 4
/// bits, a table of d·16^w·P for every window w and digit d: 64 table reads and 64 additions per multiplication, no
/// doubling) for the generator and for any point multiplied by many secret scalars, and fixed 4-bit windows (256
/// doublings, 64 table reads and additions) for a single variable base. Table reads scan every entry under a mask;
/// additions are complete; the scalar's digits are read with shifts and masks only.
/// </summary>
internal sealed class Secp256k1Comb
{
    private const int Windows = 64;
    private readonly Projective[] table; // [w * 16 + d] = d·16^w·P

    public Secp256k1Comb(in Projective p)
    {
        table = new Projective[Windows * 16];
        var b = p;
        for (int w = 0; w < Windows; w++)
        {
            table[w * 16] = Projective.Identity;
            for (int d = 1; d < 16; d++) table[w * 16 + d] = Projective.Add(table[w * 16 + d - 1], b);
            b = b.Double().Double().Double().Double();
        }
    }

    /// <summary>k·P for a scalar k (little-endian limbs, any 256-bit value).</summary>
    public Projective Mul(in UInt256 k)
    {
        var acc = Projective.Identity;
        var span = table.AsSpan();
        for (int w = 0; w < Windows; w++)
        {
            uint digit = Digit(k, w);
            acc = Projective.Add(acc, Projective.Lookup(span.Slice(w * 16, 16), digit));
        }
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Digit(in UInt256 k, int w)
    {
        int limb = w >> 4, shift = (w & 15) * 4;
        ulong l = limb switch { 0 => k.L0, 1 => k.L1, 2 => k.L2, _ => k.L3 }; // the index is public (w), not the value
        return (uint)((l >> shift) & 0xF);
    }

    /// <summary>k·P for a single variable base P: fixed 4-bit windows from the top, 4 doublings, a masked read of d·P and a complete addition each.</summary>
    public static Projective MulVariableBase(in Projective p, in UInt256 k)
    {
        Span<Projective> t = stackalloc Projective[16];
        t[0] = Projective.Identity;
        t[1] = p;
        for (int d = 2; d < 16; d++) t[d] = (d & 1) == 0 ? t[d >> 1].Double() : Projective.Add(t[d - 1], p);
        var acc = Projective.Lookup(t, Digit(k, Windows - 1));
        for (int w = Windows - 2; w >= 0; w--)
        {
            acc = acc.Double().Double().Double().Double();
            acc = Projective.Add(acc, Projective.Lookup(t, Digit(k, w)));
        }
        t.Clear();
        return acc;
    }
}
