using RandomNumberGenerator = System.Security.Cryptography.RandomNumberGenerator;
using CryptographicOperations = System.Security.Cryptography.CryptographicOperations;
using Org.BouncyCastle.Math.EC;
using NBitcoin.Secp256k1;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using NbScalar = NBitcoin.Secp256k1.Scalar;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// Every multiplication of a secp256k1 point by a secret scalar, by NBitcoin.Secp256k1 (a constant-time C# port of
/// libsecp256k1, a library, as the project's rule for primitives asks: a home-made constant-time field and point
/// arithmetic, 2-3x faster, was measured and not adopted; docs/performance.md). k·G by its <see cref="ECMultGenContext"/> (64 additions of entries read from a table of
/// 16 by scanning every entry under a mask, with libsecp256k1's branch-free mixed addition and a blinded scalar and
/// randomised projective start point), and k·P by <see cref="GE.MultConst"/> (libsecp256k1's ecmult_const:
/// signed fixed windows over the GLV split, every digit read by a masked scan), twice: k·P = (k − b)·P + b·P with a
/// fresh random b, so that the data it works on is fresh and random whatever k is (ecmult_const itself, unlike
/// ecmult_gen, has no blinding; docs/performance.md, session 8, for what a repeated secret showed without it). The affine result is made with a
/// constant-time field inversion (an exponentiation), never BouncyCastle's branching arithmetic.
/// <para>
/// Why not BouncyCastle: its secp256k1 field code (<c>SecP256K1Field</c>) branches on the data in every addition,
/// subtraction, doubling and reduction (<c>if (c != 0) Nat.Add33To(…)</c>, <c>Nat256.Gte</c> with an early exit),
/// so a point addition's time depends on the coordinates, which depend on the secret digits; a dudect-style test
/// measured |t| = 25 to 70 for Rotor's former BouncyCastle fixed-window k·G (docs/performance.md).
/// </para>
/// The result is handed back as a normalised BouncyCastle point, with its SEC1 compressed encoding made here, so
/// that the rest of the group code (public, variable-time arithmetic) is unchanged; making that point only touches
/// the result, which is public.
/// </summary>
internal sealed class Secp256k1NBitcoinMul
{
    private readonly ECCurve curve;
    private readonly ECMultGenContext gen;

    public Secp256k1NBitcoinMul(ECCurve curve)
    {
        this.curve = curve;
        // A context of our own, blinded from a fresh random seed: the package's shared instance is blinded from a
        // fixed seed, so its blinding values would be the same in every process.
        gen = new ECMultGenContext();
        var seed = RandomNumberGenerator.GetBytes(32);
        gen.Blind(seed);
        CryptographicOperations.ZeroMemory(seed);
    }

    /// <summary>k·G for k below the group order (k = 0 gives the identity).</summary>
    public (ECPoint Point, byte[]? Encoding) MulBase(in UInt256 k)
    {
        var s = ToScalar(k);
        var r = gen.MultGen(s);
        NbScalar.Clear(ref s);
        return FromJacobian(r);
    }

    /// <summary>
    /// k·P for k = k1 + k2 below the group order and any point P (public), as k1·P + k2·P: the caller splits its secret
    /// k with a fresh random k2 (<see cref="Secp256k1Group.Mul"/>), so that both constant-time multiplications work on
    /// fresh random data whatever k is, and only the final addition and the affine result see k·P. The identity when
    /// k = 0 or P = O.
    /// </summary>
    public (ECPoint Point, byte[]? Encoding) Mul(ECPoint p, in UInt256 k1, in UInt256 k2)
    {
        if (p.IsInfinity) return (curve.Infinity, null);
        var ge = Affine(p);
        var s1 = ToScalar(k1);
        var s2 = ToScalar(k2);
        // bits = 256: the maximum bit length of |q| plus one, as ecmult_const asks (the GLV split is taken above 128)
        var r1 = ge.MultConst(s1, 256);
        var r2 = ge.MultConst(s2, 256);
        NbScalar.Clear(ref s1);
        NbScalar.Clear(ref s2);
        // Both terms are uniformly random points given k·P; the addition's special cases (a term at infinity, equal or
        // opposite terms) happen only for k1 or k2 = 0 or k1 = ±k2, i.e. k = 0 (the result shows it) or with
        // probability 2^-255.
        return FromJacobian(r1.AddVariable(r2));
    }

    /// <summary>
    /// k·P by one ecmult_const, not blinded: for the batch forms, where every product is of another point or another
    /// scalar by construction, and for a secret used once (<see cref="Secp256k1Group.MulSingleUse"/>).
    /// </summary>
    public (ECPoint Point, byte[]? Encoding) MulUnblinded(ECPoint p, in UInt256 k)
    {
        if (p.IsInfinity) return (curve.Infinity, null);
        var s = ToScalar(k);
        var r = Affine(p).MultConst(s, 256);
        NbScalar.Clear(ref s);
        return FromJacobian(r);
    }

    /// <summary>k_i·P for many secret k_i and one public P (not blinded: every product is of another scalar).</summary>
    public (ECPoint Point, byte[]? Encoding)[] MulMany(ECPoint p, ReadOnlySpan<UInt256> ks)
    {
        var r = new (ECPoint, byte[]?)[ks.Length];
        for (int i = 0; i < r.Length; i++) r[i] = MulUnblinded(p, ks[i]);
        return r;
    }

    /// <summary>k_i·G for many secret k_i.</summary>
    public (ECPoint Point, byte[]? Encoding)[] MulBaseMany(ReadOnlySpan<UInt256> ks)
    {
        var r = new (ECPoint, byte[]?)[ks.Length];
        for (int i = 0; i < r.Length; i++) r[i] = MulBase(ks[i]);
        return r;
    }

    /// <summary>k·P_i for one secret k and many public P_i (not blinded: every product is of another point).</summary>
    public (ECPoint Point, byte[]? Encoding)[] MulMany(ReadOnlySpan<ECPoint> ps, in UInt256 k)
    {
        var r = new (ECPoint, byte[]?)[ps.Length];
        for (int i = 0; i < r.Length; i++) r[i] = MulUnblinded(ps[i], k);
        return r;
    }

    /// <summary>A public point (not the identity) as NBitcoin's affine point.</summary>
    private static GE Affine(ECPoint p)
    {
        var a = p.Normalize();
        return new GE(new FE(a.AffineXCoord.GetEncoded()), new FE(a.AffineYCoord.GetEncoded()));
    }

    private static NbScalar ToScalar(in UInt256 k) => new(
        (uint)k.L0, (uint)(k.L0 >> 32), (uint)k.L1, (uint)(k.L1 >> 32),
        (uint)k.L2, (uint)(k.L2 >> 32), (uint)k.L3, (uint)(k.L3 >> 32));

    /// <summary>
    /// The affine point of a Jacobian result, by NBitcoin's constant-time inversion (the result's Z depends on the
    /// secret), and its compressed encoding. Only the identity (k = 0) takes another path, which the result shows anyway.
    /// </summary>
    private (ECPoint, byte[]?) FromJacobian(in GEJ r)
    {
        var a = r.ToGroupElement();
        if (a.IsInfinity) return (curve.Infinity, null);
        var x = a.x.Normalize();
        var y = a.y.Normalize();
        var encoding = new byte[33];
        Span<byte> yBytes = stackalloc byte[32];
        x.WriteToSpan(encoding.AsSpan(1));
        y.WriteToSpan(yBytes);
        encoding[0] = (byte)(0x02 | (yBytes[31] & 1));
        var point = curve.CreatePoint(new BcBigInteger(1, encoding, 1, 32), new BcBigInteger(1, yBytes));
        return (point, encoding);
    }
}
