namespace Rotor.Crypto.Groups;

/// <summary>
/// Modular inversion by the binary extended Euclidean algorithm: variable time, so only for values that reveal
/// nothing, such as a secret multiplied by a fresh random blinding factor (<see cref="Group.ScalarInvert"/>).
/// </summary>
internal static class VartimeInverse
{
    /// <summary>b^-1 mod n for an odd modulus n and 0 &lt; b &lt; n (b must be invertible).</summary>
    public static UInt256 ModInverse(in UInt256 b, in UInt256 n)
    {
        // invariants: x1·b ≡ u and x2·b ≡ v (mod n); gcd(u, v) = gcd(b, n) = 1
        UInt256 u = b, v = n, x1 = new(1, 0, 0, 0), x2 = default;
        var one = new UInt256(1, 0, 0, 0);
        while (UInt256.EqualMask(u, one) == 0 && UInt256.EqualMask(v, one) == 0)
        {
            if (UInt256.IsZeroMask(u) != 0) throw new DivideByZeroException("not invertible");
            while ((u.L0 & 1) == 0) { u = Half(u, 0); x1 = HalfMod(x1, n); }
            while ((v.L0 & 1) == 0) { v = Half(v, 0); x2 = HalfMod(x2, n); }
            UInt256.Sub(u, v, out var d, out ulong borrow);
            if (borrow == 0) { u = d; x1 = SubMod(x1, x2, n); }
            else { UInt256.Sub(v, u, out v, out _); x2 = SubMod(x2, x1, n); }
        }
        return UInt256.EqualMask(u, one) != 0 ? x1 : x2;
    }

    /// <summary>(a + carry·2^256) / 2.</summary>
    private static UInt256 Half(in UInt256 a, ulong carry) =>
        new((a.L0 >> 1) | (a.L1 << 63), (a.L1 >> 1) | (a.L2 << 63), (a.L2 >> 1) | (a.L3 << 63), (a.L3 >> 1) | (carry << 63));

    /// <summary>x/2 mod n for x &lt; n: x/2 when x is even, (x + n)/2 otherwise.</summary>
    private static UInt256 HalfMod(in UInt256 x, in UInt256 n)
    {
        if ((x.L0 & 1) == 0) return Half(x, 0);
        UInt256.Add(x, n, out var s, out ulong carry);
        return Half(s, carry);
    }

    /// <summary>a - b mod n for a, b &lt; n.</summary>
    private static UInt256 SubMod(in UInt256 a, in UInt256 b, in UInt256 n)
    {
        UInt256.Sub(a, b, out var d, out ulong borrow);
        if (borrow == 0) return d;
        UInt256.Add(d, n, out var r, out _);
        return r;
    }
}
