namespace Rotor.Crypto.Groups;

/// <summary>Scalar recoding and window choice shared by the Straus and Pippenger multi-scalar multiplications (public data only).</summary>
internal static class MsmDigits
{
    /// <summary>The bit length of the largest scalar.</summary>
    public static int MaxBitLength(ReadOnlySpan<UInt256> scalars)
    {
        int bits = 0;
        foreach (var k in scalars)
        {
            int b = k.L3 != 0 ? 192 + 64 - (int)ulong.LeadingZeroCount(k.L3)
                : k.L2 != 0 ? 128 + 64 - (int)ulong.LeadingZeroCount(k.L2)
                : k.L1 != 0 ? 64 + 64 - (int)ulong.LeadingZeroCount(k.L1)
                : 64 - (int)ulong.LeadingZeroCount(k.L0);
            bits = Math.Max(bits, b);
        }
        return bits;
    }

    /// <summary>
    /// Signed radix-2^c windows needed for scalars below 2^bits: the top window holds at most c - 1 bits plus a
    /// carry, or, when bits is a multiple of c, an extra window takes the carry.
    /// </summary>
    public static int Windows(int bits, int c) => bits / c + 1;

    /// <summary>
    /// The window width minimising windows·(n·bucketAdd + 2^c·runningAdd): n additions into buckets and two
    /// additions per bucket to sum them, per window.
    /// </summary>
    public static int WindowBits(int n, int bits, double bucketAdd, double runningAdd)
    {
        int best = 2;
        double bestCost = double.MaxValue;
        for (int c = 2; c <= 16; c++)
        {
            double cost = Windows(bits, c) * (n * bucketAdd + runningAdd * (1 << c));
            if (cost < bestCost) { bestCost = cost; best = c; }
        }
        return best;
    }

    /// <summary>k = Σ digits[w]·2^(c·w) with every digit in [-2^(c-1), 2^(c-1)].</summary>
    public static void SignedDigits(in UInt256 k, int c, int windows, Span<short> digits)
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
        if (carry != 0) throw new ArgumentException("scalar too long for the windows");
    }

    /// <summary>The wNAF width for a scalar of this many bits: a table of 2^(w-2) odd multiples pays off only for
    /// long scalars (small ones, e.g. identifiers in Horner's rule, get plain NAF and no table).</summary>
    public static int WnafWidth(int bits) => bits <= 24 ? 2 : bits <= 48 ? 3 : bits <= 160 ? 4 : 5;

    /// <summary>Width-w NAF: odd digits |d| &lt; 2^(w-1), at most one non-zero in any w consecutive positions.</summary>
    public static sbyte[] Wnaf(in UInt256 k, int w)
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
}
