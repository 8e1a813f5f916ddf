using System.Numerics;
using System.Runtime.CompilerServices;

namespace Rotor.Crypto.Groups;

/// <summary>
/// Constant-time arithmetic modulo an odd modulus n &lt; 2^256 (secp256k1's group order, Ed25519's L), values in
/// normal (not Montgomery) form. Multiplication is two Montgomery products (CIOS, 4×64-bit limbs);
/// no branch or memory index depends on a value, only on the public modulus.
/// </summary>
internal sealed class MontgomeryField
{
    private readonly UInt256 n;
    private readonly ulong n0Inv;      // -n^-1 mod 2^64
    private readonly UInt256 r2;       // R^2 mod n, R = 2^256
    private readonly bool above255;    // n > 2^255, so that any 256-bit value is below 2n

    public MontgomeryField(BigInteger modulus)
    {
        if (modulus.IsEven || modulus.GetBitLength() > 256 || modulus.GetBitLength() < 128) throw new ArgumentException("need an odd modulus of 128 to 256 bits");
        above255 = modulus.GetBitLength() == 256;
        n = UInt256.FromBigInteger(modulus);
        // Newton iteration for n^-1 mod 2^64.
        ulong inv = 1;
        for (int i = 0; i < 7; i++) inv *= 2 - n.L0 * inv;
        n0Inv = 0UL - inv;
        r2 = UInt256.FromBigInteger(BigInteger.ModPow(2, 512, modulus));
    }

    public UInt256 Modulus => n;

    public ulong IsCanonicalMask(in UInt256 a) => UInt256.LessThanMask(a, n);

    public UInt256 Add(in UInt256 a, in UInt256 b)
    {
        UInt256.Add(a, b, out var s, out ulong carry);
        UInt256.Sub(s, n, out var d, out ulong borrow);
        // keep d when the sum overflowed 2^256 or when s >= n
        ulong useD = (0UL - carry) | (borrow - 1);
        return UInt256.Select(useD, d, s);
    }

    public UInt256 Sub(in UInt256 a, in UInt256 b)
    {
        UInt256.Sub(a, b, out var d, out ulong borrow);
        UInt256.Add(d, UInt256.Select(0UL - borrow, n, default), out var r, out _);
        return r;
    }

    public UInt256 Negate(in UInt256 a) => Sub(default, a);

    /// <summary>A 256-bit value mod n: one masked subtraction when n &gt; 2^255 (every 256-bit value is below 2n), else the wide reduction.</summary>
    public UInt256 Reduce256(in UInt256 v) => above255 ? ReduceOnce(v) : Reduce(default, v);

    /// <summary>a·R mod n: the form in which a factor used many times makes each product one Montgomery product.</summary>
    public UInt256 ToMontgomery(in UInt256 a) => MontMul(a, r2);

    /// <summary>a·b for b given as <see cref="ToMontgomery"/>(b): one Montgomery product, a·(b·R)·R^-1.</summary>
    public UInt256 MulByMontgomery(in UInt256 a, in UInt256 bMontgomery) => MontMul(a, bMontgomery);

    public UInt256 Mul(in UInt256 a, in UInt256 b)
    {
        var t = MontMul(a, b);      // a·b·R^-1
        return MontMul(t, r2);      // a·b
    }

    /// <summary>Reduces a big-endian integer of at most 64 bytes modulo n.</summary>
    public UInt256 ReduceBigEndian(ReadOnlySpan<byte> be)
    {
        if (be.Length > 64) throw new ArgumentException("at most 64 bytes");
        Span<byte> buf = stackalloc byte[64];
        buf.Clear();
        be.CopyTo(buf[(64 - be.Length)..]);
        var hi = UInt256.FromBigEndian(buf[..32]);
        var lo = UInt256.FromBigEndian(buf[32..]);
        return Reduce(hi, lo);
    }

    /// <summary>Reduces a little-endian integer of at most 64 bytes modulo n.</summary>
    public UInt256 ReduceLittleEndian(ReadOnlySpan<byte> le)
    {
        if (le.Length > 64) throw new ArgumentException("at most 64 bytes");
        Span<byte> buf = stackalloc byte[64];
        buf.Clear();
        le.CopyTo(buf);
        var lo = UInt256.FromLittleEndian(buf[..32]);
        var hi = UInt256.FromLittleEndian(buf[32..]);
        buf.Clear();
        return Reduce(hi, lo);
    }

    /// <summary>(hi·2^256 + lo) mod n.</summary>
    private UInt256 Reduce(in UInt256 hi, in UInt256 lo)
    {
        var hiR = MontMul(hi, r2);           // hi·2^256 mod n (hi < 2^256 = R, r2 < n, so hi·r2 < n·R)
        // lo < 2^256 < 2n when n > 2^255: one conditional subtraction; otherwise lo·R·R^-1 by two Montgomery products
        var loReduced = above255 ? ReduceOnce(lo) : MontMul(MontMul(lo, r2), new UInt256(1, 0, 0, 0));
        return Add(hiR, loReduced);
    }

    private UInt256 ReduceOnce(in UInt256 a)
    {
        UInt256.Sub(a, n, out var d, out ulong borrow);
        return UInt256.Select(0UL - borrow, a, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong MulAdd(ulong a, ulong b, ulong c, ref ulong carry)
    {
        // returns low word of a*b + c + carry, carry <- high word
        UInt128 p = (UInt128)a * b + c + carry;
        carry = (ulong)(p >> 64);
        return (ulong)p;
    }

    /// <summary>Montgomery product a·b·2^-256 mod n (CIOS), for a·b &lt; n·2^256.</summary>
    private UInt256 MontMul(in UInt256 a, in UInt256 b)
    {
        ulong t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
        Span<ulong> bl = [b.L0, b.L1, b.L2, b.L3];
        for (int i = 0; i < 4; i++)
        {
            ulong bi = bl[i];
            ulong c = 0;
            t0 = MulAdd(a.L0, bi, t0, ref c);
            t1 = MulAdd(a.L1, bi, t1, ref c);
            t2 = MulAdd(a.L2, bi, t2, ref c);
            t3 = MulAdd(a.L3, bi, t3, ref c);
            UInt128 s = (UInt128)t4 + c;
            t4 = (ulong)s;
            ulong t5 = (ulong)(s >> 64);

            ulong m = t0 * n0Inv;
            c = 0;
            _ = MulAdd(m, n.L0, t0, ref c);
            t0 = MulAdd(m, n.L1, t1, ref c);
            t1 = MulAdd(m, n.L2, t2, ref c);
            t2 = MulAdd(m, n.L3, t3, ref c);
            s = (UInt128)t4 + c;
            t3 = (ulong)s;
            t4 = t5 + (ulong)(s >> 64);
        }
        var t = new UInt256(t0, t1, t2, t3);
        UInt256.Sub(t, n, out var d, out ulong borrow);
        // result is t - n when t4 is set or t >= n
        ulong useD = (0UL - t4) | (borrow - 1);
        return UInt256.Select(useD, d, t);
    }
}
