using System.Buffers.Binary;
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

    /// <summary>The value times the all-zero or all-one mask of a bit.</summary>
    public Gf128 Mask(ulong bit) => new(Lo & (0UL - bit), Hi & (0UL - bit));

    public static Gf128 Multiply(Gf128 a, Gf128 b) => Reduce(MulFull(a, b));

    private static (ulong, ulong, ulong, ulong) MulFull(Gf128 a, Gf128 b)
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

    /// <summary>Fills <paramref name="output"/> with SHA-512(label ‖ seed ‖ context ‖ counter) blocks: the PRG of a base-OT seed.</summary>
    public static void Expand(string label, ReadOnlySpan<byte> seed, ReadOnlySpan<byte> context, Span<byte> output)
    {
        Span<byte> block = stackalloc byte[64];
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        var l = Encoding.UTF8.GetBytes("rotor/ecdsa/" + label);
        Span<byte> ctr = stackalloc byte[4];
        for (int off = 0, c = 0; off < output.Length; off += 64, c++)
        {
            Frame(h, l);
            Frame(h, seed);
            Frame(h, context);
            BinaryPrimitives.WriteUInt32BigEndian(ctr, (uint)c);
            h.AppendData(ctr);
            h.GetHashAndReset(block);
            block[..Math.Min(64, output.Length - off)].CopyTo(output[off..]);
        }
        CryptographicOperations.ZeroMemory(block);
    }

    /// <summary>
    /// The random-OT output of one extended row: <paramref name="count"/> uniform scalars from
    /// SHA-512(label ‖ context ‖ row index ‖ k ‖ 16-byte row value), k = 0..count−1 (wide reduction, no bias).
    /// </summary>
    public static void RowScalars(Group group, ReadOnlySpan<byte> context, int row, Gf128 value, Span<Scalar> output)
    {
        ReadOnlySpan<byte> label = "rotor/ecdsa/rot"u8;
        Span<byte> input = stackalloc byte[label.Length + context.Length + 4 + 4 + 16];
        Span<byte> block = stackalloc byte[64];
        label.CopyTo(input);
        context.CopyTo(input[label.Length..]);
        var tail = input[(label.Length + context.Length)..];
        BinaryPrimitives.WriteInt32BigEndian(tail, row);
        value.Write(tail[8..]);
        for (int k = 0; k < output.Length; k++)
        {
            BinaryPrimitives.WriteInt32BigEndian(tail[4..], k);
            SHA512.HashData(input, block);
            output[k] = group.ReduceWide(block);
        }
        CryptographicOperations.ZeroMemory(input);
        CryptographicOperations.ZeroMemory(block);
    }

    private static void Frame(IncrementalHash h, ReadOnlySpan<byte> data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
        h.AppendData(len);
        h.AppendData(data);
    }
}

/// <summary>Point multiplications by secret scalars that are not by the generator.</summary>
internal static class SecretMul
{
    /// <summary>
    /// k·P for a secret k and a public P. Rotor.Crypto offers a constant-time k·G only, so until it offers a
    /// constant-time variable-base multiplication this splits k into k₁ + k₂ with k₁ fresh and uniform: each
    /// of the two variable-time multiplications then runs on a scalar that on its own is uniform and
    /// independent of k. Replace by the constant-time multiplication once it exists.
    /// </summary>
    public static Element Mul(Element p, Scalar k)
    {
        var g = p.Group;
        var k1 = g.RandomScalar();
        var k2 = k - k1;
        return g.MulVartime(p, k1) + g.MulVartime(p, k2);
    }
}
