using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Ed25519;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Tests;

/// <summary>The batch scalar operations give what the one-at-a-time operators give, and refuse scalars of another group.</summary>
public class ScalarBatchTests
{
    public static TheoryData<string> Groups => new() { "secp256k1", "ed25519" };

    private static Group G(string name) => name == "secp256k1" ? Secp256k1Group.Instance : Ed25519Group.Instance;

    private static Scalar[] Random(Group g, int n) => Enumerable.Range(0, n).Select(_ => g.RandomScalar()).ToArray();

    [Theory]
    [MemberData(nameof(Groups))]
    public void Batch_operations_agree_with_the_operators(string name)
    {
        var g = G(name);
        for (int trial = 0; trial < 20; trial++)
        {
            var a = Random(g, 4);
            var b = Random(g, 4);
            var c = Random(g, 4);
            // edge values: zero and n − 1 (so sums and differences wrap)
            if (trial == 0) { a[0] = g.Zero; b[1] = -g.One; c[2] = -g.One; a[3] = -g.One; }
            var f = c.Select(g.Prepare).ToArray();

            var expectSum = g.Zero;
            for (int k = 0; k < 4; k++) expectSum += c[k] * a[k];
            Assert.Equal(expectSum, g.SumOfProducts(f, a));

            var d = new Scalar[4];
            g.SubAdd(a, b, c, d);
            for (int k = 0; k < 4; k++) Assert.Equal(a[k] - b[k] + c[k], d[k]);

            foreach (ulong bit in new ulong[] { 0, 1 })
            {
                g.SelectSub(bit, a, b, d);
                for (int k = 0; k < 4; k++) Assert.Equal((bit == 1 ? a[k] : g.Zero) - b[k], d[k]);
            }

            // a gadget of 5 powers of two then 3 factors over a strided vector
            var v = Random(g, 2 * 8);
            var two = g.One + g.One;
            var expect = g.Zero;
            var p = g.One;
            for (int j = 0; j < 5; j++) { expect += p * v[j * 2 + 1]; p *= two; }
            for (int i = 0; i < 3; i++) expect += c[i] * v[(5 + i) * 2 + 1];
            Assert.Equal(expect, g.GadgetSum(v, 2, 1, 5, f.AsSpan(0, 3)));
        }
    }

    [Fact]
    public void Batch_operations_refuse_scalars_of_another_group_or_uninitialised_ones()
    {
        var g = Secp256k1Group.Instance;
        var other = Ed25519Group.Instance;
        var mine = Random(g, 2);
        var theirs = Random(other, 2);
        var d = new Scalar[2];
        Assert.Contains("Ed25519 scalar given to secp256k1", Assert.Throws<InvalidOperationException>(() => g.SubAdd(mine, theirs, mine, d)).Message);
        Assert.Throws<InvalidOperationException>(() => g.SelectSub(1, mine, new Scalar[2], d));
        Assert.Throws<InvalidOperationException>(() => g.SumOfProducts(theirs.Select(other.Prepare).ToArray(), mine));
        Assert.Throws<ArgumentException>(() => g.SubAdd(mine, mine, mine, new Scalar[3]));
        Assert.Throws<ArgumentException>(() => g.GadgetSum(mine, 1, 0, 3, []));
    }
}
