using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Rotor.Crypto.Groups;

/// <summary>
/// A 256-bit unsigned integer as four little-endian 64-bit limbs. On a little-endian machine its memory
/// is the 32-byte little-endian encoding, which is what libsodium's scalar functions take.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct UInt256
{
    public ulong L0, L1, L2, L3;

    public UInt256(ulong l0, ulong l1, ulong l2, ulong l3) { L0 = l0; L1 = l1; L2 = l2; L3 = l3; }

    public static UInt256 FromLittleEndian(ReadOnlySpan<byte> b)
    {
        if (b.Length != 32) throw new ArgumentException("need 32 bytes");
        return new UInt256(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(b[24..]));
    }

    public static UInt256 FromBigEndian(ReadOnlySpan<byte> b)
    {
        if (b.Length != 32) throw new ArgumentException("need 32 bytes");
        return new UInt256(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(b[24..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(b[16..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(b[8..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(b));
    }

    public readonly void WriteLittleEndian(Span<byte> b)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, L0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[8..], L1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[16..], L2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[24..], L3);
    }

    public readonly void WriteBigEndian(Span<byte> b)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b, L3);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b[8..], L2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b[16..], L1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b[24..], L0);
    }

    /// <summary>Constant-time equality: all-ones mask when equal, zero otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong EqualMask(in UInt256 a, in UInt256 b)
    {
        ulong d = (a.L0 ^ b.L0) | (a.L1 ^ b.L1) | (a.L2 ^ b.L2) | (a.L3 ^ b.L3);
        // d == 0  ->  ((d | -d) >> 63) == 0
        return ((d | (0UL - d)) >> 63) - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong IsZeroMask(in UInt256 a) => EqualMask(a, default);

    /// <summary>Constant-time a &lt; b as an all-ones / zero mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LessThanMask(in UInt256 a, in UInt256 b)
    {
        Sub(a, b, out _, out ulong borrow);
        return 0UL - borrow;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(in UInt256 a, in UInt256 b, out UInt256 r, out ulong carry)
    {
        ulong c = 0;
        r.L0 = AddC(a.L0, b.L0, ref c);
        r.L1 = AddC(a.L1, b.L1, ref c);
        r.L2 = AddC(a.L2, b.L2, ref c);
        r.L3 = AddC(a.L3, b.L3, ref c);
        carry = c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sub(in UInt256 a, in UInt256 b, out UInt256 r, out ulong borrow)
    {
        ulong c = 0;
        r.L0 = SubB(a.L0, b.L0, ref c);
        r.L1 = SubB(a.L1, b.L1, ref c);
        r.L2 = SubB(a.L2, b.L2, ref c);
        r.L3 = SubB(a.L3, b.L3, ref c);
        borrow = c;
    }

    /// <summary>mask ? a : b, constant time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt256 Select(ulong mask, in UInt256 a, in UInt256 b) => new(
        (a.L0 & mask) | (b.L0 & ~mask), (a.L1 & mask) | (b.L1 & ~mask),
        (a.L2 & mask) | (b.L2 & ~mask), (a.L3 & mask) | (b.L3 & ~mask));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong AddC(ulong a, ulong b, ref ulong carry)
    {
        ulong s = a + b;
        ulong c1 = (((a & b) | ((a | b) & ~s)) >> 63);
        ulong r = s + carry;
        ulong c2 = ((s & ~r) >> 63);
        carry = c1 | c2;
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SubB(ulong a, ulong b, ref ulong borrow)
    {
        ulong d = a - b;
        ulong b1 = (((~a & b) | (~(a ^ b) & d)) >> 63);
        ulong r = d - borrow;
        ulong b2 = ((~d & r) >> 63);
        borrow = b1 | b2;
        return r;
    }

    public readonly System.Numerics.BigInteger ToBigInteger()
    {
        Span<byte> b = stackalloc byte[33];
        WriteLittleEndian(b[..32]);
        b[32] = 0;
        return new System.Numerics.BigInteger(b, isUnsigned: true, isBigEndian: false);
    }

    public static UInt256 FromBigInteger(System.Numerics.BigInteger v)
    {
        if (v.Sign < 0 || v.GetBitLength() > 256) throw new ArgumentOutOfRangeException(nameof(v));
        Span<byte> b = stackalloc byte[32];
        b.Clear();
        v.TryWriteBytes(b, out _, isUnsigned: true, isBigEndian: false);
        return FromLittleEndian(b);
    }
}
