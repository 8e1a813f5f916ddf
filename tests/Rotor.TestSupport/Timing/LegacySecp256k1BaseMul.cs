using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;
using SHA256 = System.Security.Cryptography.SHA256;
using System.Text;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math.EC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Rotor.TestSupport.Timing;

/// <summary>
/// <b>Not constant time; kept only as the "before" of the benchmarks and timing runs.</b> Rotor's k·G on secp256k1
/// until the move to NBitcoin.Secp256k1, unchanged but for taking the scalar as bytes: BouncyCastle's secp256k1
/// field arithmetic (<c>SecP256K1Field.Add/Subtract/Twice/Reduce</c>) branches on its data (a conditional
/// correction after every carry or borrow, an early-exit comparison with p), so the cost of each point addition
/// depends on the coordinates, i.e. on the secret digits. The dudect-style test of issue 12 measured |t| = 25 to 70.
/// <para>The original description follows.</para>
/// k·G for a secret k on secp256k1: fixed 4-bit windows over a table precomputed once, every step done by
/// BouncyCastle's constant-time pieces (the secp256k1 curve's cache-safe lookup table, which reads every entry
/// under a mask, and its Jacobian–affine point addition). About 1.5× faster than BouncyCastle's
/// <c>FixedPointCombMultiplier</c> (64 additions and no doublings against 43 of each), and it skips the
/// comb's per-call precomputation lookup (a lock on the curve's cache) and result validation.
/// <para>
/// Window i's table holds T_i[d] = d·16^i·G + H_i for d = 0..15, with H_i = h_i·G for fixed public h_i
/// (hashed from a label), so that no entry is the identity and the running sum
/// (k mod 16^i)·G + Σ_{j&lt;i} H_j meets ±T_i[d] (where BouncyCastle's addition branches into a doubling or the
/// identity) only with negligible probability for an unknown k. The result is Σ T_i[k_i] − Σ H_i = k·G;
/// exceptional inputs (k = 0, the last subtraction giving the identity) are still computed correctly.
/// </para>
/// </summary>
public sealed class LegacySecp256k1BaseMul
{
    private const int WindowBits = 4;
    private const int Windows = 256 / WindowBits;
    private const int Entries = 1 << WindowBits;

    private readonly ECCurve curve;
    private readonly ECLookupTable[] tables;
    private readonly ECPoint correction;

    public static readonly LegacySecp256k1BaseMul Instance = Create();

    private static LegacySecp256k1BaseMul Create()
    {
        var p = CustomNamedCurves.GetByName("secp256k1");
        return new LegacySecp256k1BaseMul(p.Curve, p.G, p.N);
    }

    public LegacySecp256k1BaseMul(ECCurve curve, ECPoint g, BcBigInteger order)
    {
        this.curve = curve;
        tables = new ECLookupTable[Windows];
        var offsetSum = curve.Infinity;
        var windowBase = g;                                   // 16^i·G
        var entries = new ECPoint[Entries];
        for (int i = 0; i < Windows; i++)
        {
            var offset = g.Multiply(OffsetScalar(i, order));
            offsetSum = offsetSum.Add(offset);
            entries[0] = offset;
            for (int d = 1; d < Entries; d++) entries[d] = entries[d - 1].Add(windowBase);
            curve.NormalizeAll(entries);
            tables[i] = curve.CreateCacheSafeLookupTable(entries, 0, Entries);
            windowBase = windowBase.TimesPow2(WindowBits).Normalize();
        }
        correction = offsetSum.Negate().Normalize();
    }

    /// <summary>k·G (compressed SEC1 encoding) for a 32-byte big-endian k below the group order.</summary>
    public byte[] MultiplyEncoded(ReadOnlySpan<byte> k32)
    {
        var p = Multiply(k32);
        return p.IsInfinity ? new byte[33] : p.GetEncoded(true);
    }

    /// <summary>k·G, normalised to affine coordinates, for a 32-byte big-endian k below the group order.</summary>
    public ECPoint Multiply(ReadOnlySpan<byte> k32) => Normalize(MultiplyJacobian(k32));

    /// <summary>k·G in Jacobian coordinates (not normalised).</summary>
    private ECPoint MultiplyJacobian(ReadOnlySpan<byte> k32)
    {
        if (k32.Length != 32) throw new ArgumentException("need 32 bytes");
        ReadOnlySpan<ulong> limbs = [
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(k32[24..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(k32[16..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(k32[8..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(k32)];
        const int perLimb = 64 / WindowBits;
        var r = tables[0].Lookup((int)(limbs[0] & (Entries - 1)));
        for (int i = 1; i < Windows; i++)
        {
            int digit = (int)((limbs[i / perLimb] >> (WindowBits * (i % perLimb))) & (Entries - 1));
            r = r.Add(tables[i].Lookup(digit));
        }
        return r.Add(correction);
    }

    /// <summary>
    /// The affine form (X/Z², Y/Z³) of a point whose Z depends on a secret, with the inversion blinded as
    /// BouncyCastle's own <c>Normalize</c> blinds it (Z·b inverted, then multiplied by b, for a fresh random b):
    /// BouncyCastle's inversion is constant time, and the blinding keeps it so even if it were not. BouncyCastle's
    /// <c>Normalize</c> draws b from a freshly made <c>SecureRandom</c>, which costs more than the inversion.
    /// </summary>
    private ECPoint Normalize(ECPoint p)
    {
        if (p.IsInfinity) return p;
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        bytes[0] &= 0x7f;                                     // below 2^255 < p: a field element, zero with probability 2^-255
        bytes[31] |= 1;                                       // and never zero
        var b = curve.FromBigInteger(new BcBigInteger(1, bytes));
        var zInv = p.GetZCoord(0).Multiply(b).Invert().Multiply(b);
        var zInv2 = zInv.Square();
        var x = p.XCoord.Multiply(zInv2);
        var y = p.YCoord.Multiply(zInv2.Multiply(zInv));
        return curve.CreatePoint(x.ToBigInteger(), y.ToBigInteger());
    }

    /// <summary>h_i: SHA-256("rotor/secp256k1/base-mul-offset" ‖ i) reduced mod n (public, fixed).</summary>
    private static BcBigInteger OffsetScalar(int i, BcBigInteger order)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes($"rotor/secp256k1/base-mul-offset/{i}"));
        return new BcBigInteger(1, hash).Mod(order);
    }
}
