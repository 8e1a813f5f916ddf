using System.Numerics;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Tests;

/// <summary>
/// Rotor's constant-time secp256k1 arithmetic (<see cref="Fe"/>, <see cref="Projective"/>, <see cref="Secp256k1Comb"/>)
/// against independent implementations: System.Numerics.BigInteger for the field, BouncyCastle's variable-time
/// multiplication and NBitcoin.Secp256k1's constant-time one for the group, on random and edge values.
/// </summary>
public class Secp256k1ConstantTimeTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static readonly BigInteger P = BigInteger.Pow(2, 256) - BigInteger.Pow(2, 32) - 977;

    private static BigInteger Big(in Fe f) => new UInt256(f.L0, f.L1, f.L2, f.L3).ToBigInteger();

    private static Fe FromBig(BigInteger v)
    {
        var u = UInt256.FromBigInteger(v);
        return new Fe(u.L0, u.L1, u.L2, u.L3);
    }

    private static IEnumerable<BigInteger> FieldValues()
    {
        yield return 0;
        yield return 1;
        yield return 2;
        yield return P - 1;
        yield return P - 2;
        yield return BigInteger.Pow(2, 256) - BigInteger.Pow(2, 32) - 978; // p − 1
        yield return BigInteger.Pow(2, 255);
        yield return BigInteger.Pow(2, 64) - 1;
        yield return BigInteger.Pow(2, 128);
        yield return P - BigInteger.Pow(2, 64);
        for (int i = 0; i < 200; i++)
            yield return new BigInteger(RandomNumberGenerator.GetBytes(32), isUnsigned: true) % P;
        for (int i = 0; i < 50; i++) // values near p
            yield return P - 1 - new BigInteger(RandomNumberGenerator.GetBytes(5), isUnsigned: true);
    }

    [Fact]
    public void Field_operations_agree_with_BigInteger_on_random_and_edge_values()
    {
        var values = FieldValues().ToArray();
        var rnd = new Random(3);
        foreach (var a in values)
        {
            var b = values[rnd.Next(values.Length)];
            var fa = FromBig(a);
            var fb = FromBig(b);
            Assert.Equal((a + b) % P, Big(fa + fb));
            Assert.Equal(((a - b) % P + P) % P, Big(fa - fb));
            Assert.Equal((P - a) % P, Big(-fa));
            Assert.Equal(a * b % P, Big(fa * fb));
            Assert.Equal(a * a % P, Big(fa.Square()));
            Assert.Equal(a.IsZero ? 0 : BigInteger.ModPow(a, P - 2, P), Big(fa.Invert()));
            Assert.Equal(a.IsZero ? ulong.MaxValue : 0UL, fa.IsZeroMask());
        }
        // products of the largest values (the reduction's carries)
        var max = FromBig(P - 1);
        Assert.Equal(BigInteger.One, Big(max * max));
    }

    private static IEnumerable<Scalar> Scalars()
    {
        yield return G.ScalarFromUInt64(1);
        yield return G.ScalarFromUInt64(2);
        yield return G.ScalarFromUInt64(15);
        yield return G.ScalarFromUInt64(16);
        yield return -G.ScalarFromUInt64(1);
        yield return -G.ScalarFromUInt64(16);
        yield return G.ReduceWide(RandomNumberGenerator.GetBytes(16)); // short
        for (int i = 0; i < 24; i++) yield return G.RandomScalar();
    }

    [Fact]
    public void MulBase_and_Mul_agree_with_BouncyCastle_and_NBitcoin()
    {
        var nb = new Secp256k1NBitcoinMul(G.Curve);
        var p = G.MulVartime(G.Generator, G.RandomScalar());
        foreach (var k in Scalars())
        {
            var expectG = G.MulVartime(G.Generator, k);
            var kG = G.MulBase(k);
            Assert.Equal(expectG, kG);
            Assert.Equal(expectG.Encoding.ToArray(), kG.Encoding.ToArray());
            Assert.Equal(expectG.Encoding.ToArray(), nb.MulBase(k.Value).Encoding);
            var expectP = G.MulVartime(p, k);
            var kP = G.Mul(p, k);
            Assert.Equal(expectP, kP);
            Assert.Equal(expectP.Encoding.ToArray(), kP.Encoding.ToArray());
            Assert.Equal(expectP.Encoding.ToArray(), nb.Mul(G.Point(p), k.Value).Encoding);
        }
        Assert.True(G.MulBase(G.Zero).IsIdentity);
        Assert.True(G.Mul(p, G.Zero).IsIdentity);
        Assert.True(G.Mul(G.Identity, G.RandomScalar()).IsIdentity);
    }

    [Fact]
    public void MulMany_agrees_with_one_multiplication_at_a_time()
    {
        var p = G.MulBase(G.RandomScalar());
        var ks = Scalars().Append(G.Zero).ToArray();
        var many = G.MulMany(p, ks);
        var few = G.MulMany(p, ks.AsSpan(0, 3));
        var bases = G.MulBaseMany(ks);
        var onG = G.MulMany(G.Generator, ks);
        for (int i = 0; i < ks.Length; i++)
        {
            Assert.Equal(G.MulVartime(p, ks[i]), many[i]);
            Assert.Equal(G.MulVartime(G.Generator, ks[i]), bases[i]);
            Assert.Equal(bases[i], onG[i]);
            Assert.Equal(G.MulVartime(p, ks[i]).Encoding.ToArray(), many[i].Encoding.ToArray());
        }
        for (int i = 0; i < 3; i++) Assert.Equal(many[i], few[i]);
        var points = Enumerable.Range(0, 10).Select(_ => G.MulBase(G.RandomScalar())).Append(G.Identity).ToArray();
        var k = G.RandomScalar();
        var each = G.MulMany(points, k);
        for (int i = 0; i < points.Length; i++) Assert.Equal(G.MulVartime(points[i], k), each[i]);
    }

    [Fact]
    public void Complete_formulas_handle_the_identity_doubling_and_inverse_points()
    {
        var pk = G.MulBase(G.RandomScalar());
        var p = Secp256k1ConstantTime.ToProjective(G.Point(pk));
        var neg = Secp256k1ConstantTime.ToProjective(G.Point(-pk));
        static bool IsId(in Projective q) { q.ToAffine(out _, out _, out var id); return id != 0; }
        static BigInteger X(in Projective q) { q.ToAffine(out var x, out _, out _); return Big(x); }
        Assert.True(IsId(Projective.Add(p, neg)));
        Assert.True(IsId(Projective.Identity.Double()));
        Assert.True(IsId(Projective.Add(Projective.Identity, Projective.Identity)));
        Assert.Equal(X(p), X(Projective.Add(p, Projective.Identity)));
        Assert.Equal(X(p), X(Projective.Add(Projective.Identity, p)));
        Assert.Equal(X(p.Double()), X(Projective.Add(p, p)));
        var twice = G.Point(pk + pk).Normalize().AffineXCoord.ToBigInteger();
        Assert.Equal(new BigInteger(twice.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true), X(Projective.Add(p, p)));
    }
}
