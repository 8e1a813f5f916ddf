using System.Numerics;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Ed25519;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Tests;

/// <summary>
/// <see cref="Group.AddMulBaseVartime"/> (the fixed-base tables used by HD derivation) against the constant-time
/// k·G of libsodium / NBitcoin.Secp256k1 and the generic addition, and the secp256k1 field code under it against
/// BigInteger arithmetic, including the digits and values at the edges (carries, −128 digits, p − 1, n − 1).
/// </summary>
public class FixedBaseTests
{
    public static TheoryData<string> Groups => new("Ed25519", "secp256k1");

    private static Group G(string name) => name == "Ed25519" ? Ed25519Group.Instance : Secp256k1Group.Instance;

    private static IEnumerable<Scalar> EdgeScalars(Group g)
    {
        yield return g.Zero;
        yield return g.One;
        yield return -g.One;                                             // n − 1
        yield return g.ScalarFromUInt64(128);                            // a digit of exactly 128: −128 with a carry
        yield return g.ScalarFromUInt64(255);
        yield return g.ScalarFromUInt64(256);
        yield return g.ScalarFromUInt64(512);                            // a base-1024 digit of exactly 512
        yield return g.ScalarFromUInt64(1023);
        yield return g.ScalarFromUInt64(1024);
        var bytes = new byte[32];
        Array.Fill(bytes, (byte)0x80);
        yield return g.ReduceWide(bytes);                                // every digit −128 with carries
        Array.Fill(bytes, (byte)0xFF);
        yield return g.ReduceWide(bytes);
        Array.Fill(bytes, (byte)0x7F);
        yield return g.ReduceWide(bytes);
        yield return g.ReduceWide(BigInteger.Pow(2, 252).ToByteArray(isUnsigned: true, isBigEndian: g is Secp256k1Group));
        // secp256k1's base-8192 digits: exactly 4096 (−4096 with a carry), 8191, 8192, and every digit 4096
        // (and the same for base 4096, should the window width change)
        foreach (int bits in new[] { 12, 13 })
        {
            yield return g.ScalarFromUInt64(1UL << (bits - 1));
            yield return g.ScalarFromUInt64((1UL << bits) - 1);
            yield return g.ScalarFromUInt64(1UL << bits);
            var halves = Enumerable.Range(0, (256 - bits) / bits + 1).Aggregate(BigInteger.Zero, (v, i) => v + (BigInteger.One << (bits * i + bits - 1)));
            var wide = new byte[64];
            var b = (halves % g.Order).ToByteArray(isUnsigned: true, isBigEndian: g is Secp256k1Group);
            b.CopyTo(wide, g is Secp256k1Group ? 64 - b.Length : 0);
            yield return g.ReduceWide(wide);
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Add_mul_base_equals_the_constant_time_multiplication_plus_the_addition(string name)
    {
        var g = G(name);
        var points = new List<Element> { g.Identity, g.Generator, -g.Generator };
        for (int i = 0; i < 5; i++) points.Add(g.MulBase(g.RandomScalar()));
        // sums made by the generic addition (secp256k1: Jacobian points, not normalised, made affine by the fast path),
        // their negations, and a sum that is the identity
        points.Add(points[3] + points[4]);
        points.Add(-(points[5] + points[6]));
        points.Add(points[3] + g.Generator + points[7]);
        points.Add(points[4] + (-points[4]));
        var scalars = EdgeScalars(g).ToList();
        for (int i = 0; i < 40; i++) scalars.Add(g.RandomScalar());
        foreach (var p in points)
            foreach (var k in scalars)
            {
                var expected = p + g.MulBase(k);
                var fast = g.AddMulBaseVartime(p, k);
                Assert.Equal(Convert.ToHexString(expected.Encoding), Convert.ToHexString(fast.Encoding));
                Assert.True(fast.Equals(expected));
                Assert.Equal(expected.IsIdentity, fast.IsIdentity);
                // the result is usable in further (generic) arithmetic
                Assert.True((fast + g.Generator).Equals(expected + g.Generator));
                Assert.True((-fast).Equals(-expected));
                Assert.Equal(Convert.ToHexString((-expected).Encoding), Convert.ToHexString((-fast).Encoding));
            }
        Assert.True(g.MulBaseVartime(g.One).Equals(g.Generator));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void A_sum_that_cancels_is_the_identity_and_a_fast_result_feeds_the_next_step(string name)
    {
        var g = G(name);
        var s = g.RandomScalar();
        var p = g.MulBase(s);
        Assert.True(g.AddMulBaseVartime(p, -s).IsIdentity);
        // P + s·G with P = s·G is 2P
        Assert.True(g.AddMulBaseVartime(p, s).Equals(g.MulBase(s + s)));
        // chains of fast steps, as derivation makes them, against the constant-time reference
        Element fast = p, slow = p;
        for (int i = 0; i < 6; i++)
        {
            var t = g.RandomScalar();
            fast = g.AddMulBaseVartime(i % 2 == 0 ? fast : -fast, t);
            slow = (i % 2 == 0 ? slow : -slow) + g.MulBase(t);
            Assert.Equal(Convert.ToHexString(slow.Encoding), Convert.ToHexString(fast.Encoding));
        }
    }

    private static readonly BigInteger P = BigInteger.Pow(2, 256) - BigInteger.Pow(2, 32) - 977;

    private static BigInteger Big(UInt256 v) => v.ToBigInteger();
    private static UInt256 U(BigInteger v) => UInt256.FromBigInteger(v);

    [Fact]
    public void Secp256k1_field_arithmetic_equals_big_integer_arithmetic()
    {
        var values = new List<BigInteger> { 0, 1, 2, P - 1, P - 2, BigInteger.Pow(2, 255), BigInteger.Pow(2, 64) - 1, BigInteger.Pow(2, 192), P - BigInteger.Pow(2, 32) };
        for (int i = 0; i < 200; i++) values.Add(new BigInteger(RandomNumberGenerator.GetBytes(32), isUnsigned: true) % P);
        foreach (var a in values)
        {
            if (!a.IsZero) Assert.Equal(BigInteger.ModPow(a, P - 2, P), Big(Secp256k1FixedBase.Inverse(U(a))));
            Assert.Equal((P - a) % P, Big(Secp256k1FixedBase.Neg(U(a))));
            Assert.Equal(a * a % P, Big(Secp256k1FixedBase.Sqr(U(a))));
            foreach (var b in values.Take(12).Concat(values.Skip(12).Take(3)))
            {
                Assert.Equal(a * b % P, Big(Secp256k1FixedBase.Mul(U(a), U(b))));
                Assert.Equal((a + b) % P, Big(Secp256k1FixedBase.Add(U(a), U(b))));
                Assert.Equal(((a - b) % P + P) % P, Big(Secp256k1FixedBase.Sub(U(a), U(b))));
            }
        }
    }

    /// <summary>Values whose 64-bit limbs are 0, 1, 2^63, 2^64 − 1 and so on: the carries of products and reductions at their edges.</summary>
    private static IEnumerable<BigInteger> LimbEdgeValues()
    {
        ulong[] limbs = [0, 1, 2, 0x8000000000000000UL, ulong.MaxValue, ulong.MaxValue - 1, 0xFFFFFFFEFFFFFC2FUL, 0x1000003D1UL, 0x7FFFFFFFFFFFFFFFUL, 1UL << 62];
        var rng = new Random(5);
        for (int i = 0; i < 400; i++)
        {
            var v = BigInteger.Zero;
            for (int j = 3; j >= 0; j--) v = (v << 64) + limbs[rng.Next(limbs.Length)];
            yield return v % P;
        }
    }

    [Fact]
    public void Secp256k1_field_products_and_inverses_at_limb_edges_and_random_values_equal_big_integer_arithmetic()
    {
        var values = LimbEdgeValues().ToList();
        values.AddRange([1, 2, 3, P - 1, P - 2, (P + 1) / 2, BigInteger.Pow(2, 128), BigInteger.Pow(2, 255) - 19]);
        for (int i = 0; i < 3000; i++) values.Add(new BigInteger(RandomNumberGenerator.GetBytes(32), isUnsigned: true) % P);
        var rng = new Random(9);
        foreach (var a in values)
        {
            var b = values[rng.Next(values.Count)];
            Assert.Equal(a * b % P, Big(Secp256k1FixedBase.Mul(U(a), U(b))));
            Assert.Equal(a * a % P, Big(Secp256k1FixedBase.Sqr(U(a))));
            Assert.Equal((a + b) % P, Big(Secp256k1FixedBase.Add(U(a), U(b))));
            Assert.Equal(((a - b) % P + P) % P, Big(Secp256k1FixedBase.Sub(U(a), U(b))));
            if (a.IsZero) continue;
            // the divstep inversion against Fermat and against the binary Euclid it replaced
            var inv = Secp256k1FixedBase.Inverse(U(a));
            Assert.Equal(BigInteger.ModPow(a, P - 2, P), Big(inv));
            Assert.Equal(Big(VartimeInverse.ModInverse(U(a), Secp256k1FixedBase.P)), Big(inv));
        }
        Assert.Throws<DivideByZeroException>(() => Secp256k1FixedBase.Inverse(default));
    }

    [Fact]
    public void Secp256k1_add_mul_base_equals_plain_bouncy_castle_arithmetic_for_random_points_and_tweaks()
    {
        // property: for random public P (affine from the fast path, or Jacobian from generic additions) and random
        // k, the fast P + k·G has the encoding of BouncyCastle's own P + k·G (its generic multiplication and addition)
        var g = Secp256k1Group.Instance;
        var rng = new Random(1234);
        Element p = g.MulBase(g.RandomScalar());
        for (int i = 0; i < 300; i++)
        {
            var bytes = new byte[32];
            rng.NextBytes(bytes);
            var k = i % 50 == 0 ? g.ScalarFromUInt64((ulong)rng.Next(0, 5000)) : g.ReduceWide(bytes);
            var plain = g.Point(p).Add(g.G.Multiply(Secp256k1Group.ToBc(k))).Normalize();
            var fast = g.AddMulBaseVartime(p, k);
            Assert.Equal(Convert.ToHexString(plain.GetEncoded(true)), Convert.ToHexString(fast.Encoding));
            // the next input: the fast result (affine), its negation, or a generic sum (Jacobian, not normalised)
            p = (i % 3) switch { 0 => fast, 1 => -fast, _ => fast + g.Generator };
        }
    }
}
