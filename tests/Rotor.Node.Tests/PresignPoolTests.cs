using Rotor.Node.Sessions;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.TestSupport;

namespace Rotor.Node.Tests;

public sealed class PresignPoolTests
{
    [Fact]
    public void Nonces_made_in_advance_sign_once_and_are_then_gone()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1");
        var pool = new PresignPool();
        var made = shares.Take(2).Select(s => FrostSigner.Commit(s)).ToList();
        foreach (var (nonces, _) in made) Assert.True(pool.Add(nonces));
        var message = "pay 1"u8.ToArray();
        var package = SigningPackage.Create(shares[0].Public, made.Select(m => m.Commitments), message);

        var signed = shares.Take(2).Select((s, i) => FrostSigner.Sign(package, pool.Take(made[i].Commitments)!, s)).ToList();

        Assert.True(SchemeSignatures.Verify(Scheme.Ed25519, shares[0].GroupPublicKey, message, FrostCoordinator.Aggregate(package, signed, shares[0].Public)));
        Assert.Null(pool.Take(made[0].Commitments));
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void At_most_PerKey_nonces_are_kept_per_key_epoch_and_Forget_drops_a_key()
    {
        var w1 = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1").Shares[0];
        var w2 = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w2").Shares[0];
        var pool = new PresignPool();
        for (int i = 0; i < PresignPool.PerKey; i++) Assert.True(pool.Add(FrostSigner.Commit(w1).Nonces));
        Assert.False(pool.Add(FrostSigner.Commit(w1).Nonces));
        var kept = FrostSigner.Commit(w2);
        Assert.True(pool.Add(kept.Nonces));
        Assert.Equal(PresignPool.PerKey + 1, pool.Count);

        pool.Forget(new HashSet<string> { "w1" });

        Assert.Equal(1, pool.Count);
        Assert.Same(kept.Nonces, pool.Take(kept.Commitments));
    }

    [Fact]
    public void Commitments_of_another_epoch_find_nothing()
    {
        var epoch0 = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", epoch: 0).Shares[0];
        var epoch1 = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", epoch: 1).Shares[0];
        var pool = new PresignPool();
        pool.Add(FrostSigner.Commit(epoch0).Nonces);

        Assert.Null(pool.Take(FrostSigner.Commit(epoch1).Commitments));
        Assert.Equal(1, pool.Count);
    }
}
