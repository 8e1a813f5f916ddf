using FsCheck;
using FsCheck.Fluent;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Dkg;

public class DkgPropertyTests
{
    /// <summary>Random 1 ≤ t ≤ n ≤ 12, a scheme, whether identifiers are 1..n or random scalars, and a seed.</summary>
    private static Arbitrary<(int T, int N, Scheme Scheme, bool RandomIds, int Seed)> Params() =>
        (from n in Gen.Choose(1, 12)
         from t in Gen.Choose(1, n)
         from scheme in Gen.Elements(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340)
         from randomIds in Gen.Elements(false, true)
         from seed in Gen.Choose(0, int.MaxValue)
         select (t, n, scheme, randomIds, seed)).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 30)]
    public Property EveryMemberGetsAValidShareOfOneKeyThatAnyTMembersDetermine() => Prop.ForAll(Params(), p =>
    {
        var g = p.Scheme.Group();
        var ids = p.RandomIds
            ? Enumerable.Range(0, p.N).Select(_ => Identifier.FromScalar(g.RandomScalar())).ToArray()
            : TestKeys.Ids(g, p.N);
        var keys = DkgRunner.RunInProcess(p.Scheme, "prop-key", p.T, ids);
        var rnd = new Random(p.Seed);

        Assert.Equal(ids.Order(), keys.Select(k => k.Identifier));
        foreach (var k in keys)
        {
            Assert.Equal(("prop-key", p.Scheme, 0ul, p.T), (k.KeyId, k.Scheme, k.Epoch, k.Threshold));
            Assert.Equal(keys[0].GroupPublicKey, k.GroupPublicKey);
            Assert.Equal(keys[0].Public.VerifyingShares.OrderBy(v => v.Key), k.Public.VerifyingShares.OrderBy(v => v.Key));
            var back = k.ToData().Validate(); // full check: shares on one degree t−1 polynomial through the group key
            Assert.Equal(k.SigningShare, back.SigningShare);
        }

        var subset = keys.OrderBy(_ => rnd.Next()).Take(p.T).ToArray();
        var secret = TestKeys.Interpolate(subset);
        Assert.Equal(keys[0].GroupPublicKey, g.MulBase(secret));
        Assert.Equal(secret, TestKeys.Interpolate(keys.OrderBy(_ => rnd.Next()).Take(p.T)));
        if (p.T > 1) Assert.NotEqual(secret, TestKeys.Interpolate(subset.Take(p.T - 1)));
        return true;
    });

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void AnyTMembersOfADkgKeySignWithFrostUnderTheSchemesStandardVerifier(Scheme scheme)
    {
        var keys = DkgRunner.RunInProcess(scheme, "sign-key", 3, 5);
        var message = "pay 1 BTC to Bob"u8.ToArray();
        var signature = FrostCoordinator.SignInProcess([keys[4], keys[0], keys[2]], message);
        var publicKey = SchemeKeys.EncodePublicKey(scheme, keys[0].GroupPublicKey);
        Assert.True(SchemeSignatures.Verify(scheme, publicKey, message, signature));
        Assert.False(SchemeSignatures.Verify(scheme, publicKey, "pay 2 BTC to Bob"u8, signature));
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void TwoRunsGiveUnrelatedKeys(Scheme scheme)
    {
        var a = DkgRunner.RunInProcess(scheme, "k", 2, 3);
        var b = DkgRunner.RunInProcess(scheme, "k", 2, 3);
        Assert.NotEqual(a[0].GroupPublicKey, b[0].GroupPublicKey);
    }
}
