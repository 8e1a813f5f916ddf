using FsCheck;
using FsCheck.Fluent;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Resharing;

public class ReshareTests
{
    private static readonly byte[] Message = "after the reshare"u8.ToArray();

    public sealed record Params(Scheme Scheme, int T, int N, int NewT, int NewN, int Seed)
    {
        public override string ToString() => $"{Scheme} {T}-of-{N} -> {NewT}-of-{NewN} seed {Seed}";
    }

    /// <summary>Random (t, n) → (t', n'), n, n' ≤ 10, with the new members drawn from identifiers 1..15 (any overlap).</summary>
    private static Arbitrary<Params> Reshares() =>
        (from scheme in Gen.Elements(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340)
         from n in Gen.Choose(1, 10)
         from t in Gen.Choose(1, n)
         from n2 in Gen.Choose(1, 10)
         from t2 in Gen.Choose(1, n2)
         from seed in Gen.Choose(0, int.MaxValue)
         select new Params(scheme, t, n, t2, n2, seed)).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 40)]
    public Property ReshareKeepsTheKeyAndTheSecretAndAnyTPrimeNewSharesSign() => Prop.ForAll(Reshares(), p =>
    {
        var g = p.Scheme.Group();
        var rnd = new Random(p.Seed);
        var (old, secret) = TestKeys.Deal(p.Scheme, p.T, p.N);
        var dealers = old.OrderBy(_ => rnd.Next()).Take(p.T).ToArray();
        var newIds = Enumerable.Range(1, 15).OrderBy(_ => rnd.Next()).Take(p.NewN).Select(i => Identifier.FromUInt64(g, (ulong)i)).ToArray();

        var fresh = Reshare.RunInProcess(dealers, newIds, p.NewT);

        Assert.Equal(newIds.Order(), fresh.Select(s => s.Identifier));
        foreach (var s in fresh)
        {
            Assert.Equal(1UL, s.Epoch);
            Assert.Equal(p.NewT, s.Threshold);
            Assert.Equal(newIds.Order(), s.Members);
            Assert.Equal(old[0].GroupPublicKey, s.GroupPublicKey);
            Assert.Equal(g.MulBase(s.SigningShare), s.VerifyingShare);
            Assert.Equal(fresh[0].Public.VerifyingShares[s.Identifier], s.VerifyingShare);
        }
        var quorum = fresh.OrderBy(_ => rnd.Next()).Take(p.NewT).ToArray();
        Assert.True(SchemeSignatures.Verify(p.Scheme, old[0].GroupPublicKey, Message, FrostCoordinator.SignInProcess(quorum, Message)));
        Assert.Equal(secret, TestKeys.Interpolate(quorum));
        if (p.NewT > 1) Assert.NotEqual(secret, TestKeys.Interpolate(quorum.Take(p.NewT - 1)));
        // An old share standing in for a new one (same identifier) gives a wrong secret.
        var swap = quorum.Select((s, i) => (s, i)).FirstOrDefault(x => old.Any(o => o.Identifier == x.s.Identifier));
        if (swap.s is not null && p.NewT > 1)
        {
            var mixed = quorum.Select(s => (s.Identifier, s.SigningShare)).ToArray();
            mixed[swap.i] = (swap.s.Identifier, old.Single(o => o.Identifier == swap.s.Identifier).SigningShare);
            Assert.NotEqual(secret, TestKeys.Interpolate(mixed));
        }
        return true;
    });

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void RefreshReplacesEveryShareAndKeepsTheSecret(Scheme scheme)
    {
        var (old, secret) = TestKeys.Deal(scheme, 3, 5);
        var fresh = Reshare.RunInProcess([old[4], old[0], old[2]], old.Select(s => s.Identifier).ToArray(), 3);
        Assert.Equal(5, fresh.Length);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(old[i].Identifier, fresh[i].Identifier);
            Assert.NotEqual(old[i].SigningShare, fresh[i].SigningShare);
            Assert.NotEqual(old[i].VerifyingShare, fresh[i].VerifyingShare);
        }
        Assert.Equal(secret, TestKeys.Interpolate(fresh.Skip(2)));
        var again = Reshare.RunInProcess(fresh.Take(3).ToArray(), fresh.Select(s => s.Identifier).ToArray(), 3);
        Assert.Equal(2UL, again[0].Epoch);
        Assert.Equal(secret, TestKeys.Interpolate(again.Take(3)));
    }

    [Fact]
    public void RestructureAddsRemovesAndReplacesMembersAndChangesTheThreshold()
    {
        var g = Scheme.Ed25519.Group();
        var (old, secret) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        // 2-of-{1,2,3} -> 4-of-{2,3,7,8,9}: 1 removed, 7, 8 and 9 added, threshold raised.
        var newIds = new ulong[] { 9, 3, 7, 2, 8 }.Select(i => Identifier.FromUInt64(g, i)).ToArray();
        var up = Reshare.RunInProcess([old[2], old[0]], newIds, 4);
        Assert.Equal(new ulong[] { 2, 3, 7, 8, 9 }, up.Select(s => (ulong)s.Identifier.Value));
        Assert.Equal(secret, TestKeys.Interpolate(up.Skip(1)));
        Assert.NotEqual(secret, TestKeys.Interpolate(up.Take(3)));
        // 4-of-5 -> 1-of-{4}: threshold lowered to one, a member that never held a share.
        var four = Identifier.FromUInt64(g, 4);
        var one = Reshare.RunInProcess(up.Take(4).ToArray(), [four], 1);
        Assert.Equal(secret, Assert.Single(one).SigningShare);
    }

    [Fact]
    public void DealersMustBeAtLeastTMembersOfTheCurrentEpoch()
    {
        var (old, _) = TestKeys.Deal(Scheme.Ed25519, 3, 4);
        var ids = old.Select(s => s.Identifier).ToArray();
        var e = Assert.Throws<ProtocolException>(() => Reshare.RunInProcess(old.Take(2).ToArray(), ids, 3));
        Assert.Equal(Fault.InvalidUsage, e.Fault);
        Assert.Contains("needs 3", e.Message);
    }

    [Fact]
    public void AShareOfAnotherEpochIsRefusedAsStale()
    {
        var (old, _) = TestKeys.Deal(Scheme.Secp256k1, 2, 3);
        var ids = old.Select(s => s.Identifier).ToArray();
        var fresh = Reshare.RunInProcess(old.Take(2).ToArray(), ids, 2);
        var e = Assert.Throws<ProtocolException>(() => Reshare.RunInProcess([fresh[0], old[1]], ids, 2));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([old[1].Identifier], e.Culprits);

        // And a dealer that brings its old share to a plan of the new epoch.
        var run = new ReshareHarness([fresh[0], fresh[1]], ids, 2);
        e = Assert.Throws<ProtocolException>(() => ReshareDealer.Deal(run.Plan, old[1]));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([old[1].Identifier], e.Culprits);
    }

    [Fact]
    public void ABatchReshareGivesEveryKeyItsOwnNewShares()
    {
        var g = Scheme.Ed25519.Group();
        var keys = Enumerable.Range(0, 25).Select(i => TestKeys.Deal(Scheme.Ed25519, 2, 3, $"wallet-{i:D2}")).ToArray();
        var ids = TestKeys.Ids(g, 3);
        var fresh = Reshare.RunInProcessBatch(keys.Select(k => (IReadOnlyList<KeyShare>)k.Shares.Skip(1).ToArray()).ToArray(), ids, 2);
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.All(fresh[i], s => Assert.Equal($"wallet-{i:D2}", s.KeyId));
            Assert.Equal(keys[i].Secret, TestKeys.Interpolate(fresh[i].Take(2)));
            Assert.Equal(keys[i].Secret, TestKeys.Interpolate([fresh[i][0], fresh[i][2]]));
        }
    }

    [Fact]
    public void AnInProcessReshareUsesTheMembersOwnIdentitiesAndRefusesAMissingOne()
    {
        var key = TestKeys.Deal(Scheme.Secp256k1, 2, 3);
        var ids = key.Shares.Select(s => s.Identifier).ToArray();
        var identities = ids.ToDictionary(m => m, _ => NodeIdentity.Create());
        try
        {
            var fresh = Reshare.RunInProcess(key.Shares.Take(2).ToArray(), ids, 2, identities);
            Assert.Equal(key.Secret, TestKeys.Interpolate(fresh.Skip(1)));
            Assert.All(fresh, s => Assert.Equal(key.Shares[0].Epoch + 1, s.Epoch));

            var missing = identities.Where(kv => kv.Key != ids[2]).ToDictionary();
            var e = Assert.Throws<ProtocolException>(() => Reshare.RunInProcess(fresh.Take(2).ToArray(), ids, 2, missing));
            Assert.Equal(Fault.InvalidUsage, e.Fault);
            Assert.Contains(ids[2].ToString(), e.Message);
        }
        finally
        {
            foreach (var id in identities.Values) id.Dispose();
        }
    }
}
