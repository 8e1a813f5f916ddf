using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Groups;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// Parameters of the OT-based multiplication (DKLs19's, as DKLs23 uses it for its random VOLE): κ = 128 base OTs (the
/// computational security of secp256k1), statistical security s = 80, ξ = 256 + 2s OT instances per
/// multiplication (the bit length of the field plus 2s for the encoding of the receiver's input).
/// </summary>
internal static class OtParams
{
    /// <summary>Base OTs per direction, and the width in bits of the OT-extension correlation Δ.</summary>
    public const int Kappa = 128;

    /// <summary>Bytes of one base-OT seed.</summary>
    public const int SeedLength = 32;

    /// <summary>Statistical security parameter s.</summary>
    public const int Stat = 80;

    /// <summary>ξ: random OTs a multiplication consumes (receiver's input encoded over them).</summary>
    public const int Xi = 256 + 2 * Stat;

    /// <summary>m' = ξ + κ + s: extended OTs including the KOS padding that hides the choice bits in the check.</summary>
    public const int ExtendedRows = Xi + Kappa + Stat;

    /// <summary>Bytes of one column of the extension matrix (m' bits).</summary>
    public const int ColumnBytes = ExtendedRows / 8;

    /// <summary>ℓ: scalars Alice multiplies (DKLs23: the instance key r_i and the key share sk_i).</summary>
    public const int Ell = 2;
}

/// <summary>GF(2^128) with the reduction polynomial x^128 + x^7 + x^2 + x + 1, in the plain bit order (bit i of the value is the coefficient of x^i). Branch-free.</summary>
internal readonly record struct Gf128(ulong Lo, ulong Hi)
{
    public static Gf128 operator ^(Gf128 a, Gf128 b) => new(a.Lo ^ b.Lo, a.Hi ^ b.Hi);

    public static Gf128 Read(ReadOnlySpan<byte> b) => new(BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]));

    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b, Lo);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], Hi);
    }

    /// <summary>The element whose bit i is <paramref name="bits"/>[i] (one byte, 0 or 1, per bit; at most 128): an OT-extension Δ.</summary>
    public static Gf128 FromBits(ReadOnlySpan<byte> bits)
    {
        ulong lo = 0, hi = 0;
        for (int i = 0; i < bits.Length; i++)
            if (i < 64) lo |= (ulong)bits[i] << i; else hi |= (ulong)bits[i] << (i - 64);
        return new Gf128(lo, hi);
    }

    /// <summary>The value times the all-zero or all-one mask of a bit.</summary>
    public Gf128 Mask(ulong bit) => new(Lo & (0UL - bit), Hi & (0UL - bit));

    public static Gf128 Multiply(Gf128 a, Gf128 b) => Reduce(MulFull(a, b));

    /// <summary>
    /// Σ a_j·b_j: the products are summed unreduced (256 bits) and reduced once (reduction is linear). Carry-less
    /// multiplication by PCLMULQDQ where the processor has it, else the branch-free shift-and-mask loop; both take
    /// the same time whatever the values.
    /// </summary>
    public static Gf128 InnerProduct(ReadOnlySpan<Gf128> a, ReadOnlySpan<Gf128> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("vectors of different lengths");
        ulong r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        if (Pclmulqdq.IsSupported)
        {
            var acc0 = Vector128<ulong>.Zero;
            var acc1 = Vector128<ulong>.Zero;
            var accM = Vector128<ulong>.Zero;
            for (int j = 0; j < a.Length; j++)
            {
                var va = Vector128.Create(a[j].Lo, a[j].Hi);
                var vb = Vector128.Create(b[j].Lo, b[j].Hi);
                acc0 ^= Pclmulqdq.CarrylessMultiply(va, vb, 0x00);
                acc1 ^= Pclmulqdq.CarrylessMultiply(va, vb, 0x11);
                accM ^= Pclmulqdq.CarrylessMultiply(va, vb, 0x01) ^ Pclmulqdq.CarrylessMultiply(va, vb, 0x10);
            }
            r0 = acc0.GetElement(0);
            r1 = acc0.GetElement(1) ^ accM.GetElement(0);
            r2 = acc1.GetElement(0) ^ accM.GetElement(1);
            r3 = acc1.GetElement(1);
        }
        else
        {
            for (int j = 0; j < a.Length; j++)
            {
                var (s0, s1, s2, s3) = MulFull(a[j], b[j]);
                r0 ^= s0; r1 ^= s1; r2 ^= s2; r3 ^= s3;
            }
        }
        return Reduce((r0, r1, r2, r3));
    }

    private static (ulong, ulong, ulong, ulong) MulFull(Gf128 a, Gf128 b)
    {
        if (Pclmulqdq.IsSupported)
        {
            var va = Vector128.Create(a.Lo, a.Hi);
            var vb = Vector128.Create(b.Lo, b.Hi);
            var t0 = Pclmulqdq.CarrylessMultiply(va, vb, 0x00);
            var t1 = Pclmulqdq.CarrylessMultiply(va, vb, 0x11);
            var tm = Pclmulqdq.CarrylessMultiply(va, vb, 0x01) ^ Pclmulqdq.CarrylessMultiply(va, vb, 0x10);
            return (t0.GetElement(0), t0.GetElement(1) ^ tm.GetElement(0), t1.GetElement(0) ^ tm.GetElement(1), t1.GetElement(1));
        }
        return MulFullPortable(a, b);
    }

    internal static (ulong, ulong, ulong, ulong) MulFullPortable(Gf128 a, Gf128 b)
    {
        ulong r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        for (int i = 0; i < 64; i++)
        {
            ulong m = 0UL - ((b.Lo >> i) & 1);
            // a << i over 256 bits
            ulong s0 = a.Lo << i;
            ulong s1 = (a.Hi << i) | (i == 0 ? 0 : a.Lo >> (64 - i));
            ulong s2 = i == 0 ? 0 : a.Hi >> (64 - i);
            r0 ^= s0 & m; r1 ^= s1 & m; r2 ^= s2 & m;
            ulong n = 0UL - ((b.Hi >> i) & 1);
            r1 ^= s0 & n; r2 ^= s1 & n; r3 ^= s2 & n;
        }
        return (r0, r1, r2, r3);
    }

    private static Gf128 Reduce((ulong r0, ulong r1, ulong r2, ulong r3) v)
    {
        var (r0, r1, r2, r3) = v;
        // x^128 = x^7 + x^2 + x + 1: fold r3 then r2 down.
        ulong t = r3;
        r1 ^= t ^ (t << 1) ^ (t << 2) ^ (t << 7);
        r2 ^= (t >> 63) ^ (t >> 62) ^ (t >> 57);
        t = r2;
        r0 ^= t ^ (t << 1) ^ (t << 2) ^ (t << 7);
        r1 ^= (t >> 63) ^ (t >> 62) ^ (t >> 57);
        return new Gf128(r0, r1);
    }
}

/// <summary>Hashing for the OT layers: SHA-512 with a domain label and framed inputs (random oracle, PRG, tweakable hash).</summary>
internal static class OtHash
{
    /// <summary>SHA-512 over the label and the framed parts.</summary>
    public static byte[] Hash(string label, params ReadOnlySpan<byte[]> parts)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        Frame(h, Encoding.UTF8.GetBytes("rotor/ecdsa/" + label));
        foreach (var p in parts) Frame(h, p);
        return h.GetHashAndReset();
    }

    /// <summary>
    /// SHAKE256 (FIPS 202) of <paramref name="input"/> into <paramref name="output"/>, by BouncyCastle's managed Keccak
    /// with one digest per thread, reset by every output (its permutation has no data-dependent branch or index).
    /// A signing makes about 1,600 of these calls per multiplication, each of one or two Keccak permutations: the
    /// platform's one-shot SHAKE256 (OpenSSL) measured 0.75 to 0.85 µs a call here, most of it per-call overhead
    /// (context allocation, error-queue clearing), against 0.5 µs for a reused managed digest (docs/performance.md).
    /// Both give the same bytes.
    /// </summary>
    public static void Shake(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var d = shake ??= new Org.BouncyCastle.Crypto.Digests.ShakeDigest(256);
        d.BlockUpdate(input);
        d.OutputFinal(output);
    }

    [ThreadStatic] private static Org.BouncyCastle.Crypto.Digests.ShakeDigest? shake;

    /// <summary>The PRG of a base-OT seed: fills <paramref name="output"/> with SHAKE256(label ‖ seed ‖ context), every part framed by its length.</summary>
    public static void Expand(string label, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> context, Span<byte> output)
    {
        var l = Encoding.UTF8.GetBytes("rotor/ecdsa/" + label);
        int n = 12 + l.Length + seed.Length + context.Length;
        Span<byte> input = n <= 512 ? stackalloc byte[n] : new byte[n];
        int p = Put(input, 0, l);
        p = Put(input, p, seed);
        Put(input, p, context);
        Shake(input, output);
        CryptographicOperations.ZeroMemory(input);
    }

    private static int Put(Span<byte> buffer, int at, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer[at..], (uint)data.Length);
        data.CopyTo(buffer[(at + 4)..]);
        return at + 4 + data.Length;
    }

    /// <summary>
    /// Bytes of random-oracle output per scalar of a row: 32, reduced mod n. On secp256k1 (n &gt; 2^256 − 2^129) a
    /// uniform 256-bit value reduced mod n is within 2^-127 of uniform; over the 4,992 row scalars of a multiplication
    /// within 2^-114, far below the statistical parameter's 2^-80 (s = 80). Four of them are one SHAKE256 block.
    /// </summary>
    public const int RowScalarBytes = 32;

    /// <summary>
    /// The random-OT output of one extended row: <paramref name="output"/>.Length scalars from one
    /// SHAKE256(label ‖ context ‖ row index ‖ scalar count ‖ 16-byte row value) call, 32 bytes reduced mod n per scalar
    /// (see <see cref="RowScalarBytes"/>).
    /// </summary>
    public static void RowScalars(Group group, ReadOnlySpan<byte> context, int row, Gf128 value, Span<Scalar> output)
    {
        ReadOnlySpan<byte> label = "rotor/ecdsa/rot"u8;
        Span<byte> input = stackalloc byte[label.Length + context.Length + 4 + 4 + 16];
        label.CopyTo(input);
        context.CopyTo(input[label.Length..]);
        var tail = input[(label.Length + context.Length)..];
        BinaryPrimitives.WriteInt32BigEndian(tail, row);
        BinaryPrimitives.WriteInt32BigEndian(tail[4..], output.Length);
        value.Write(tail[8..]);
        Span<byte> stream = stackalloc byte[RowScalarBytes * output.Length];
        Shake(input, stream);
        for (int k = 0; k < output.Length; k++) output[k] = group.Reduce32(stream.Slice(k * RowScalarBytes, RowScalarBytes));
        CryptographicOperations.ZeroMemory(stream);
        CryptographicOperations.ZeroMemory(input);
    }

    private static void Frame(IncrementalHash h, ReadOnlySpan<byte> data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
        h.AppendData(len);
        h.AppendData(data);
    }
}
