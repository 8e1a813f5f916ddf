using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Tests;

/// <summary>
/// The group's secret-scalar multiplications (NBitcoin.Secp256k1's constant-time k·G and k·P, and the batched forms
/// built on them) against BouncyCastle's variable-time multiplication, on random and edge scalars and the identity.
/// </summary>
public class Secp256k1ConstantTimeTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;

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
    public void MulBase_and_Mul_agree_with_BouncyCastle()
    {
        var p = G.MulVartime(G.Generator, G.RandomScalar());
        foreach (var k in Scalars())
        {
            var expectG = G.MulVartime(G.Generator, k);
            var kG = G.MulBase(k);
            Assert.Equal(expectG, kG);
            Assert.Equal(expectG.Encoding.ToArray(), kG.Encoding.ToArray());
            var expectP = G.MulVartime(p, k);
            var kP = G.Mul(p, k);
            Assert.Equal(expectP, kP);
            Assert.Equal(expectP.Encoding.ToArray(), kP.Encoding.ToArray());
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
}
