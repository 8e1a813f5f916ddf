using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Ecdsa;

namespace Rotor.Protocols.Tests.Ecdsa;

public class EcdsaSigningTests
{
    private static Identifier Id(ulong i) => Identifier.FromUInt64(Secp256k1Group.Instance, i);

    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 5)]
    public void Random_subsets_sign_and_an_independent_verifier_accepts(int t, int n)
    {
        var keys = EcdsaRunner.Keygen("eth-wallet", t, n);
        var pk = keys[0].Public.GroupPublicKey;
        for (int trial = 0; trial < 2; trial++)
        {
            var size = Random.Shared.Next(t, n + 1);
            if (size < 2) size = 2;
            var subset = keys.OrderBy(_ => Random.Shared.Next()).Take(size).ToArray();
            var digest = EcdsaCheck.Digest($"transfer {trial} of {t}-of-{n}");
            var sig = EcdsaRunner.Sign(subset, digest);
            Assert.True(EcdsaSignature.IsLowS(sig.S));
            Assert.InRange(sig.RecoveryId, 0, 1);
            Assert.True(EcdsaSignature.Verify(pk, digest, sig.ToBytes()));
            Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, sig.ToBytes()));
            Assert.True(EcdsaCheck.Recovers(pk, digest, sig));
            var other = (byte[])digest.Clone();
            other[0] ^= 1;
            Assert.False(EcdsaCheck.DotNetVerifies(pk, other, sig.ToBytes()));
        }
    }

    [Fact]
    public void Five_of_seven_any_subset_signs()
    {
        var keys = EcdsaRunner.Keygen("btc-wallet", 5, 7);
        var pk = keys[0].Public.GroupPublicKey;
        var subset = keys.OrderBy(_ => Random.Shared.Next()).Take(5).ToArray();
        var digest = EcdsaCheck.Digest("5-of-7");
        var sig = EcdsaRunner.Sign(subset, digest);
        Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, sig.ToBytes()));
        Assert.True(EcdsaCheck.Recovers(pk, digest, sig));
    }
}
