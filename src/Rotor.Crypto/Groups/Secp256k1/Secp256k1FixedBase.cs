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
        ulong c = 0;
        ulong r0 = UInt256.AddC(a.L0, b.L0, ref c);
        ulong r1 = UInt256.AddC(a.L1, b.L1, ref c);
        ulong r2 = UInt256.AddC(a.L2, b.L2, ref c);
        ulong r3 = UInt256.AddC(a.L3, b.L3, ref c);
        if (c != 0)
        {
            // 2^256 ≡ C; a + b < 2p, so r + C stays below 2^256
            c = 0;
            r0 = UInt256.AddC(r0, C, ref c);
            r1 = UInt256.AddC(r1, 0, ref c);
            r2 = UInt256.AddC(r2, 0, ref c);
            r3 = UInt256.AddC(r3, 0, ref c);
        }
        return ReduceOnce(r0, r1, r2, r3);
    }

    internal static UInt256 Sub(in UInt256 a, in UInt256 b)
    {
        ulong br = 0;
        ulong r0 = UInt256.SubB(a.L0, b.L0, ref br);
        ulong r1 = UInt256.SubB(a.L1, b.L1, ref br);
        ulong r2 = UInt256.SubB(a.L2, b.L2, ref br);
        ulong r3 = UInt256.SubB(a.L3, b.L3, ref br);
        if (br != 0)
        {
            // computed a − b + 2^256; a − b + p is that minus C (and not negative)
            br = 0;
            r0 = UInt256.SubB(r0, C, ref br);
            r1 = UInt256.SubB(r1, 0, ref br);
            r2 = UInt256.SubB(r2, 0, ref br);
            r3 = UInt256.SubB(r3, 0, ref br);
        }
        return new UInt256(r0, r1, r2, r3);
    }

    internal static UInt256 Neg(in UInt256 a) => IsZero(a) ? a : Sub(P, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MulAdd(ulong a, ulong b, ulong c, ref ulong carry)
    {
        // low word of a·b + c + carry (at most 2^128 − 1); carry ← high word
        ulong hi = Math.BigMul(a, b, out ulong lo);
        lo += c;
        hi += lo < c ? 1UL : 0UL;
        lo += carry;
        hi += lo < carry ? 1UL : 0UL;
        carry = hi;
        return lo;
    }

    internal static UInt256 Mul(in UInt256 a, in UInt256 b)
    {
        ulong c = 0;
        ulong r0 = MulAdd(a.L0, b.L0, 0, ref c);
        ulong r1 = MulAdd(a.L1, b.L0, 0, ref c);
        ulong r2 = MulAdd(a.L2, b.L0, 0, ref c);
        ulong r3 = MulAdd(a.L3, b.L0, 0, ref c);
        ulong r4 = c;
        c = 0;
        r1 = MulAdd(a.L0, b.L1, r1, ref c);
        r2 = MulAdd(a.L1, b.L1, r2, ref c);
        r3 = MulAdd(a.L2, b.L1, r3, ref c);
        r4 = MulAdd(a.L3, b.L1, r4, ref c);
        ulong r5 = c;
        c = 0;
        r2 = MulAdd(a.L0, b.L2, r2, ref c);
        r3 = MulAdd(a.L1, b.L2, r3, ref c);
        r4 = MulAdd(a.L2, b.L2, r4, ref c);
        r5 = MulAdd(a.L3, b.L2, r5, ref c);
        ulong r6 = c;
        c = 0;
        r3 = MulAdd(a.L0, b.L3, r3, ref c);
        r4 = MulAdd(a.L1, b.L3, r4, ref c);
        r5 = MulAdd(a.L2, b.L3, r5, ref c);
        r6 = MulAdd(a.L3, b.L3, r6, ref c);
        ulong r7 = c;
        return Reduce(r0, r1, r2, r3, r4, r5, r6, r7);
    }

    internal static UInt256 Sqr(in UInt256 a)
    {
        ulong a0 = a.L0, a1 = a.L1, a2 = a.L2, a3 = a.L3;
        // the cross products once, doubled, then the squares on the diagonal: 10 multiplications instead of 16
        ulong c = 0;
        ulong r1 = MulAdd(a0, a1, 0, ref c);
        ulong r2 = MulAdd(a0, a2, 0, ref c);
        ulong r3 = MulAdd(a0, a3, 0, ref c);
        ulong r4 = c;
        c = 0;
        r3 = MulAdd(a1, a2, r3, ref c);
        r4 = MulAdd(a1, a3, r4, ref c);
        ulong r5 = c;
        c = 0;
        r5 = MulAdd(a2, a3, r5, ref c);
        ulong r6 = c;
        ulong r7 = r6 >> 63;
        r6 = (r6 << 1) | (r5 >> 63);
        r5 = (r5 << 1) | (r4 >> 63);
        r4 = (r4 << 1) | (r3 >> 63);
        r3 = (r3 << 1) | (r2 >> 63);
        r2 = (r2 << 1) | (r1 >> 63);
        r1 <<= 1;
        ulong h0 = Math.BigMul(a0, a0, out ulong l0);
        ulong h1 = Math.BigMul(a1, a1, out ulong l1);
        ulong h2 = Math.BigMul(a2, a2, out ulong l2);
        ulong h3 = Math.BigMul(a3, a3, out ulong l3);
        ulong k = 0;
        ulong r0 = l0;
        r1 = UInt256.AddC(r1, h0, ref k);
        r2 = UInt256.AddC(r2, l1, ref k);
        r3 = UInt256.AddC(r3, h1, ref k);
        r4 = UInt256.AddC(r4, l2, ref k);
        r5 = UInt256.AddC(r5, h2, ref k);
        r6 = UInt256.AddC(r6, l3, ref k);
        r7 = UInt256.AddC(r7, h3, ref k);
        return Reduce(r0, r1, r2, r3, r4, r5, r6, r7);
    }

    /// <summary>(t0..t7) mod p, using 2^256 ≡ C.</summary>
    private static UInt256 Reduce(ulong t0, ulong t1, ulong t2, ulong t3, ulong t4, ulong t5, ulong t6, ulong t7)
    {
        ulong c = 0;
        ulong r0 = MulAdd(t4, C, t0, ref c);
        ulong r1 = MulAdd(t5, C, t1, ref c);
        ulong r2 = MulAdd(t6, C, t2, ref c);
        ulong r3 = MulAdd(t7, C, t3, ref c);
        ulong r4 = c;                                   // below 2^34
        c = 0;
        r0 = MulAdd(r4, C, r0, ref c);                  // c below 2^4
        ulong k = 0;
        r1 = UInt256.AddC(r1, c, ref k);
        r2 = UInt256.AddC(r2, 0, ref k);
        r3 = UInt256.AddC(r3, 0, ref k);
        if (k != 0)
        {
            // wrapped past 2^256: the rest is small, adding C cannot wrap again
            k = 0;
            r0 = UInt256.AddC(r0, C, ref k);
            r1 = UInt256.AddC(r1, 0, ref k);
            r2 = UInt256.AddC(r2, 0, ref k);
            r3 = UInt256.AddC(r3, 0, ref k);
        }
        return ReduceOnce(r0, r1, r2, r3);
    }

    internal static UInt256 Inverse(in UInt256 a) => VartimeInverse.ModInverse(a, P);
}
