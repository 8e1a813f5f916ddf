using Org.BouncyCastle.Math.EC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// Multiplications of secp256k1 points by secret scalars, in constant time, over Rotor's own constant-time field
/// (<see cref="Fe"/>: four 64-bit limbs, masks for every carry and correction) and the complete projective formulas
/// of Renes–Costello–Batina (<see cref="Projective"/>): k·G by a fixed-base comb (<see cref="Secp256k1Comb"/>: 64
/// masked table reads and 64 complete additions), k·P by fixed 4-bit windows (256 doublings, 64 masked reads and
/// additions), k_i·P for many scalars by a comb made for P, k·P_i for many points with one shared inversion. No
/// branch and no memory index depends on a secret: the scalar's digits are read with shifts and masks, table
/// entries by scanning every entry under a mask, and the affine result comes from a constant-time inversion (a
/// fixed addition chain). NBitcoin.Secp256k1's libsecp256k1 port did this before (<see cref="Secp256k1NBitcoinMul"/>,
/// kept for the tests that compare the two), 4 to 8 times slower: its constant-time helpers are compiled without
/// optimisation.
/// <para>
/// Why not BouncyCastle: its secp256k1 field code (<c>SecP256K1Field</c>) branches on the data in every addition,
/// subtraction, doubling and reduction (<c>if (c != 0) Nat.Add33To(…)</c>, <c>Nat256.Gte</c> with an early exit),
/// so a point addition's time depends on the coordinates, which depend on the secret digits; a dudect-style test
/// measured |t| = 25 to 70 for Rotor's former BouncyCastle fixed-window k·G (docs/performance.md).
/// </para>
/// Results are handed back as normalised BouncyCastle points with their SEC1 compressed encodings made here, so
/// that the rest of the group code (public, variable-time arithmetic) is unchanged; making that point only touches
/// the result, which is public. Input points are public.
/// </summary>
internal sealed class Secp256k1ConstantTime
{
    private readonly ECCurve curve;
    private readonly Secp256k1Comb generator;
    private readonly ECPoint generatorPoint;

    public Secp256k1ConstantTime(ECCurve curve, ECPoint g)
    {
        this.curve = curve;
        generatorPoint = g.Normalize();
        generator = new Secp256k1Comb(ToProjective(g));
    }

    /// <summary>k·G for k below the group order (k = 0 gives the identity).</summary>
    public (ECPoint Point, byte[]? Encoding) MulBase(in UInt256 k) => FromProjective(generator.Mul(k));

    /// <summary>k·P for k below the group order and any point P (public); the identity when k = 0 or P = O.</summary>
    public (ECPoint Point, byte[]? Encoding) Mul(ECPoint p, in UInt256 k)
    {
        if (p.IsInfinity) return (curve.Infinity, null);
        return FromProjective(Secp256k1Comb.MulVariableBase(ToProjective(p), k));
    }

    /// <summary>k_i·P for many secret k_i and one public P: a comb for P (about 1,000 additions, worth it from about 8 scalars), one shared inversion.</summary>
    public (ECPoint Point, byte[]? Encoding)[] MulMany(ECPoint p, ReadOnlySpan<UInt256> ks)
    {
        var results = new Projective[ks.Length];
        if (p.IsInfinity)
        {
            Array.Fill(results, Projective.Identity);
            return FromProjectiveMany(results);
        }
        var pp = ToProjective(p);
        if (ks.Length < 8)
            for (int i = 0; i < ks.Length; i++) results[i] = Secp256k1Comb.MulVariableBase(pp, ks[i]);
        else
        {
            var comb = p.Equals(generatorPoint) ? generator : new Secp256k1Comb(pp);
            for (int i = 0; i < ks.Length; i++) results[i] = comb.Mul(ks[i]);
        }
        return FromProjectiveMany(results);
    }

    /// <summary>The generator's comb, for <see cref="MulMany(ECPoint, ReadOnlySpan{UInt256})"/> with P = G.</summary>
    public (ECPoint Point, byte[]? Encoding)[] MulBaseMany(ReadOnlySpan<UInt256> ks)
    {
        var results = new Projective[ks.Length];
        for (int i = 0; i < ks.Length; i++) results[i] = generator.Mul(ks[i]);
        return FromProjectiveMany(results);
    }

    /// <summary>k·P_i for one secret k and many public P_i, one shared inversion.</summary>
    public (ECPoint Point, byte[]? Encoding)[] MulMany(ReadOnlySpan<ECPoint> ps, in UInt256 k)
    {
        var results = new Projective[ps.Length];
        for (int i = 0; i < ps.Length; i++)
            results[i] = ps[i].IsInfinity ? Projective.Identity : Secp256k1Comb.MulVariableBase(ToProjective(ps[i]), k);
        return FromProjectiveMany(results);
    }

    internal static Projective ToProjective(ECPoint p)
    {
        var a = p.Normalize();
        return Projective.FromAffine(Fe.FromBigEndian(a.AffineXCoord.GetEncoded()), Fe.FromBigEndian(a.AffineYCoord.GetEncoded()));
    }

    private (ECPoint, byte[]?) FromProjective(in Projective r)
    {
        r.ToAffine(out var x, out var y, out var isIdentity);
        return FromAffine(x, y, isIdentity);
    }

    private (ECPoint, byte[]?)[] FromProjectiveMany(Projective[] rs)
    {
        var xs = new Fe[rs.Length];
        var ys = new Fe[rs.Length];
        var ids = new ulong[rs.Length];
        Projective.ToAffineMany(rs, xs, ys, ids);
        Array.Clear(rs);
        var result = new (ECPoint, byte[]?)[rs.Length];
        for (int i = 0; i < result.Length; i++) result[i] = FromAffine(xs[i], ys[i], ids[i]);
        return result;
    }

    /// <summary>The BouncyCastle point and encoding of a (public) result; only the identity takes another path, which the result shows anyway.</summary>
    private (ECPoint, byte[]?) FromAffine(in Fe x, in Fe y, ulong isIdentity)
    {
        if (isIdentity != 0) return (curve.Infinity, null);
        var encoding = new byte[33];
        Span<byte> yBytes = stackalloc byte[32];
        x.WriteBigEndian(encoding.AsSpan(1));
        y.WriteBigEndian(yBytes);
        encoding[0] = (byte)(0x02 | (yBytes[31] & 1));
        var point = curve.CreatePoint(new BcBigInteger(1, encoding, 1, 32), new BcBigInteger(1, yBytes));
        return (point, encoding);
    }
}
