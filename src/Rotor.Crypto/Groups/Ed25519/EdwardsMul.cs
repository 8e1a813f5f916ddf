namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>Variable-time scalar multiplication for public data: wNAF, Straus (interleaved wNAF) and Pippenger.</summary>
internal static class EdwardsMul
{
    /// <summary>Below this many points Straus is used, from it on Pippenger (measured on x64).</summary>
    internal const int PippengerThreshold = 64;

    /// <summary>From this many points Pippenger's windows are shared out over the processor's cores.</summary>
    internal const int ParallelThreshold = 2048;

    public static EdwardsPoint Mul(EdwardsPoint p, in UInt256 k) => Straus([k], [p]);

    /// <summary>Σ kᵢ·Pᵢ.</summary>
    public static EdwardsPoint MultiMul(ReadOnlySpan<UInt256> scalars, ReadOnlySpan<EdwardsPoint> points)
    {
        if (scalars.Length != points.Length) throw new ArgumentException("as many scalars as points are needed");
        if (points.Length == 0) return EdwardsPoint.NewIdentity();
        return points.Length < PippengerThreshold ? Straus(scalars, points) : Pippenger(scalars, points);
    }

    /// <summary>Interleaved wNAF over tables of cached odd multiples; doublings skip T unless an addition follows.</summary>
    internal static EdwardsPoint Straus(ReadOnlySpan<UInt256> scalars, ReadOnlySpan<EdwardsPoint> points)
    {
        var t = EdwardsPoint.Temps.Current;
        int n = points.Length;
        var tables = new EdwardsPoint.Cached[n][];
        var nafs = new sbyte[n][];
        var busy = new bool[258];                   // some digit is non-zero at this position
        int top = -1;
        for (int j = 0; j < n; j++)
        {
            int w = MsmDigits.WnafWidth(MsmDigits.MaxBitLength([scalars[j]]));
            var naf = nafs[j] = MsmDigits.Wnaf(scalars[j], w);
            int tj = -1;
            for (int i = 0; i < naf.Length; i++) if (naf[i] != 0) { busy[i] = true; tj = i; }
            if (tj < 0) continue;
            tables[j] = OddMultiples(points[j], w, t);
            top = Math.Max(top, tj);
        }
        var acc = EdwardsPoint.NewIdentity();
        for (int i = top; i >= 0; i--)
        {
            if (i != top) EdwardsPoint.Double(acc, acc, t, computeT: busy[i] || i == 0);
            if (!busy[i]) continue;
            int last = -1;                          // the last addition at this position may skip T if a doubling follows
            for (int j = 0; j < n; j++) if (nafs[j][i] != 0) last = j;
            for (int j = 0; j <= last; j++)
            {
                int d = nafs[j][i];
                if (d == 0) continue;
                bool needT = j != last || i == 0;
                EdwardsPoint.AddCached(acc, tables[j][(d > 0 ? d : -d) >> 1], d < 0, acc, t, needT);
            }
        }
        return acc;
    }

    /// <summary>
    /// Pippenger's bucket method with signed radix-2^c digits over affine Niels points (one batched inversion).
    /// Large inputs split their windows across threads; the result does not depend on how.
    /// </summary>
    internal static EdwardsPoint Pippenger(ReadOnlySpan<UInt256> scalars, ReadOnlySpan<EdwardsPoint> points)
    {
        int n = points.Length;
        int bits = Math.Max(1, MsmDigits.MaxBitLength(scalars));
        // a bucket addition of an affine Niels point costs 7 multiplications, a running-sum addition 9
        int c = MsmDigits.WindowBits(n, bits, 7, 9);
        int windows = MsmDigits.Windows(bits, c);
        var digits = new short[n * windows];
        for (int j = 0; j < n; j++) MsmDigits.SignedDigits(scalars[j], c, windows, digits.AsSpan(j * windows, windows));
        var affine = EdwardsPoint.ToAffineNiels(points);

        var sums = new EdwardsPoint[windows];
        if (n >= ParallelThreshold && Environment.ProcessorCount > 1)
            Parallel.For(0, windows, w => sums[w] = WindowSum(affine, digits, windows, w, c));
        else
            for (int w = 0; w < windows; w++) sums[w] = WindowSum(affine, digits, windows, w, c);

        var t = EdwardsPoint.Temps.Current;
        var acc = sums[windows - 1];
        for (int w = windows - 2; w >= 0; w--)
        {
            for (int i = 0; i < c; i++) EdwardsPoint.Double(acc, acc, t, computeT: i == c - 1);
            EdwardsPoint.Add(acc, sums[w], acc, t);
        }
        return acc;
    }

    /// <summary>Σ over points of digit·P for one window: bucket b collects the points whose digit is ±(b+1).</summary>
    private static EdwardsPoint WindowSum(EdwardsPoint.AffineNiels[] points, short[] digits, int windows, int w, int c)
    {
        var t = EdwardsPoint.Temps.Current;
        int half = 1 << (c - 1);
        var buckets = new EdwardsPoint[half];
        for (int j = 0; j < points.Length; j++)
        {
            int d = digits[j * windows + w];
            if (d == 0) continue;
            int b = (d > 0 ? d : -d) - 1;
            var bucket = buckets[b] ??= EdwardsPoint.NewIdentity();
            EdwardsPoint.AddAffine(bucket, points[j], d < 0, bucket, t);
        }
        // Σ (b+1)·bucket[b] as a sum of running sums, from the top bucket down
        EdwardsPoint? running = null;
        var total = EdwardsPoint.NewIdentity();
        for (int b = half - 1; b >= 0; b--)
        {
            if (buckets[b] is { } bucket)
            {
                if (running is null) running = bucket;
                else EdwardsPoint.Add(running, bucket, running, t);
            }
            if (running is not null) EdwardsPoint.Add(total, running, total, t);
        }
        return total;
    }

    /// <summary>P, 3P, 5P, ..., (2^(w-1) - 1)·P in cached form.</summary>
    private static EdwardsPoint.Cached[] OddMultiples(EdwardsPoint p, int w, EdwardsPoint.Temps t)
    {
        var table = new EdwardsPoint.Cached[1 << (w - 2)];
        table[0] = p.ToCached();
        if (table.Length == 1) return table;
        var p2 = new EdwardsPoint();
        EdwardsPoint.Double(p, p2, t);
        var c2 = p2.ToCached();
        var q = p.Clone();
        for (int i = 1; i < table.Length; i++)
        {
            EdwardsPoint.AddCached(q, c2, false, q, t);
            table[i] = q.ToCached();
        }
        return table;
    }
}
