using FsCheck;
using FsCheck.Fluent;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Crypto.Tests;

public class SharingTests
{
    private static Identifier[] Ids(Group g, int n) => Enumerable.Range(1, n).Select(i => Identifier.FromUInt64(g, (ulong)i)).ToArray();

    private static Scalar InterpolateAtZero(IReadOnlyList<(Identifier Id, Scalar Share)> pts)
    {
        var ids = pts.Select(p => p.Id).ToArray();
        var acc = ids[0].Group.Zero;
        foreach (var (id, s) in pts) acc += Lagrange.AtZero(id, ids) * s;
        return acc;
    }

    /// <summary>Random (t, n) with 1 ≤ t ≤ n ≤ 12, a group, and a seed for choosing subsets.</summary>
    private static Arbitrary<(int T, int N, bool Ed, int Seed)> Params() =>
        (from n in Gen.Choose(1, 12)
         from t in Gen.Choose(1, n)
         from ed in Gen.Elements(true, false)
         from seed in Gen.Choose(0, int.MaxValue)
         select (t, n, ed, seed)).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 40)]
    public Property AnyTSharesDetermineTheSecretAndTMinusOneDoNot() => Prop.ForAll(Params(), p =>
    {
        Group g = p.Ed ? Groups.Ed25519.Ed25519Group.Instance : Groups.Secp256k1.Secp256k1Group.Instance;
        var rnd = new Random(p.Seed);
        var secret = g.RandomScalar();
        var poly = Polynomial.Random(secret, p.T - 1);
        var shares = Ids(g, p.N).Select(i => (Id: i, Share: poly.Evaluate(i))).ToArray();
        var subset = shares.OrderBy(_ => rnd.Next()).Take(p.T).ToArray();
        bool tDetermine = InterpolateAtZero(subset) == secret;
        // t−1 shares: for a random second secret there is a polynomial of the same degree agreeing with all
        // t−1 shares (so they cannot tell the two secrets apart), and interpolating the t−1 alone misses it.
        bool tMinusOneDoNot = true;
        if (p.T > 1)
        {
            var fewer = subset.Take(p.T - 1).ToArray();
            tMinusOneDoNot = InterpolateAtZero(fewer) != secret;
            // g(x) = f(x) + (other − secret)·Π_{i in fewer}(1 − x/x_i) agrees with f on every share in `fewer`
            // and has g(0) = other; check it through the shares and a fresh point.
            var other = g.RandomScalar();
            var fresh = Identifier.FromUInt64(g, 1000);
            Scalar Vanish(Scalar x) => fewer.Aggregate(g.One, (acc, f) => acc * (g.One - x * f.Id.Scalar.Invert()));
            Scalar G(Scalar x) => poly.Evaluate(x) + (other - secret) * Vanish(x);
            tMinusOneDoNot &= fewer.All(f => G(f.Id.Scalar) == f.Share);
            tMinusOneDoNot &= InterpolateAtZero(fewer.Append((fresh, G(fresh.Scalar))).ToArray()) == other;
        }
        return tDetermine && tMinusOneDoNot;
    });

    [FsCheck.Xunit.Property(MaxTest = 25)]
    public Property FeldmanAcceptsHonestSharesAndRejectsAnySingleByteChange() => Prop.ForAll(Params(), p =>
    {
        Group g = p.Ed ? Groups.Ed25519.Ed25519Group.Instance : Groups.Secp256k1.Secp256k1Group.Instance;
        var rnd = new Random(p.Seed);
        var poly = Polynomial.Random(g.RandomScalar(), p.T - 1);
        var commitment = poly.Commit();
        var id = Identifier.FromUInt64(g, (ulong)rnd.Next(1, p.N + 1));
        var share = poly.Evaluate(id);
        if (!commitment.Verify(id, share)) return false;
        var bytes = share.ToBytes();
        int pos = rnd.Next(bytes.Length);
        bytes[pos] ^= (byte)rnd.Next(1, 256);
        Scalar tampered;
        try { tampered = g.DecodeScalar(bytes); }
        catch (InvalidEncodingException) { return true; }   // refused at decoding: also a rejection
        return !commitment.Verify(id, tampered);
    });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchVerificationAcceptsHonestDealersAndNamesEveryBadOne(bool ed)
    {
        Group g = ed ? Groups.Ed25519.Ed25519Group.Instance : Groups.Secp256k1.Secp256k1Group.Instance;
        var receiver = Identifier.FromUInt64(g, 4);
        var dealers = Enumerable.Range(1, 6).Select(_ => Polynomial.Random(g.RandomScalar(), 2)).ToArray();
        var honest = new FeldmanBatch<int>(g);
        for (int d = 0; d < dealers.Length; d++) honest.AddShare(d, dealers[d].Commit(), receiver.Scalar, dealers[d].Evaluate(receiver));
        honest.AddEquality(99, g.MulBase(g.One), g.Generator);
        Assert.Empty(honest.Verify());

        var mixed = new FeldmanBatch<int>(g);
        for (int d = 0; d < dealers.Length; d++)
        {
            var s = dealers[d].Evaluate(receiver);
            if (d is 1 or 4) s += g.One;            // two cheating dealers
            mixed.AddShare(d, dealers[d].Commit(), receiver.Scalar, s);
        }
        mixed.AddEquality(7, g.Generator, g.MulBase(g.ScalarFromUInt64(2)));
        Assert.Equal([1, 4, 7], mixed.Verify().Order().ToArray());
    }

    /// <summary>
    /// A single share check with short-factor equalities (a refresh by dealers 1..t: Lagrange weights 2 and −1) is
    /// checked item by item; it must still accept the honest items and name exactly the bad ones.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SmallBatchesCheckedOneByOneNameEveryBadItem(bool ed)
    {
        Group g = ed ? Groups.Ed25519.Ed25519Group.Instance : Groups.Secp256k1.Secp256k1Group.Instance;
        var x = Identifier.FromUInt64(g, 3);
        var poly = Polynomial.Random(g.RandomScalar(), 2);
        var y1 = g.MulBase(g.RandomScalar());
        var y2 = g.MulBase(g.RandomScalar());
        var two = g.ScalarFromUInt64(2);
        var minusOne = -g.One;

        FeldmanBatch<string> Batch(Scalar share, Element left1, Element left2)
        {
            var b = new FeldmanBatch<string>(g);
            b.AddShare("share", poly.Commit(), x.Scalar, share);
            b.AddEquality("two", left1, two, y1);
            b.AddEquality("minus-one", left2, minusOne, y2);
            return b;
        }

        var share = poly.Evaluate(x);
        Assert.Empty(Batch(share, y1 + y1, -y2).Verify());
        Assert.Equal(["share"], Batch(share + g.One, y1 + y1, -y2).Verify());
        Assert.Equal(["minus-one", "two"], Batch(share, y1, y2).Verify().Order().ToArray());
        Assert.Equal(["minus-one", "share", "two"], Batch(share - g.One, y1 + y2, y2 + y2).Verify().Order().ToArray());
    }

    /// <summary>Public values (proof responses) join the multi-scalar multiplication; a wrong one is still named.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PublicSharesAreBatchedAndABadOneIsNamed(bool ed)
    {
        Group g = ed ? Groups.Ed25519.Ed25519Group.Instance : Groups.Secp256k1.Secp256k1Group.Instance;
        var polys = Enumerable.Range(0, 4).Select(_ => Polynomial.Random(g.RandomScalar(), 1)).ToArray();
        var xs = polys.Select(_ => g.RandomScalar()).ToArray();      // long points, as a challenge is
        FeldmanBatch<int> Batch(int bad, bool withSecret)
        {
            var b = new FeldmanBatch<int>(g);
            for (int i = 0; i < polys.Length; i++)
                b.AddPublicShare(i, polys[i].Commit(), xs[i], polys[i].Evaluate(xs[i]) + (i == bad ? g.One : g.Zero));
            if (withSecret) b.AddShare(9, polys[0].Commit(), xs[1], polys[0].Evaluate(xs[1]));
            return b;
        }
        Assert.Empty(Batch(-1, false).Verify());
        Assert.Empty(Batch(-1, true).Verify());
        Assert.Equal([2], Batch(2, false).Verify());
        Assert.Equal([1], Batch(1, true).Verify());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ACommitmentWithAKnownConstantTermEqualsTheFullCommitment(bool ed)
    {
        Group g = ed ? Groups.Ed25519.Ed25519Group.Instance : Groups.Secp256k1.Secp256k1Group.Instance;
        var poly = Polynomial.Random(g.RandomScalar(), 3);
        Assert.Equal(poly.Commit(), poly.Commit(g.MulBase(poly.Coefficients[0])));
        var y = g.MulBase(g.RandomScalar());
        foreach (var k in new[] { g.One, -g.One, g.ScalarFromUInt64(3), -g.ScalarFromUInt64(3), g.RandomScalar(), -g.RandomScalar() })
            Assert.Equal(g.MultiMulVartime([k], [y]), y * k);
    }

    [Fact]
    public void CompensatingErrorsFromTwoDealersAreStillCaught()
    {
        var g = Groups.Ed25519.Ed25519Group.Instance;
        var x = Identifier.FromUInt64(g, 2);
        var a = Polynomial.Random(g.RandomScalar(), 1);
        var b = Polynomial.Random(g.RandomScalar(), 1);
        var batch = new FeldmanBatch<string>(g);
        batch.AddShare("a", a.Commit(), x.Scalar, a.Evaluate(x) + g.One);
        batch.AddShare("b", b.Commit(), x.Scalar, b.Evaluate(x) - g.One);
        Assert.Equal(["a", "b"], batch.Verify().Order().ToArray());
    }

    [Fact]
    public void LagrangeRefusesDuplicateOrMissingIdentifiers()
    {
        var g = Groups.Ed25519.Ed25519Group.Instance;
        var ids = Ids(g, 3);
        Assert.Throws<ArgumentException>(() => Lagrange.AtZero(ids[0], [ids[0], ids[0], ids[1]]));
        Assert.Throws<ArgumentException>(() => Lagrange.AtZero(Identifier.FromUInt64(g, 9), ids));
    }

    [Fact]
    public void LargeIdentifiersWork()
    {
        var g = Groups.Secp256k1.Secp256k1Group.Instance;
        var secret = g.RandomScalar();
        var poly = Polynomial.Random(secret, 2);
        var ids = new[] { Identifier.FromScalar(g.RandomScalar()), Identifier.FromUInt64(g, 300), Identifier.FromUInt64(g, 70000) };
        Assert.Equal(secret, InterpolateAtZero(ids.Select(i => (i, poly.Evaluate(i))).ToArray()));
        Assert.True(poly.Commit().Verify(ids[0], poly.Evaluate(ids[0])));
    }
}
