using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Endo;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// Variable-time multi-scalar multiplication of public data over BouncyCastle's secp256k1 points: Straus
/// (interleaved wNAF) with the GLV endomorphism for long scalars, and Pippenger's bucket method for many points.
/// </summary>
internal static class Secp256k1Mul
{
    /// <summary>Scalars longer than this are split with the GLV endomorphism into two of about 128 bits.</summary>
    private const int GlvBits = 144;

    /// <summary>From this many non-zero digits the table points are normalised (one shared inversion) so that
    /// every addition is a cheaper mixed Jacobian–affine one.</summary>
    private const int NormaliseFromDigits = 12;

    /// <summary>
    /// Σ kᵢ·Pᵢ by Straus: one chain of doublings for all terms, as long as the longest (GLV-split) scalar;
    /// each term adds its wNAF digits from a table of its odd multiples, with no table at all for short scalars
    /// (identifiers in Horner's rule). Unlike BouncyCastle's <c>SumOfMultiplies</c> and <c>Multiply</c>, nothing is
    /// cached on the points (no lock on the curve's precomputation store) and the result is not re-validated.
    /// </summary>
    public static ECPoint Straus(ECCurve curve, GlvEndomorphism glv, ReadOnlySpan<UInt256> scalars, ReadOnlySpan<ECPoint> points)
    {
        var bases = new List<ECPoint>(2 * points.Length);
        var nafs = new List<sbyte[]>(2 * points.Length);
        var widths = new List<int>(2 * points.Length);
        for (int j = 0; j < points.Length; j++)
        {
            var p = points[j];
            if (p.IsInfinity || UInt256.IsZeroMask(scalars[j]) != 0) continue;
            if (MsmDigits.MaxBitLength([scalars[j]]) <= GlvBits)
            {
                AddTerm(p, scalars[j]);
                continue;
            }
            // k = k1 + k2·λ (mod n) with |k1|, |k2| about 2^128, and λ·P = φ(P) = (β·x, y)
            var parts = glv.DecomposeScalar(ToBigInteger(scalars[j]));
            var q = glv.PointMap.Map(p);
            AddSigned(p, parts[0]);
            AddSigned(q, parts[1]);
        }
        if (bases.Count == 0) return curve.Infinity;

        int top = -1, digits = 0;
        foreach (var naf in nafs)
            for (int i = 0; i < naf.Length; i++)
                if (naf[i] != 0) { top = Math.Max(top, i); digits++; }
        var tables = new ECPoint[bases.Count][];
        for (int j = 0; j < bases.Count; j++) tables[j] = OddMultiples(bases[j], widths[j]);
        if (digits >= NormaliseFromDigits) NormaliseTables(curve, tables);

        var acc = curve.Infinity;
        for (int i = top; i >= 0; i--)
        {
            acc = acc.Twice();
            for (int j = 0; j < tables.Length; j++)
            {
                int d = nafs[j][i];
                if (d == 0) continue;
                var t = tables[j][(d > 0 ? d : -d) >> 1];
                acc = acc.Add(d > 0 ? t : t.Negate());
            }
        }
        return acc;

        void AddSigned(ECPoint p, BcBigInteger k)
        {
            if (k.SignValue == 0) return;
            if (k.SignValue < 0) (p, k) = (p.Negate(), k.Negate());
            AddTerm(p, FromBigInteger(k));
        }

        void AddTerm(ECPoint p, UInt256 k)
        {
            int w = MsmDigits.WnafWidth(MsmDigits.MaxBitLength([k]));
            bases.Add(p);
            widths.Add(w);
            nafs.Add(MsmDigits.Wnaf(k, w));
        }
    }

    /// <summary>P, 3P, 5P, ..., (2^(w-1) - 1)·P.</summary>
    private static ECPoint[] OddMultiples(ECPoint p, int w)
    {
        var table = new ECPoint[1 << (w - 2)];
        table[0] = p;
        if (table.Length == 1) return table;
        var twice = p.Twice();
        for (int i = 1; i < table.Length; i++) table[i] = table[i - 1].Add(twice);
        return table;
    }

    private static void NormaliseTables(ECCurve curve, ECPoint[][] tables)
    {
        var all = tables.SelectMany(t => t).ToArray();
        curve.NormalizeAll(all);
        int k = 0;
        foreach (var t in tables)
            for (int i = 0; i < t.Length; i++) t[i] = all[k++];
    }

    private static BcBigInteger ToBigInteger(in UInt256 k)
    {
        Span<byte> b = stackalloc byte[32];
        k.WriteBigEndian(b);
        return new BcBigInteger(1, b);
    }

    private static UInt256 FromBigInteger(BcBigInteger k)
    {
        Span<byte> b = stackalloc byte[32];
        b.Clear();
        var bytes = k.ToByteArrayUnsigned();
        bytes.CopyTo(b[(32 - bytes.Length)..]);
        return UInt256.FromBigEndian(b);
    }

    /// <summary>From this many points Pippenger beats BouncyCastle's GLV Straus (measured on x64).</summary>
    internal const int PippengerThreshold = 96;

    /// <summary>From this many points the windows are shared out over the processor's cores.</summary>
    internal const int ParallelThreshold = 2048;

    public static ECPoint Pippenger(ECCurve curve, ReadOnlySpan<UInt256> scalars, ECPoint[] points)
    {
        int n = points.Length;
        var affine = (ECPoint[])points.Clone();
        curve.NormalizeAll(affine);
        var negated = new ECPoint[n];
        for (int j = 0; j < n; j++) negated[j] = affine[j].Negate();

        int bits = Math.Max(1, MsmDigits.MaxBitLength(scalars));
        // a mixed addition costs about 11 field multiplications, a Jacobian one about 16
        int c = MsmDigits.WindowBits(n, bits, 11, 16);
        int windows = MsmDigits.Windows(bits, c);
        var digits = new short[n * windows];
        for (int j = 0; j < n; j++)
            if (!affine[j].IsInfinity) MsmDigits.SignedDigits(scalars[j], c, windows, digits.AsSpan(j * windows, windows));

        var sums = new ECPoint[windows];
        if (n >= ParallelThreshold && Environment.ProcessorCount > 1)
            Parallel.For(0, windows, w => sums[w] = WindowSum(curve, affine, negated, digits, windows, w, c));
        else
            for (int w = 0; w < windows; w++) sums[w] = WindowSum(curve, affine, negated, digits, windows, w, c);

        var acc = sums[windows - 1];
        for (int w = windows - 2; w >= 0; w--) acc = acc.TimesPow2(c).Add(sums[w]);
        return acc;
    }

    private static ECPoint WindowSum(ECCurve curve, ECPoint[] affine, ECPoint[] negated, short[] digits, int windows, int w, int c)
    {
        var buckets = new ECPoint?[1 << (c - 1)];
        for (int j = 0; j < affine.Length; j++)
        {
            int d = digits[j * windows + w];
            if (d == 0) continue;
            int b = (d > 0 ? d : -d) - 1;
            var p = d > 0 ? affine[j] : negated[j];
            buckets[b] = buckets[b] is { } bucket ? bucket.Add(p) : p;
        }
        ECPoint running = curve.Infinity, total = curve.Infinity;
        for (int b = buckets.Length - 1; b >= 0; b--)
        {
            if (buckets[b] is { } bucket) running = running.Add(bucket);
            total = total.Add(running);
        }
        return total;
    }
}
