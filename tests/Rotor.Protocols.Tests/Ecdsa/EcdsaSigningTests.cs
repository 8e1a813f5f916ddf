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
            Assert.True(EcdsaCheck.DotNetVerifiesDer(pk, digest, sig.ToDer()));
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

    [Fact]
    public void Both_recovery_ids_occur_and_each_recovers_the_key()
    {
        var keys = EcdsaRunner.Keygen("recid-test", 2, 2);
        var pk = keys[0].Public.GroupPublicKey;
        var seen = new HashSet<int>();
        for (int i = 0; i < 40 && seen.Count < 2; i++)
        {
            var digest = EcdsaCheck.Digest($"message {i}");
            var sig = EcdsaRunner.Sign(keys, digest);
            Assert.True(EcdsaSignature.IsLowS(sig.S));
            Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, sig.ToBytes()));
            Assert.True(EcdsaCheck.Recovers(pk, digest, sig));
            // The other recovery id recovers another key: the id is not a constant that happens to work.
            Assert.False(EcdsaCheck.Recovers(pk, digest, new EcdsaSignature(sig.R, sig.S, 1 - sig.RecoveryId)));
            seen.Add(sig.RecoveryId);
        }
        Assert.Equal(2, seen.Count);
    }
}
