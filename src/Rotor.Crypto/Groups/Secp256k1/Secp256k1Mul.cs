using Org.BouncyCastle.Math.EC;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// Pippenger's bucket method over BouncyCastle's secp256k1 points for large multi-scalar multiplications of
/// public data: the points are normalised to affine once (one inversion), so every bucket addition is a mixed
/// Jacobian-affine addition; buckets stay Jacobian.
/// </summary>
internal static class Secp256k1Mul
{
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
