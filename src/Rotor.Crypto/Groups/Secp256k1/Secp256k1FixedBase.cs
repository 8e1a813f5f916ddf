using System.Runtime.CompilerServices;
using Org.BouncyCastle.Math.EC;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// P + k·G for public k and P on secp256k1, variable time (HD derivation steps, BIP-341 tweaks, public offsets):
/// k in 20 signed base-8192 digits and a table of j·8192^w·G (j = 1..4096, w = 0..19; 81,920 affine points, 5.2 MB,
/// built in about 55 ms of CPU time on first use) so that the multiplication is at most 20 mixed Jacobian–affine
/// additions and no doubling (12-bit digits: 22 additions, 2.9 MB; each addition is about 0.4 µs); then one inversion for
/// the affine result. The field arithmetic is our own, modulo p = 2^256 − 2^32 − 977 on four 64-bit limbs with the special
/// form's reduction, allocation-free (BouncyCastle's point code allocates field elements at every step); values are
/// kept fully reduced; the inversion is by divsteps. The table is built on first use with this same arithmetic and
/// normalised with one shared inversion. Only for public scalars and points.
/// </summary>
internal static class Secp256k1FixedBase
{
    private const int Bits = 13;
    private const int Windows = (256 + Bits) / Bits;        // 20: a carry out of the top bit needs a digit too
    private const int PerWindow = 1 << (Bits - 1);          // |digit| ≤ 4096

    /// <summary>p = 2^256 − C.</summary>
    private const ulong C = 0x1000003D1UL;
    private const ulong P0 = 0xFFFFFFFEFFFFFC2FUL;
    internal static readonly UInt256 P = new(P0, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);

    /// <summary>The table: x of entry i at [2i], y at [2i + 1] (one cache line per entry read).</summary>
    private static UInt256[]? table;

    private static UInt256[] Table(ECPoint g) => Volatile.Read(ref table) ?? Build(g);

    private static UInt256[] Build(ECPoint g)
    {
        Interlocked.CompareExchange(ref table, BuildTable(g), null);
        return table!;
    }

    /// <summary>
    /// j·2^(Bits·w)·G for j = 1..PerWindow and every window w: each window's multiples by repeated mixed additions of
    /// its base (Jacobian), the next base by one doubling, then all points made affine with one shared inversion
    /// (Montgomery's trick). G comes from BouncyCastle's curve; the tests check the results against NBitcoin's k·G.
    /// </summary>
    internal static UInt256[] BuildTable(ECPoint g)
    {
        int n = Windows * PerWindow;
        var jac = new Jacobian[n];
        var gn = g.Normalize();
        var bx = UInt256.FromBigEndian(gn.AffineXCoord.GetEncoded());
        var by = UInt256.FromBigEndian(gn.AffineYCoord.GetEncoded());
        var one = new UInt256(1, 0, 0, 0);
        for (int w = 0; w < Windows; w++)
        {
            var acc = new Jacobian { X = bx, Y = by, Z = one, ZIsOne = true };
            jac[w * PerWindow] = acc;
            for (int j = 1; j < PerWindow; j++)
            {
                AddAffine(ref acc, bx, by, false);
                jac[w * PerWindow + j] = acc;
            }
            Double(ref acc);                                // 2·PerWindow·B = 2^Bits·B, the next window's base
            var zi = Inverse(acc.Z);
            var zi2 = Sqr(zi);
            bx = Mul(acc.X, zi2);
            by = Mul(acc.Y, Mul(zi2, zi));
        }
        // prefix products of the Z, one inversion, then each 1/Z from the back
        var prefix = new UInt256[n];
        prefix[0] = jac[0].Z;
        for (int i = 1; i < n; i++) prefix[i] = Mul(prefix[i - 1], jac[i].Z);
        var inv = Inverse(prefix[n - 1]);
        var result = new UInt256[2 * n];
        for (int i = n - 1; i >= 0; i--)
        {
            var zi = i > 0 ? Mul(inv, prefix[i - 1]) : inv;
            if (i > 0) inv = Mul(inv, jac[i].Z);
            var zi2 = Sqr(zi);
            result[2 * i] = Mul(jac[i].X, zi2);
            result[2 * i + 1] = Mul(jac[i].Y, Mul(zi2, zi));
        }
        return result;
    }

    /// <summary>A point in Jacobian coordinates (x = X/Z², y = Y/Z³), or the point at infinity.</summary>
    private struct Jacobian
    {
        public UInt256 X, Y, Z;
        public bool Infinity;
        /// <summary>Z = 1 (an affine point just loaded): the next addition skips the products by Z.</summary>
        public bool ZIsOne;
    }

    /// <summary>
    /// P + k·G for k below 2^256 and P given by its affine coordinates (or the point at infinity): the affine
    /// result, or false when it is the point at infinity.
    /// </summary>
    public static bool AddMulBase(ECPoint g, bool pInfinity, in UInt256 px, in UInt256 py, in UInt256 k, out UInt256 x, out UInt256 y)
    {
        var tab = Table(g);
        var acc = new Jacobian { Infinity = true };
        if (!pInfinity) acc = new Jacobian { X = px, Y = py, Z = new UInt256(1, 0, 0, 0), ZIsOne = true };
        int carry = 0;
        for (int w = 0; w < Windows; w++)
        {
            int v = Window(k, w * Bits) + carry;
            carry = (v + PerWindow) >> Bits;
            int d = v - (carry << Bits);                    // in [−4096, 4095]
            if (d == 0) continue;
            int i = 2 * (w * PerWindow + (d > 0 ? d : -d) - 1);
            AddAffine(ref acc, tab[i], tab[i + 1], d < 0);
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
            acc = new Jacobian { X = x2, Y = y2, Z = new UInt256(1, 0, 0, 0), ZIsOne = true };
            return;
        }
        UInt256 u2, s2;
        if (acc.ZIsOne)
        {
            // the first addition to an affine start: Z1 = 1 saves three multiplications and a squaring
            u2 = x2;
            s2 = y2;
        }
        else
        {
            var z1z1 = Sqr(acc.Z);
            u2 = Mul(x2, z1z1);
            s2 = Mul(y2, Mul(acc.Z, z1z1));
        }
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
        var z3 = acc.ZIsOne ? h : Mul(acc.Z, h);
        acc.X = x3; acc.Y = y3; acc.Z = z3; acc.ZIsOne = false;
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
        acc.X = x3; acc.Y = y3; acc.Z = Add(yz, yz); acc.ZIsOne = false;
    }

    // ------------------------------------------------------------ the field, values fully reduced (below p)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsZero(in UInt256 a) => (a.L0 | a.L1 | a.L2 | a.L3) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt256 ReduceOnce(ulong r0, ulong r1, ulong r2, ulong r3)
    {
        // r ≥ p only when r1 = r2 = r3 = 2^64 − 1 and r0 ≥ P0; then r − p = (r0 − P0, 0, 0, 0)
        if ((r1 & r2 & r3) == ulong.MaxValue && r0 >= P0) return new UInt256(r0 - P0, 0, 0, 0);
        return new UInt256(r0, r1, r2, r3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    /// <summary>a^-1 mod p for 0 &lt; a &lt; p, variable time (public values only): <see cref="DivstepInverse"/>.</summary>
    internal static UInt256 Inverse(in UInt256 a) => DivstepInverse.Inverse(a);

    /// <summary>
    /// Modular inversion by Bernstein–Yang divsteps ("Fast constant-time gcd computation and modular inversion",
    /// 2019), in the variable-time form: the steps run on the low 64 bits of f and g in batches of 62, runs of
    /// zero bits of g taken at once, and each batch's 2×2 transition matrix is then applied to the full f, g
    /// (exact division by 2^62) and to d, e (division by 2^62 modulo p, made exact by adding a multiple of p).
    /// Invariants: d·a ≡ f and e·a ≡ g (mod p); f is odd; at the end g = 0 and f = ±1, so a^-1 = ±d.
    /// Numbers are five signed 62-bit limbs: limbs 0..3 in [0, 2^62), the top limb carries the sign. d and e are
    /// not kept reduced (each batch adds less than p to their size, and a 256-bit inversion takes a dozen
    /// batches at most), only the result is. Several times faster than the bit-by-bit binary Euclid.
    /// </summary>
    internal static class DivstepInverse
    {
        private const ulong M62 = (1UL << 62) - 1;

        private struct Limbs
        {
            public long A0, A1, A2, A3, A4;
        }

        private static readonly Limbs Modulus = From(P);

        /// <summary>p^-1 mod 2^64 (Newton's iteration: each step doubles the correct low bits, p·p ≡ 1 mod 8).</summary>
        private static readonly ulong ModulusInverse = InverseMod64(P.L0);

        private static ulong InverseMod64(ulong m)
        {
            ulong x = m;
            for (int i = 0; i < 5; i++) x *= 2 - m * x;
            return x;
        }

        private static Limbs From(in UInt256 a) => new()
        {
            A0 = (long)(a.L0 & M62),
            A1 = (long)(((a.L0 >> 62) | (a.L1 << 2)) & M62),
            A2 = (long)(((a.L1 >> 60) | (a.L2 << 4)) & M62),
            A3 = (long)(((a.L2 >> 58) | (a.L3 << 6)) & M62),
            A4 = (long)(a.L3 >> 56),
        };

        public static UInt256 Inverse(in UInt256 a)
        {
            if (IsZero(a)) throw new DivideByZeroException("0 has no inverse");
            var f = Modulus;
            var g = From(a);
            var d = default(Limbs);
            var e = new Limbs { A0 = 1 };
            long delta = 1;
            while ((g.A0 | g.A1 | g.A2 | g.A3 | g.A4) != 0)
            {
                delta = Divsteps62(delta, (ulong)f.A0 | ((ulong)f.A1 << 62), (ulong)g.A0 | ((ulong)g.A1 << 62), out long u, out long v, out long q, out long r);
                ApplyFg(ref f, ref g, u, v, q, r);
                ApplyDe(ref d, ref e, u, v, q, r);
            }
            // f = ±1
            bool negate = f.A4 < 0;
            return Reduce(d, negate);
        }

        /// <summary>
        /// 62 divsteps on the low bits of f (odd) and g: the matrix (u v; q r) with 2^62·(f′, g′) = (u·f + v·g, q·f + r·g).
        /// A step: g even: g/2; g odd and δ ≤ 0: (g + f)/2; g odd and δ > 0: (f, g) ← (g, (g − f)/2) and δ ← −δ;
        /// then δ ← δ + 1. Rather than halving the g row, the matrix doubles the f row, so its entries stay integers.
        /// </summary>
        private static long Divsteps62(long delta, ulong f0, ulong g0, out long u, out long v, out long q, out long r)
        {
            long f = (long)f0, g = (long)g0;
            long uu = 1, vv = 0, qq = 0, rr = 1;
            int left = 62;
            while (true)
            {
                // a run of zero bits of g: as many halving steps at once
                int z = g == 0 ? left : Math.Min(System.Numerics.BitOperations.TrailingZeroCount(g), left);
                g >>= z;
                uu <<= z;
                vv <<= z;
                delta += z;
                left -= z;
                if (left == 0) break;
                if (delta > 0)
                {
                    long nf = g, ng = (g - f) >> 1;
                    long nq = qq - uu, nr = rr - vv;
                    uu = qq << 1;
                    vv = rr << 1;
                    qq = nq;
                    rr = nr;
                    f = nf;
                    g = ng;
                    delta = 1 - delta;
                }
                else
                {
                    g = (g + f) >> 1;
                    qq += uu;
                    rr += vv;
                    uu <<= 1;
                    vv <<= 1;
                    delta += 1;
                }
                if (--left == 0) break;
            }
            u = uu; v = vv; q = qq; r = rr;
            return delta;
        }

        /// <summary>(hi, lo) += a·b, signed 64 × 64 → 128 bits.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void MulAcc(ref ulong lo, ref long hi, long a, long b)
        {
            ulong pl = (ulong)(a * b);
            long ph;
            if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
                ph = (long)System.Runtime.Intrinsics.X86.Bmi2.X64.MultiplyNoFlags((ulong)a, (ulong)b) - (a < 0 ? b : 0) - (b < 0 ? a : 0);
            else
                ph = Math.BigMul(a, b, out _);
            lo += pl;
            hi += ph + (lo < pl ? 1L : 0L);
        }

        /// <summary>The low 62 bits of (hi, lo), which is then shifted right by 62 (arithmetic).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static long Take62(ref ulong lo, ref long hi)
        {
            long limb = (long)(lo & M62);
            lo = (lo >> 62) | ((ulong)hi << 2);
            hi >>= 62;
            return limb;
        }

        /// <summary>(f, g) ← ((u·f + v·g) / 2^62, (q·f + r·g) / 2^62), both exact.</summary>
        private static void ApplyFg(ref Limbs f, ref Limbs g, long u, long v, long q, long r)
        {
            ulong fl = 0, gl = 0;
            long fh = 0, gh = 0;
            MulAcc(ref fl, ref fh, u, f.A0); MulAcc(ref fl, ref fh, v, g.A0);
            MulAcc(ref gl, ref gh, q, f.A0); MulAcc(ref gl, ref gh, r, g.A0);
            Take62(ref fl, ref fh); Take62(ref gl, ref gh);
            MulAcc(ref fl, ref fh, u, f.A1); MulAcc(ref fl, ref fh, v, g.A1);
            MulAcc(ref gl, ref gh, q, f.A1); MulAcc(ref gl, ref gh, r, g.A1);
            long f0 = Take62(ref fl, ref fh), g0 = Take62(ref gl, ref gh);
            MulAcc(ref fl, ref fh, u, f.A2); MulAcc(ref fl, ref fh, v, g.A2);
            MulAcc(ref gl, ref gh, q, f.A2); MulAcc(ref gl, ref gh, r, g.A2);
            long f1 = Take62(ref fl, ref fh), g1 = Take62(ref gl, ref gh);
            MulAcc(ref fl, ref fh, u, f.A3); MulAcc(ref fl, ref fh, v, g.A3);
            MulAcc(ref gl, ref gh, q, f.A3); MulAcc(ref gl, ref gh, r, g.A3);
            long f2 = Take62(ref fl, ref fh), g2 = Take62(ref gl, ref gh);
            MulAcc(ref fl, ref fh, u, f.A4); MulAcc(ref fl, ref fh, v, g.A4);
            MulAcc(ref gl, ref gh, q, f.A4); MulAcc(ref gl, ref gh, r, g.A4);
            long f3 = Take62(ref fl, ref fh), g3 = Take62(ref gl, ref gh);
            f = new Limbs { A0 = f0, A1 = f1, A2 = f2, A3 = f3, A4 = (long)fl };
            g = new Limbs { A0 = g0, A1 = g1, A2 = g2, A3 = g3, A4 = (long)gl };
        }

        /// <summary>(d, e) ← ((u·d + v·e) / 2^62, (q·d + r·e) / 2^62) mod p: a multiple of p makes each division exact.</summary>
        private static void ApplyDe(ref Limbs d, ref Limbs e, long u, long v, long q, long r)
        {
            var m = Modulus;
            // md, me in [0, 2^62) with u·d + v·e + md·p ≡ 0 and q·d + r·e + me·p ≡ 0 (mod 2^62)
            long md = (long)((0UL - ((ulong)u * (ulong)d.A0 + (ulong)v * (ulong)e.A0) * ModulusInverse) & M62);
            long me = (long)((0UL - ((ulong)q * (ulong)d.A0 + (ulong)r * (ulong)e.A0) * ModulusInverse) & M62);
            ulong dl = 0, el = 0;
            long dh = 0, eh = 0;
            MulAcc(ref dl, ref dh, u, d.A0); MulAcc(ref dl, ref dh, v, e.A0); MulAcc(ref dl, ref dh, md, m.A0);
            MulAcc(ref el, ref eh, q, d.A0); MulAcc(ref el, ref eh, r, e.A0); MulAcc(ref el, ref eh, me, m.A0);
            Take62(ref dl, ref dh); Take62(ref el, ref eh);
            MulAcc(ref dl, ref dh, u, d.A1); MulAcc(ref dl, ref dh, v, e.A1); MulAcc(ref dl, ref dh, md, m.A1);
            MulAcc(ref el, ref eh, q, d.A1); MulAcc(ref el, ref eh, r, e.A1); MulAcc(ref el, ref eh, me, m.A1);
            long d0 = Take62(ref dl, ref dh), e0 = Take62(ref el, ref eh);
            MulAcc(ref dl, ref dh, u, d.A2); MulAcc(ref dl, ref dh, v, e.A2); MulAcc(ref dl, ref dh, md, m.A2);
            MulAcc(ref el, ref eh, q, d.A2); MulAcc(ref el, ref eh, r, e.A2); MulAcc(ref el, ref eh, me, m.A2);
            long d1 = Take62(ref dl, ref dh), e1 = Take62(ref el, ref eh);
            MulAcc(ref dl, ref dh, u, d.A3); MulAcc(ref dl, ref dh, v, e.A3); MulAcc(ref dl, ref dh, md, m.A3);
            MulAcc(ref el, ref eh, q, d.A3); MulAcc(ref el, ref eh, r, e.A3); MulAcc(ref el, ref eh, me, m.A3);
            long d2 = Take62(ref dl, ref dh), e2 = Take62(ref el, ref eh);
            MulAcc(ref dl, ref dh, u, d.A4); MulAcc(ref dl, ref dh, v, e.A4); MulAcc(ref dl, ref dh, md, m.A4);
            MulAcc(ref el, ref eh, q, d.A4); MulAcc(ref el, ref eh, r, e.A4); MulAcc(ref el, ref eh, me, m.A4);
            long d3 = Take62(ref dl, ref dh), e3 = Take62(ref el, ref eh);
            d = new Limbs { A0 = d0, A1 = d1, A2 = d2, A3 = d3, A4 = (long)dl };
            e = new Limbs { A0 = e0, A1 = e1, A2 = e2, A3 = e3, A4 = (long)el };
        }

        /// <summary>±d mod p, fully reduced: d = w4·2^256 + (w3..w0) with w4 small and signed, and 2^256 ≡ C.</summary>
        private static UInt256 Reduce(in Limbs d, bool negate)
        {
            ulong w0 = (ulong)d.A0 | ((ulong)d.A1 << 62);
            ulong w1 = ((ulong)d.A1 >> 2) | ((ulong)d.A2 << 60);
            ulong w2 = ((ulong)d.A2 >> 4) | ((ulong)d.A3 << 58);
            ulong w3 = ((ulong)d.A3 >> 6) | ((ulong)d.A4 << 56);
            long w4 = d.A4 >> 8;
            var low = ReduceOnce(w0, w1, w2, w3);                         // below 2^256 < 2p
            if (w4 > int.MaxValue || w4 < -int.MaxValue) throw new InvalidOperationException("divstep inverse out of range");
            ulong hc = Math.BigMul((ulong)Math.Abs(w4), C, out ulong lc);   // |w4|·C below 2^65
            var high = ReduceOnce(lc, hc, 0, 0);
            var x = w4 >= 0 ? Add(low, high) : Sub(low, high);
            return negate ? Neg(x) : x;
        }
    }
}
