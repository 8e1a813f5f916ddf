using System.Runtime.CompilerServices;
using Org.BouncyCastle.Math.EC;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// P + k·G for public k and P on secp256k1, variable time (HD derivation steps, BIP-341 tweaks, public offsets):
/// k in 26 signed base-1024 digits and a table of j·1024^w·G (j = 1..512, w = 0..25; 13,312 affine points, 0.85 MB)
/// so that the multiplication is at most 26 mixed Jacobian–affine additions and no doubling; then one inversion for
/// the affine result. The field arithmetic is our own, modulo p = 2^256 − 2^32 − 977 on four 64-bit limbs with the special
/// form's reduction, allocation-free (BouncyCastle's point code allocates field elements at every step); values are
/// kept fully reduced. The table is built on first use with BouncyCastle's point arithmetic (an independent
/// implementation of the same group) and normalised with one shared inversion. Only for public scalars and points.
/// </summary>
internal static class Secp256k1FixedBase
{
    private const int Bits = 10;
    private const int Windows = (256 + Bits) / Bits;        // 26: a carry out of the top bit needs a digit too
    private const int PerWindow = 1 << (Bits - 1);          // |digit| ≤ 512

    /// <summary>p = 2^256 − C.</summary>
    private const ulong C = 0x1000003D1UL;
    private const ulong P0 = 0xFFFFFFFEFFFFFC2FUL;
    internal static readonly UInt256 P = new(P0, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);

    private sealed class Tables(UInt256[] xs, UInt256[] ys)
    {
        public readonly UInt256[] Xs = xs, Ys = ys;
    }

    private static Tables? tables;

    private static Tables Table(ECCurve curve, ECPoint g) => Volatile.Read(ref tables) ?? Build(curve, g);

    private static Tables Build(ECCurve curve, ECPoint g)
    {
        var points = new ECPoint[Windows * PerWindow];
        var b = g;
        for (int w = 0; w < Windows; w++)
        {
            points[w * PerWindow] = b;
            for (int j = 1; j < PerWindow; j++) points[w * PerWindow + j] = points[w * PerWindow + j - 1].Add(b);
            b = points[w * PerWindow + PerWindow - 1].Twice();
        }
        curve.NormalizeAll(points);
        var xs = new UInt256[points.Length];
        var ys = new UInt256[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            xs[i] = UInt256.FromBigEndian(points[i].AffineXCoord.GetEncoded());
            ys[i] = UInt256.FromBigEndian(points[i].AffineYCoord.GetEncoded());
        }
        Interlocked.CompareExchange(ref tables, new Tables(xs, ys), null);
        return tables!;
    }

    /// <summary>A point in Jacobian coordinates (x = X/Z², y = Y/Z³), or the point at infinity.</summary>
    private struct Jacobian
    {
        public UInt256 X, Y, Z;
        public bool Infinity;
    }

    /// <summary>
    /// P + k·G for k below 2^256 and P given by its affine coordinates (or the point at infinity): the affine
    /// result, or false when it is the point at infinity.
    /// </summary>
    public static bool AddMulBase(ECCurve curve, ECPoint g, bool pInfinity, in UInt256 px, in UInt256 py, in UInt256 k, out UInt256 x, out UInt256 y)
    {
        var tab = Table(curve, g);
        var acc = new Jacobian { Infinity = true };
        if (!pInfinity) acc = new Jacobian { X = px, Y = py, Z = new UInt256(1, 0, 0, 0) };
        int carry = 0;
        for (int w = 0; w < Windows; w++)
        {
            int v = Window(k, w * Bits) + carry;
            carry = (v + PerWindow) >> Bits;
            int d = v - (carry << Bits);                    // in [−512, 511]
            if (d == 0) continue;
            int i = w * PerWindow + (d > 0 ? d : -d) - 1;
            AddAffine(ref acc, tab.Xs[i], tab.Ys[i], d < 0);
        }
        if (acc.Infinity) { x = y = default; return false; }
        var zi = Inverse(acc.Z);
        var zi2 = Sqr(zi);
        x = Mul(acc.X, zi2);
        y = Mul(acc.Y, Mul(zi2, zi));
        return true;
    }

    /// <summary>Bits [pos, pos + Bits) of k (zero above 256).</summary>
    private static int Window(in UInt256 k, int pos)
    {
        if (pos >= 256) return 0;
        int limb = pos >> 6, shift = pos & 63;
        ulong v = Limb(k, limb) >> shift;
        if (shift > 64 - Bits && limb < 3) v |= Limb(k, limb + 1) << (64 - shift);
        return (int)(v & ((1UL << Bits) - 1));
    }

    private static ulong Limb(in UInt256 k, int i) => i switch { 0 => k.L0, 1 => k.L1, 2 => k.L2, _ => k.L3 };

    /// <summary>acc += (x2, ±y2), affine.</summary>
    private static void AddAffine(ref Jacobian acc, in UInt256 x2, in UInt256 y2In, bool negate)
    {
        var y2 = negate ? Neg(y2In) : y2In;
        if (acc.Infinity)
        {
            acc = new Jacobian { X = x2, Y = y2, Z = new UInt256(1, 0, 0, 0) };
            return;
        }
        var z1z1 = Sqr(acc.Z);
        var u2 = Mul(x2, z1z1);
        var s2 = Mul(y2, Mul(acc.Z, z1z1));
        var h = Sub(u2, acc.X);
        var r = Sub(s2, acc.Y);
        if (IsZero(h))
        {
            if (IsZero(r)) Double(ref acc);
            else acc = new Jacobian { Infinity = true };
            return;
        }
        var hh = Sqr(h);
        var hhh = Mul(h, hh);
        var v = Mul(acc.X, hh);
        var x3 = Sub(Sub(Sub(Sqr(r), hhh), v), v);
        var y3 = Sub(Mul(r, Sub(v, x3)), Mul(acc.Y, hhh));
        var z3 = Mul(acc.Z, h);
        acc.X = x3; acc.Y = y3; acc.Z = z3;
    }

    /// <summary>acc = 2·acc (a = 0).</summary>
    private static void Double(ref Jacobian acc)
    {
        if (acc.Infinity || IsZero(acc.Y)) { acc = new Jacobian { Infinity = true }; return; }
        var a = Sqr(acc.X);
        var bb = Sqr(acc.Y);
        var c = Sqr(bb);
        var t = Sub(Sub(Sqr(Add(acc.X, bb)), a), c);
        var d = Add(t, t);
        var e = Add(Add(a, a), a);
        var f = Sqr(e);
        var x3 = Sub(f, Add(d, d));
        var c8 = Add(c, c); c8 = Add(c8, c8); c8 = Add(c8, c8);
        var y3 = Sub(Mul(e, Sub(d, x3)), c8);
        var yz = Mul(acc.Y, acc.Z);
        acc.X = x3; acc.Y = y3; acc.Z = Add(yz, yz);
    }

    // ------------------------------------------------------------ the field, values fully reduced (below p)

    internal static bool IsZero(in UInt256 a) => (a.L0 | a.L1 | a.L2 | a.L3) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt256 ReduceOnce(ulong r0, ulong r1, ulong r2, ulong r3)
    {
        // r ≥ p only when r1 = r2 = r3 = 2^64 − 1 and r0 ≥ P0; then r − p = (r0 − P0, 0, 0, 0)
        if ((r1 & r2 & r3) == ulong.MaxValue && r0 >= P0) return new UInt256(r0 - P0, 0, 0, 0);
        return new UInt256(r0, r1, r2, r3);
    }

    internal static UInt256 Add(in UInt256 a, in UInt256 b)
    {
        // variable time (public values): carries by comparison
        ulong r0 = a.L0 + b.L0;
        ulong c = r0 < a.L0 ? 1UL : 0UL;
        ulong t = a.L1 + c;
        c = t < c ? 1UL : 0UL;
        ulong r1 = t + b.L1;
        c += r1 < t ? 1UL : 0UL;
        t = a.L2 + c;
        c = t < c ? 1UL : 0UL;
        ulong r2 = t + b.L2;
        c += r2 < t ? 1UL : 0UL;
        t = a.L3 + c;
        c = t < c ? 1UL : 0UL;
        ulong r3 = t + b.L3;
        c += r3 < t ? 1UL : 0UL;
        // 2^256 ≡ C; a + b < 2p, so r + C stays below 2^256 (added without a branch, as in Sub)
        ulong m = C & (0UL - c);
        r0 += m;
        c = r0 < m ? 1UL : 0UL;
        r1 += c;
        c = r1 < c ? 1UL : 0UL;
        r2 += c;
        c = r2 < c ? 1UL : 0UL;
        r3 += c;
        return ReduceOnce(r0, r1, r2, r3);
    }

    internal static UInt256 Sub(in UInt256 a, in UInt256 b)
    {
        ulong r0 = a.L0 - b.L0;
        ulong br = a.L0 < b.L0 ? 1UL : 0UL;
        ulong t = a.L1 - br;
        br = a.L1 < br ? 1UL : 0UL;
        ulong r1 = t - b.L1;
        br += t < b.L1 ? 1UL : 0UL;
        t = a.L2 - br;
        br = a.L2 < br ? 1UL : 0UL;
        ulong r2 = t - b.L2;
        br += t < b.L2 ? 1UL : 0UL;
        t = a.L3 - br;
        br = a.L3 < br ? 1UL : 0UL;
        ulong r3 = t - b.L3;
        br += t < b.L3 ? 1UL : 0UL;
        // on a borrow this computed a − b + 2^256, and a − b + p is that minus C (not negative): subtract C & mask
        // without a branch (the borrow is a coin flip, a mispredicted branch costs more than the subtraction)
        ulong m = C & (0UL - br);
        t = r0;
        r0 -= m;
        br = t < m ? 1UL : 0UL;
        t = r1;
        r1 -= br;
        br = t < br ? 1UL : 0UL;
        t = r2;
        r2 -= br;
        br = t < br ? 1UL : 0UL;
        r3 -= br;
        return new UInt256(r0, r1, r2, r3);
    }

    internal static UInt256 Neg(in UInt256 a) => IsZero(a) ? a : Sub(P, a);

    /// <summary>
    /// The 128-bit product a·b. With BMI2 the high half is one mulx and the low half an imul: both stay in registers
    /// (Math.BigMul's out parameter goes through the stack, on the critical path of every product).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MulHi(ulong a, ulong b, out ulong lo)
    {
        if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
        {
            lo = a * b;
            return System.Runtime.Intrinsics.X86.Bmi2.X64.MultiplyNoFlags(a, b);
        }
        return Math.BigMul(a, b, out lo);
    }

    /// <summary>(c2, c1, c0) += a·b (the sum stays below 2^192).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Acc(ulong a, ulong b, ref ulong c0, ref ulong c1, ref ulong c2)
    {
        ulong h = MulHi(a, b, out ulong l);
        c0 += l;
        h += c0 < l ? 1UL : 0UL;                        // h ≤ 2^64 − 2: no wrap
        c1 += h;
        c2 += c1 < h ? 1UL : 0UL;
    }

    /// <summary>(c2, c1, c0) += 2·a·b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Acc2(ulong a, ulong b, ref ulong c0, ref ulong c1, ref ulong c2)
    {
        ulong h = MulHi(a, b, out ulong l);
        c2 += h >> 63;
        h = (h << 1) | (l >> 63);                       // may be 2^64 − 1: the carry from c0 is added apart
        l <<= 1;
        c0 += l;
        ulong k = c0 < l ? 1UL : 0UL;
        c1 += k;
        c2 += c1 < k ? 1UL : 0UL;
        c1 += h;
        c2 += c1 < h ? 1UL : 0UL;
    }

    internal static UInt256 Mul(in UInt256 a, in UInt256 b)
    {
        // product scanning (column by column) into a three-word accumulator
        ulong a0 = a.L0, a1 = a.L1, a2 = a.L2, a3 = a.L3, b0 = b.L0, b1 = b.L1, b2 = b.L2, b3 = b.L3;
        ulong c0 = 0, c1 = 0, c2 = 0;
        Acc(a0, b0, ref c0, ref c1, ref c2);
        ulong t0 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc(a0, b1, ref c0, ref c1, ref c2);
        Acc(a1, b0, ref c0, ref c1, ref c2);
        ulong t1 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc(a0, b2, ref c0, ref c1, ref c2);
        Acc(a1, b1, ref c0, ref c1, ref c2);
        Acc(a2, b0, ref c0, ref c1, ref c2);
        ulong t2 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc(a0, b3, ref c0, ref c1, ref c2);
        Acc(a1, b2, ref c0, ref c1, ref c2);
        Acc(a2, b1, ref c0, ref c1, ref c2);
        Acc(a3, b0, ref c0, ref c1, ref c2);
        ulong t3 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc(a1, b3, ref c0, ref c1, ref c2);
        Acc(a2, b2, ref c0, ref c1, ref c2);
        Acc(a3, b1, ref c0, ref c1, ref c2);
        ulong t4 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc(a2, b3, ref c0, ref c1, ref c2);
        Acc(a3, b2, ref c0, ref c1, ref c2);
        ulong t5 = c0; c0 = c1; c1 = c2;
        ulong t7 = MulHi(a3, b3, out ulong l);
        ulong t6 = c0 + l;
        t7 += (t6 < l ? 1UL : 0UL) + c1;
        return Reduce(t0, t1, t2, t3, t4, t5, t6, t7);
    }

    internal static UInt256 Sqr(in UInt256 a)
    {
        ulong a0 = a.L0, a1 = a.L1, a2 = a.L2, a3 = a.L3;
        ulong c0 = 0, c1 = 0, c2 = 0;
        Acc(a0, a0, ref c0, ref c1, ref c2);
        ulong t0 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc2(a0, a1, ref c0, ref c1, ref c2);
        ulong t1 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc2(a0, a2, ref c0, ref c1, ref c2);
        Acc(a1, a1, ref c0, ref c1, ref c2);
        ulong t2 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc2(a0, a3, ref c0, ref c1, ref c2);
        Acc2(a1, a2, ref c0, ref c1, ref c2);
        ulong t3 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc2(a1, a3, ref c0, ref c1, ref c2);
        Acc(a2, a2, ref c0, ref c1, ref c2);
        ulong t4 = c0; c0 = c1; c1 = c2; c2 = 0;
        Acc2(a2, a3, ref c0, ref c1, ref c2);
        ulong t5 = c0; c0 = c1; c1 = c2;
        ulong t7 = MulHi(a3, a3, out ulong l);
        ulong t6 = c0 + l;
        t7 += (t6 < l ? 1UL : 0UL) + c1;
        return Reduce(t0, t1, t2, t3, t4, t5, t6, t7);
    }

    /// <summary>(t0..t7) mod p, using 2^256 ≡ C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt256 Reduce(ulong t0, ulong t1, ulong t2, ulong t3, ulong t4, ulong t5, ulong t6, ulong t7)
    {
        // r = (t0..t3) + (t4..t7)·C: each high word times C is below 2^97, so one carry word suffices
        ulong h = MulHi(t4, C, out ulong l);
        ulong r0 = t0 + l;
        ulong c = h + (r0 < l ? 1UL : 0UL);
        h = MulHi(t5, C, out l);
        l += c;
        h += l < c ? 1UL : 0UL;
        ulong r1 = t1 + l;
        c = h + (r1 < l ? 1UL : 0UL);
        h = MulHi(t6, C, out l);
        l += c;
        h += l < c ? 1UL : 0UL;
        ulong r2 = t2 + l;
        c = h + (r2 < l ? 1UL : 0UL);
        h = MulHi(t7, C, out l);
        l += c;
        h += l < c ? 1UL : 0UL;
        ulong r3 = t3 + l;
        c = h + (r3 < l ? 1UL : 0UL);                   // below 2^34
        // fold c·2^256 ≡ c·C (below 2^67) back in
        h = MulHi(c, C, out l);
        r0 += l;
        c = h + (r0 < l ? 1UL : 0UL);
        r1 += c;
        if (r1 < c && ++r2 == 0 && ++r3 == 0)
        {
            // wrapped past 2^256: the rest is small, adding C cannot wrap again
            r0 += C;
            if (r0 < C) ++r1;
        }
        return ReduceOnce(r0, r1, r2, r3);
    }

    internal static UInt256 Inverse(in UInt256 a) => VartimeInverse.ModInverse(a, P);
}
