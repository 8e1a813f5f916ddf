namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>Variable-time scalar multiplication for public data: wNAF, Straus (interleaved wNAF) and Pippenger.</summary>
internal static class EdwardsMul
{
    private const int StrausWindow = 5;

    public static EdwardsPoint Mul(EdwardsPoint p, in UInt256 k)
    {
        var t = EdwardsPoint.Temps.Current;
        var table = OddMultiples(p, StrausWindow, t);
        var naf = Wnaf(k, StrausWindow);
        var acc = EdwardsPoint.NewIdentity();
        int top = naf.Length - 1;
        while (top >= 0 && naf[top] == 0) top--;
        for (int i = top; i >= 0; i--)
        {
            EdwardsPoint.Double(acc, acc, t);
            int d = naf[i];
            if (d > 0) EdwardsPoint.Add(acc, table[d >> 1], acc, t);
            else if (d < 0) EdwardsPoint.Sub(acc, table[(-d) >> 1], acc, t);
        }
        return acc;
    }

    /// <summary>Σ kᵢ·Pᵢ.</summary>
    public static EdwardsPoint MultiMul(ReadOnlySpan<UInt256> scalars, ReadOnlySpan<EdwardsPoint> points)
    {
        if (scalars.Length != points.Length) throw new ArgumentException("as many scalars as points are needed");
        if (points.Length == 0) return EdwardsPoint.NewIdentity();
        return points.Length < 48 ? Straus(scalars, points) : Pippenger(scalars, points);
    }

    private static EdwardsPoint Straus(ReadOnlySpan<UInt256> scalars, ReadOnlySpan<EdwardsPoint> points)
    {
        var t = EdwardsPoint.Temps.Current;
        int n = points.Length;
        var tables = new EdwardsPoint[n][];
        var nafs = new sbyte[n][];
        int top = -1;
        for (int j = 0; j < n; j++)
        {
            nafs[j] = Wnaf(scalars[j], StrausWindow);
            int tj = nafs[j].Length - 1;
            while (tj >= 0 && nafs[j][tj] == 0) tj--;
            if (tj < 0) continue;
            tables[j] = OddMultiples(points[j], StrausWindow, t);
            top = Math.Max(top, tj);
        }
        var acc = EdwardsPoint.NewIdentity();
        for (int i = top; i >= 0; i--)
        {
            EdwardsPoint.Double(acc, acc, t);
            for (int j = 0; j < n; j++)
            {
                int d = nafs[j][i];
                if (d > 0) EdwardsPoint.Add(acc, tables[j][d >> 1], acc, t);
                else if (d < 0) EdwardsPoint.Sub(acc, tables[j][(-d) >> 1], acc, t);
            }
        }
        return acc;
    }

    private static EdwardsPoint Pippenger(ReadOnlySpan<UInt256> scalars, ReadOnlySpan<EdwardsPoint> points)
    {
        var t = EdwardsPoint.Temps.Current;
        int n = points.Length;
        int c = n < 500 ? 6 : n < 4000 ? 8 : n < 20000 ? 10 : n < 100000 ? 12 : 14;
        int windows = (256 + c - 1) / c + 1;
        int half = 1 << (c - 1);
        // signed radix-2^c digits of every scalar, digits in [-2^(c-1), 2^(c-1)]
        var digits = new short[n * windows];
        for (int j = 0; j < n; j++) SignedDigits(scalars[j], c, windows, digits.AsSpan(j * windows, windows));

        var buckets = new EdwardsPoint[half];
        for (int b = 0; b < half; b++) buckets[b] = EdwardsPoint.NewIdentity();
        var used = new bool[half];
        var acc = EdwardsPoint.NewIdentity();
        var running = EdwardsPoint.NewIdentity();
        var total = EdwardsPoint.NewIdentity();
        for (int w = windows - 1; w >= 0; w--)
        {
            for (int i = 0; i < c; i++) EdwardsPoint.Double(acc, acc, t);
            Array.Clear(used);
            for (int j = 0; j < n; j++)
            {
                int d = digits[j * windows + w];
                if (d == 0) continue;
                int b = (d > 0 ? d : -d) - 1;
                if (!used[b])
                {
                    if (d > 0) buckets[b].CopyFrom(points[j]);
                    else buckets[b].CopyFrom(EdwardsPoint.Negate(points[j]));
                    used[b] = true;
                }
                else if (d > 0) EdwardsPoint.Add(buckets[b], points[j], buckets[b], t);
                else EdwardsPoint.Sub(buckets[b], points[j], buckets[b], t);
            }
            running.SetIdentity();
            total.SetIdentity();
            for (int b = half - 1; b >= 0; b--)
            {
                if (used[b]) EdwardsPoint.Add(running, buckets[b], running, t);
                EdwardsPoint.Add(total, running, total, t);
            }
            EdwardsPoint.Add(acc, total, acc, t);
        }
        return acc;
    }

    /// <summary>P, 3P, 5P, ..., (2^(w-1) - 1)·P.</summary>
    private static EdwardsPoint[] OddMultiples(EdwardsPoint p, int w, EdwardsPoint.Temps t)
    {
        var table = new EdwardsPoint[1 << (w - 2)];
        table[0] = p.Clone();
        var p2 = new EdwardsPoint();
        EdwardsPoint.Double(p, p2, t);
        for (int i = 1; i < table.Length; i++)
        {
            table[i] = new EdwardsPoint();
            EdwardsPoint.Add(table[i - 1], p2, table[i], t);
        }
        return table;
    }

    /// <summary>Width-w NAF: odd digits |d| &lt; 2^(w-1), at most one non-zero in any w consecutive positions.</summary>
    internal static sbyte[] Wnaf(in UInt256 k, int w)
    {
        var naf = new sbyte[258];
        Span<ulong> x = [k.L0, k.L1, k.L2, k.L3, 0];
        int full = 1 << w, halfW = 1 << (w - 1);
        int i = 0;
        while ((x[0] | x[1] | x[2] | x[3] | x[4]) != 0)
        {
            if ((x[0] & 1) == 1)
            {
                int mod = (int)(x[0] & (ulong)(full - 1));
                int d = mod >= halfW ? mod - full : mod;
                naf[i] = (sbyte)d;
                if (d > 0) SubSmall(x, (ulong)d); else AddSmall(x, (ulong)(-d));
            }
            // x >>= 1
            for (int l = 0; l < 4; l++) x[l] = (x[l] >> 1) | (x[l + 1] << 63);
            x[4] >>= 1;
            i++;
        }
        return naf;
    }

    private static void SubSmall(Span<ulong> x, ulong v)
    {
        for (int l = 0; l < x.Length && v != 0; l++)
        {
            ulong old = x[l];
            x[l] = old - v;
            v = old < v ? 1UL : 0UL;
        }
    }

    private static void AddSmall(Span<ulong> x, ulong v)
    {
        for (int l = 0; l < x.Length && v != 0; l++)
        {
            ulong old = x[l];
            x[l] = old + v;
            v = x[l] < old ? 1UL : 0UL;
        }
    }

    internal static void SignedDigits(in UInt256 k, int c, int windows, Span<short> digits)
    {
        Span<ulong> limbs = [k.L0, k.L1, k.L2, k.L3, 0];
        int carry = 0;
        int radix = 1 << c, half = 1 << (c - 1);
        for (int w = 0; w < windows; w++)
        {
            int bit = w * c;
            int limb = bit >> 6, off = bit & 63;
            ulong v = limb < 5 ? limbs[limb] >> off : 0;
            if (off + c > 64 && limb + 1 < 5) v |= limbs[limb + 1] << (64 - off);
            int d = (int)(v & (ulong)(radix - 1)) + carry;
            if (d > half) { d -= radix; carry = 1; } else carry = 0;
            digits[w] = (short)d;
        }
    }
}
