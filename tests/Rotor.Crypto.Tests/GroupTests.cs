using System.Numerics;
using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Ed25519;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Tests;

public class GroupTests
{
    public static TheoryData<string> Groups => new() { "ed25519", "secp256k1" };

    internal static Group Get(string name) => name == "ed25519" ? Ed25519Group.Instance : Secp256k1Group.Instance;

    [Theory, MemberData(nameof(Groups))]
    public void ScalarArithmeticMatchesBigInteger(string name)
    {
        var g = Get(name);
        var n = g.Order;
        for (int i = 0; i < 200; i++)
        {
            var a = g.RandomScalar();
            var b = i % 10 == 0 ? g.ScalarFromUInt64((ulong)i) : g.RandomScalar();
            BigInteger x = a.ToBigInteger(), y = b.ToBigInteger();
            Assert.Equal((x + y) % n, (a + b).ToBigInteger());
            Assert.Equal(((x - y) % n + n) % n, (a - b).ToBigInteger());
            Assert.Equal(x * y % n, (a * b).ToBigInteger());
            Assert.Equal((n - x) % n, (-a).ToBigInteger());
            Assert.Equal(g.One, a * a.Invert());
            Assert.Equal(a, g.DecodeScalar(a.ToBytes()));
        }
    }

    [Theory, MemberData(nameof(Groups))]
    public void ReduceWideMatchesBigInteger(string name)
    {
        var g = Get(name);
        bool le = name == "ed25519";
        for (int len = 1; len <= 64; len += 7)
        {
            var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(len);
            var v = new BigInteger(bytes, isUnsigned: true, isBigEndian: !le);
            Assert.Equal(v % g.Order, g.ReduceWide(bytes).ToBigInteger());
        }
    }

    [Theory, MemberData(nameof(Groups))]
    public void NonCanonicalScalarIsRefused(string name)
    {
        var g = Get(name);
        var bytes = new byte[32];
        var order = g.Order.ToByteArray(isUnsigned: true, isBigEndian: name != "ed25519");
        order.CopyTo(bytes, 0);
        var e = Assert.Throws<InvalidEncodingException>(() => g.DecodeScalar(bytes));
        Assert.Equal(EncodingError.NonCanonical, e.Error);
        Assert.Equal(EncodingError.WrongLength, Assert.Throws<InvalidEncodingException>(() => g.DecodeScalar(new byte[31])).Error);
    }

    [Theory, MemberData(nameof(Groups))]
    public void BaseAndVariableMultiplicationAgree(string name)
    {
        var g = Get(name);
        Assert.Equal(g.Generator, g.MulBase(g.One));
        Assert.True(g.MulBase(g.Zero).IsIdentity);
        for (int i = 0; i < 20; i++)
        {
            var a = g.RandomScalar();
            var b = g.RandomScalar();
            var pa = g.MulBase(a);
            Assert.Equal(pa, g.Generator * a);
            Assert.Equal(g.MulBase(a + b), pa + g.MulBase(b));
            Assert.Equal(g.MulBase(a * b), pa * b);
            Assert.Equal(g.MulBase(a - b), pa - g.MulBase(b));
            Assert.Equal(pa, g.DecodeElement(pa.ToBytes()));
            Assert.True((pa + (-pa)).IsIdentity);
        }
    }

    /// <summary>The constant-time k·P agrees with the variable-time one, on random and edge scalars and points.</summary>
    [Theory, MemberData(nameof(Groups))]
    public void ConstantTimeMultiplicationAgreesWithVariableTime(string name)
    {
        var g = Get(name);
        var p = g.MulBase(g.RandomScalar()) + g.Generator;       // a computed point, as protocols hold them
        Assert.True(g.Mul(p, g.Zero).IsIdentity);
        Assert.True(g.Mul(g.Identity, g.RandomScalar()).IsIdentity);
        Assert.Equal(p, g.Mul(p, g.One));
        Assert.Equal(-p, g.Mul(p, -g.One));
        Assert.Equal(g.Generator, g.Mul(g.Generator, g.One));
        for (int i = 0; i < 30; i++)
        {
            var k = i < 10 ? g.ScalarFromUInt64((ulong)i * 977) : g.RandomScalar();
            var q = g.Mul(p, k);
            Assert.Equal(p * k, q);
            Assert.Equal((p * k).ToBytes(), q.ToBytes());
            Assert.Equal(g.MulBase(k), g.Mul(g.Generator, k));
            Assert.Equal(q, g.DecodeElement(q.ToBytes(), allowIdentity: true));
        }
    }

    /// <summary>
    /// The blinded k·P ((k − b)·P + b·P with a fresh b each call) gives the one k·P every time, and so do the forms
    /// that may leave the blinding out (<c>MulSingleUse</c>, the batch forms), also for k = 0, ±1 and 2k and for the
    /// identity as P. (k = 0 through <c>Mul</c>, where the two blinded terms are opposite, is in the test above.)
    /// </summary>
    [Theory, MemberData(nameof(Groups))]
    public void BlindedMultiplicationIsTheSameProductOnEveryCall(string name)
    {
        var g = Get(name);
        var p = g.MulBase(g.RandomScalar());
        var k = g.RandomScalar();
        var expected = p * k;
        for (int i = 0; i < 20; i++) Assert.Equal(expected.ToBytes(), g.Mul(p, k).ToBytes());
        Assert.Equal(expected.ToBytes(), g.MulSingleUse(p, k).ToBytes());
        Assert.True(g.MulSingleUse(p, g.Zero).IsIdentity);
        Assert.True(g.MulSingleUse(g.Identity, k).IsIdentity);
        var ks = new[] { k, g.Zero, g.One, -g.One, k + k };
        var many = g.MulMany(p, ks);
        for (int i = 0; i < ks.Length; i++) Assert.Equal((p * ks[i]).ToBytes(), many[i].ToBytes());
        var points = new[] { p, g.Generator, -p, p + p };
        var byPoint = g.MulMany(points, k);
        for (int i = 0; i < points.Length; i++) Assert.Equal((points[i] * k).ToBytes(), byPoint[i].ToBytes());
        Assert.True(g.MulMany(g.Identity, ks).All(e => e.IsIdentity));
    }

    [Theory]
    [InlineData("ed25519", 1)] [InlineData("ed25519", 7)] [InlineData("ed25519", 60)] [InlineData("ed25519", 700)]
    [InlineData("secp256k1", 1)] [InlineData("secp256k1", 7)] [InlineData("secp256k1", 60)]
    public void MultiScalarMultiplicationMatchesNaiveSum(string name, int n)
    {
        var g = Get(name);
        var ks = new Scalar[n];
        var ps = new Element[n];
        Element expected = g.Identity;
        for (int i = 0; i < n; i++)
        {
            ks[i] = i % 5 == 0 ? g.ScalarFromUInt64((ulong)i) : g.RandomScalar();
            ps[i] = g.MulBase(g.RandomScalar());
            expected += ps[i] * ks[i];
        }
        Assert.Equal(expected, g.MultiMulVartime(ks, ps));
    }

    [Fact]
    public void Ed25519GeneratorEncoding() =>
        Assert.Equal("5866666666666666666666666666666666666666666666666666666666666666", Ed25519Group.Instance.Generator.ToHex());

    [Fact]
    public void Secp256k1GeneratorEncoding() =>
        Assert.Equal("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Secp256k1Group.Instance.Generator.ToHex());

    [Theory]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000", EncodingError.Identity)]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", EncodingError.SmallOrder)]    // (0, -1), order 2
    [InlineData("0000000000000000000000000000000000000000000000000000000000000080", EncodingError.SmallOrder)]    // (sqrt(-1), 0)-type order 4
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", EncodingError.NonCanonical)]  // y = p
    [InlineData("0200000000000000000000000000000000000000000000000000000000000000", EncodingError.NotOnCurve)]
    public void Ed25519DecodingSaysWhatIsWrong(string hex, EncodingError expected)
    {
        var e = Assert.Throws<InvalidEncodingException>(() => Ed25519Group.Instance.DecodeElement(Convert.FromHexString(hex)));
        Assert.Equal(expected, e.Error);
    }

    [Fact]
    public void Ed25519TorsionComponentIsRefused()
    {
        var g = Ed25519Group.Instance;
        var t8 = Rotor.Crypto.Groups.Ed25519.EdwardsPoint.Decompress(
            Convert.FromHexString("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), out _)!; // order 8
        var gen = Rotor.Crypto.Groups.Ed25519.EdwardsPoint.Decompress(g.Generator.ToBytes(), out _)!;
        var sum = new Rotor.Crypto.Groups.Ed25519.EdwardsPoint();
        Rotor.Crypto.Groups.Ed25519.EdwardsPoint.Add(gen, t8, sum, Rotor.Crypto.Groups.Ed25519.EdwardsPoint.Temps.Current);
        var e = Assert.Throws<InvalidEncodingException>(() => g.DecodeElement(sum.Compress()));
        Assert.Equal(EncodingError.NotInPrimeOrderSubgroup, e.Error);
        Assert.Equal(EncodingError.SmallOrder, Assert.Throws<InvalidEncodingException>(() => g.DecodeElement(t8.Compress())).Error);
    }

    [Theory]
    [InlineData("020000000000000000000000000000000000000000000000000000000000000000", EncodingError.NotOnCurve)]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000000", EncodingError.Identity)]
    [InlineData("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", EncodingError.NonCanonical)]
    [InlineData("02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30", EncodingError.NonCanonical)]
    public void Secp256k1DecodingSaysWhatIsWrong(string hex, EncodingError expected)
    {
        var e = Assert.Throws<InvalidEncodingException>(() => Secp256k1Group.Instance.DecodeElement(Convert.FromHexString(hex)));
        Assert.Equal(expected, e.Error);
    }
}
