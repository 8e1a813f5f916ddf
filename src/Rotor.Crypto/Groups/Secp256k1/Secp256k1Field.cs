using System.Runtime.CompilerServices;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// An element of secp256k1's base field GF(p), p = 2^256 − 2^32 − 977, as four 64-bit limbs (little-endian), always
/// fully reduced (below p). Every operation is constant time: the same instructions whatever the values, carries and
/// corrections by masks, never a branch or a memory index on a value (as <see cref="MontgomeryField"/> for scalars).
/// Multiplication is a 4 × 4 schoolbook product and the reduction 2^256 ≡ 2^32 + 977 (mod p), twice, then one masked
/// subtraction of p.
/// </summary>
internal readonly struct Fe
{
    public readonly ulong L0, L1, L2, L3;

    /// <summary>2^256 − p = 2^32 + 977.</summary>
    private const ulong C = 0x1000003D1UL;

    public Fe(ulong l0, ulong l1, ulong l2, ulong l3) { L0 = l0; L1 = l1; L2 = l2; L3 = l3; }

    public static readonly Fe Zero = default;
    public static readonly Fe One = new(1, 0, 0, 0);

    /// <summary>From 32 big-endian bytes, which must encode a value below p (public values only: the check branches).</summary>
    public static Fe FromBigEndian(ReadOnlySpan<byte> b)
    {
        var v = UInt256.FromBigEndian(b);
        var f = new Fe(v.L0, v.L1, v.L2, v.L3);
        if (!IsCanonical(v)) throw new ArgumentException("not below the field prime");
        return f;
    }

    private static bool IsCanonical(in UInt256 v)
    {
        // v < p  <=>  v + C does not carry out of 256 bits
        ulong c = 0;
        UInt256.AddC(v.L0, C, ref c);
        UInt256.AddC(v.L1, 0, ref c);
        UInt256.AddC(v.L2, 0, ref c);
        UInt256.AddC(v.L3, 0, ref c);
        return c == 0;
    }

    public void WriteBigEndian(Span<byte> b) => new UInt256(L0, L1, L2, L3).WriteBigEndian(b);

    /// <summary>All ones when the value is zero, else zero.</summary>
    public ulong IsZeroMask()
    {
        ulong d = L0 | L1 | L2 | L3;
        return ((d | (0UL - d)) >> 63) - 1;
    }

    /// <summary>mask ? a : b (mask all ones or zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Fe Select(ulong mask, in Fe a, in Fe b) => new(
        (a.L0 & mask) | (b.L0 & ~mask), (a.L1 & mask) | (b.L1 & ~mask),
        (a.L2 & mask) | (b.L2 & ~mask), (a.L3 & mask) | (b.L3 & ~mask));

    /// <summary>s (with carry-out <paramref name="carry"/>, the true value s + carry·2^256 below 2p) reduced below p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Fe Normalize(ulong s0, ulong s1, ulong s2, ulong s3, ulong carry)
    {
        // s + carry·2^256 ≥ p  <=>  carry = 1 or s + C carries; the reduced value is then s + C mod 2^256
        ulong c = 0;
        ulong t0 = UInt256.AddC(s0, C, ref c);
        ulong t1 = UInt256.AddC(s1, 0, ref c);
        ulong t2 = UInt256.AddC(s2, 0, ref c);
        ulong t3 = UInt256.AddC(s3, 0, ref c);
        ulong useT = 0UL - (c | carry);
        return new Fe((t0 & useT) | (s0 & ~useT), (t1 & useT) | (s1 & ~useT), (t2 & useT) | (s2 & ~useT), (t3 & useT) | (s3 & ~useT));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Fe operator +(in Fe a, in Fe b)
    {
        ulong c = 0;
        ulong s0 = UInt256.AddC(a.L0, b.L0, ref c);
        ulong s1 = UInt256.AddC(a.L1, b.L1, ref c);
        ulong s2 = UInt256.AddC(a.L2, b.L2, ref c);
        ulong s3 = UInt256.AddC(a.L3, b.L3, ref c);
        return Normalize(s0, s1, s2, s3, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Fe operator -(in Fe a, in Fe b)
    {
        ulong bw = 0;
        ulong d0 = UInt256.SubB(a.L0, b.L0, ref bw);
        ulong d1 = UInt256.SubB(a.L1, b.L1, ref bw);
        ulong d2 = UInt256.SubB(a.L2, b.L2, ref bw);
        ulong d3 = UInt256.SubB(a.L3, b.L3, ref bw);
        // on a borrow d = a − b + 2^256; the result a − b + p is d − C (no further borrow: it is ≥ 0)
        ulong corr = C & (0UL - bw);
        ulong b2 = 0;
        d0 = UInt256.SubB(d0, corr, ref b2);
        d1 = UInt256.SubB(d1, 0, ref b2);
        d2 = UInt256.SubB(d2, 0, ref b2);
        d3 = UInt256.SubB(d3, 0, ref b2);
        return new Fe(d0, d1, d2, d3);
    }

    public static Fe operator -(in Fe a) => Zero - a;

    /// <summary>(c2:c1:c0) += a·b. Carries are taken with compares (<c>x &lt; y ? 1 : 0</c>), which the JIT compiles to setb, not to a branch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulAcc(ulong a, ulong b, ref ulong c0, ref ulong c1, ref ulong c2)
    {
        ulong hi = Math.BigMul(a, b, out ulong lo);
        c0 += lo;
        hi += c0 < lo ? 1UL : 0UL; // hi ≤ 2^64 − 2: no overflow
        c1 += hi;
        c2 += c1 < hi ? 1UL : 0UL;
    }

    public static Fe operator *(in Fe a, in Fe b)
    {
        // 512-bit product by columns (product scanning), a three-word accumulator
        ulong c0 = 0, c1 = 0, c2 = 0;
        MulAcc(a.L0, b.L0, ref c0, ref c1, ref c2);
        ulong r0 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(a.L0, b.L1, ref c0, ref c1, ref c2);
        MulAcc(a.L1, b.L0, ref c0, ref c1, ref c2);
        ulong r1 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(a.L0, b.L2, ref c0, ref c1, ref c2);
        MulAcc(a.L1, b.L1, ref c0, ref c1, ref c2);
        MulAcc(a.L2, b.L0, ref c0, ref c1, ref c2);
        ulong r2 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(a.L0, b.L3, ref c0, ref c1, ref c2);
        MulAcc(a.L1, b.L2, ref c0, ref c1, ref c2);
        MulAcc(a.L2, b.L1, ref c0, ref c1, ref c2);
        MulAcc(a.L3, b.L0, ref c0, ref c1, ref c2);
        ulong r3 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(a.L1, b.L3, ref c0, ref c1, ref c2);
        MulAcc(a.L2, b.L2, ref c0, ref c1, ref c2);
        MulAcc(a.L3, b.L1, ref c0, ref c1, ref c2);
        ulong r4 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(a.L2, b.L3, ref c0, ref c1, ref c2);
        MulAcc(a.L3, b.L2, ref c0, ref c1, ref c2);
        ulong r5 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(a.L3, b.L3, ref c0, ref c1, ref c2);
        return Reduce(r0, r1, r2, r3, r4, r5, c0, c1);
    }

    /// <summary>lo + a·b + carry for a·b below 2^98 (b = C): returns the low word, carry becomes the high word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MacSmall(ulong a, ulong b, ulong lo, ref ulong carry)
    {
        ulong hi = Math.BigMul(a, b, out ulong low);
        low += lo;
        hi += low < lo ? 1UL : 0UL;
        low += carry;
        hi += low < carry ? 1UL : 0UL;
        carry = hi;
        return low;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddCarry(ulong a, ulong b, ref ulong carry)
    {
        ulong s = a + b;
        ulong c1 = s < a ? 1UL : 0UL;
        ulong r = s + carry;
        carry = c1 | (r < s ? 1UL : 0UL);
        return r;
    }

    /// <summary>(c2:c1:c0) += 2·a·b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MulAcc2(ulong a, ulong b, ref ulong c0, ref ulong c1, ref ulong c2)
    {
        ulong hi = Math.BigMul(a, b, out ulong lo);
        c2 += hi >> 63; // 2·(hi:lo) = (hi:lo) << 1, the bit shifted out of hi
        hi = (hi << 1) | (lo >> 63);
        lo <<= 1;
        c0 += lo;
        ulong k = c0 < lo ? 1UL : 0UL;
        c1 += k;
        c2 += c1 < k ? 1UL : 0UL;
        c1 += hi;
        c2 += c1 < hi ? 1UL : 0UL;
    }

    /// <summary>a²: the product by columns with each cross product a_i·a_j (i ≠ j) taken once and doubled (10 word products instead of 16).</summary>
    public Fe Square()
    {
        ulong c0 = 0, c1 = 0, c2 = 0;
        MulAcc(L0, L0, ref c0, ref c1, ref c2);
        ulong r0 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc2(L0, L1, ref c0, ref c1, ref c2);
        ulong r1 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc2(L0, L2, ref c0, ref c1, ref c2);
        MulAcc(L1, L1, ref c0, ref c1, ref c2);
        ulong r2 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc2(L0, L3, ref c0, ref c1, ref c2);
        MulAcc2(L1, L2, ref c0, ref c1, ref c2);
        ulong r3 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc2(L1, L3, ref c0, ref c1, ref c2);
        MulAcc(L2, L2, ref c0, ref c1, ref c2);
        ulong r4 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc2(L2, L3, ref c0, ref c1, ref c2);
        ulong r5 = c0; c0 = c1; c1 = c2; c2 = 0;
        MulAcc(L3, L3, ref c0, ref c1, ref c2);
        return Reduce(r0, r1, r2, r3, r4, r5, c0, c1);
    }

    /// <summary>(r0..r7) mod p: hi·2^256 ≡ hi·C, twice, then one masked subtraction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Fe Reduce(ulong r0, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, ulong r6, ulong r7)
    {
        // lo + hi·C: hi·C < 2^289, so the sum is below 2^290
        ulong c = 0;
        ulong s0 = MacSmall(r4, C, r0, ref c);
        ulong s1 = MacSmall(r5, C, r1, ref c);
        ulong s2 = MacSmall(r6, C, r2, ref c);
        ulong s3 = MacSmall(r7, C, r3, ref c);
        // top = c < 2^34; top·2^256 ≡ top·C < 2^68
        ulong hi = Math.BigMul(c, C, out ulong lo);
        ulong k = 0;
        s0 = AddCarry(s0, lo, ref k);
        s1 = AddCarry(s1, hi, ref k);
        s2 = AddCarry(s2, 0, ref k);
        s3 = AddCarry(s3, 0, ref k);
        // a carry out here leaves s below 2^68: adding C once more cannot carry again
        ulong k2 = 0;
        s0 = AddCarry(s0, C & (0UL - k), ref k2);
        s1 = AddCarry(s1, 0, ref k2);
        s2 = AddCarry(s2, 0, ref k2);
        s3 = AddCarry(s3, 0, ref k2);
        return Normalize(s0, s1, s2, s3, 0);
    }

    private Fe SquareTimes(int n)
    {
        var r = this;
        for (int i = 0; i < n; i++) r = r.Square();
        return r;
    }

    /// <summary>a^(p−2) = a^−1 (0 for 0) by a fixed addition chain (255 squarings, 15 multiplications): constant time.</summary>
    public Fe Invert()
    {
        var a = this;
        var x2 = a.Square() * a;
        var x3 = x2.Square() * a;
        var x6 = x3.SquareTimes(3) * x3;
        var x9 = x6.SquareTimes(3) * x3;
        var x11 = x9.SquareTimes(2) * x2;
        var x22 = x11.SquareTimes(11) * x11;
        var x44 = x22.SquareTimes(22) * x22;
        var x88 = x44.SquareTimes(44) * x44;
        var x176 = x88.SquareTimes(88) * x88;
        var x220 = x176.SquareTimes(44) * x44;
        var x223 = x220.SquareTimes(3) * x3;
        var t = x223.SquareTimes(23) * x22;
        t = t.SquareTimes(5) * a;
        t = t.SquareTimes(3) * x2;
        return t.SquareTimes(2) * a;
    }
}
