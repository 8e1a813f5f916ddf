using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Rpc.Backups;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Node.Tests.Backups;

public sealed class BackupAssessmentTests
{
    private static readonly SealedBoxKey Recipient = SealedBoxKey.Create();

    /// <summary>A fresh sharing of the same secret at another epoch, as a reshare produces (test-only dealer).</summary>
    private static KeyShare[] Reshared(Scalar secret, Scheme scheme, string keyId, ulong epoch, int t, int[] members)
    {
        var g = scheme.Group();
        var poly = Polynomial.Random(secret, t - 1);
        var ids = members.Select(m => Identifier.FromUInt64(g, (ulong)m)).ToArray();
        var pub = new PublicKeyPackage(keyId, scheme, epoch, t, ids.ToDictionary(i => i, i => g.MulBase(poly.Evaluate(i))), g.MulBase(secret));
        return ids.Select(i => KeyShare.Create(pub, i, poly.Evaluate(i))).ToArray();
    }

    private static BackupShardInfo Info(KeyShare share) =>
        BackupFile.Parse(BackupFile.Create("cs1", [share], BackupLock.Recipient(Recipient.PublicKey), BackupFile.NewId(), DateTimeOffset.UtcNow)).Shards[0];

    private static Identifier Id(KeyShare s, int i) => Identifier.FromUInt64(s.Group, (ulong)i);

    [Fact]
    public void Shard_of_the_current_epoch_is_current()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 2);
        var a = BackupAssessment.Assess(Info(shares[0]), "cs1", "cs1", new CurrentShard(shares[0].Public, Id(shares[0], 1)));
        Assert.True(a.IsCurrent);
        Assert.Equal(StaleReason.None, a.Reason);
        Assert.Equal(2UL, a.BackupEpoch);
        Assert.Equal(2UL, a.CurrentEpoch);
    }

    [Fact]
    public void Shard_of_an_epoch_before_a_reshare_is_stale_and_the_reason_names_both_epochs()
    {
        var (old, secret) = TestKeys.Deal(Scheme.Secp256k1, 2, 3, "w1", 0);
        var now = Reshared(secret, Scheme.Secp256k1, "w1", 1, 2, [1, 2, 3]);
        var a = BackupAssessment.Assess(Info(old[0]), "cs1", "cs1", new CurrentShard(now[0].Public, Id(now[0], 1)));
        Assert.False(a.IsCurrent);
        Assert.Equal(StaleReason.EpochBehind, a.Reason);
        Assert.Equal((0UL, (ulong?)1UL), (a.BackupEpoch, a.CurrentEpoch));
        Assert.Contains("wallet 'w1'", a.Explanation);
        Assert.Contains("epoch 0", a.Explanation);
        Assert.Contains("current epoch is 1", a.Explanation);
    }

    [Fact]
    public void Same_epoch_number_with_another_sharing_is_stale()
    {
        var (old, secret) = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 1);
        var other = Reshared(secret, Scheme.Ed25519, "w1", 1, 2, [1, 2, 3]);
        var a = BackupAssessment.Assess(Info(old[0]), "cs1", "cs1", new CurrentShard(other[0].Public, Id(other[0], 1)));
        Assert.Equal(StaleReason.ShareMismatch, a.Reason);
        Assert.Contains("verification share", a.Explanation);
    }

    [Fact]
    public void Other_node_unknown_wallet_other_key_removed_member_and_uncommitted_epoch_are_stale()
    {
        var (old, secret) = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 0);
        var info = Info(old[0]);
        var mine = new CurrentShard(old[0].Public, Id(old[0], 1));

        Assert.Equal(StaleReason.OtherNode, BackupAssessment.Assess(info, "cs1", "cs2", mine).Reason);
        Assert.Equal(StaleReason.UnknownWallet, BackupAssessment.Assess(info, "cs1", "cs1", null).Reason);

        var foreign = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 0).Shares;
        Assert.Equal(StaleReason.OtherKey, BackupAssessment.Assess(info, "cs1", "cs1", new CurrentShard(foreign[0].Public, Id(foreign[0], 1))).Reason);

        var without1 = Reshared(secret, Scheme.Ed25519, "w1", 0, 2, [2, 3, 4]);
        var removed = BackupAssessment.Assess(info, "cs1", "cs1", new CurrentShard(without1[0].Public, Id(old[0], 1)));
        Assert.Equal(StaleReason.NotAMember, removed.Reason);

        var ahead = Reshared(secret, Scheme.Ed25519, "w1", 5, 2, [1, 2, 3]);
        var earlier = new CurrentShard(old[0].Public, Id(old[0], 1));
        Assert.Equal(StaleReason.EpochAhead, BackupAssessment.Assess(Info(ahead[0]), "cs1", "cs1", earlier).Reason);

        Assert.Equal(StaleReason.ShareMismatch, BackupAssessment.Assess(info, "cs1", "cs1", new CurrentShard(old[0].Public, Id(old[0], 2))).Reason);
    }

    [Fact]
    public void AssessAll_looks_up_each_wallet()
    {
        var (a, secretA) = TestKeys.Deal(Scheme.Ed25519, 2, 3, "wa", 0);
        var b = TestKeys.Deal(Scheme.Bip340, 2, 3, "wb", 3).Shares;
        var file = BackupFile.Parse(BackupFile.Create("cs1", [a[0], b[0]], BackupLock.Recipient(Recipient.PublicKey), BackupFile.NewId(), DateTimeOffset.UtcNow));
        var aNow = Reshared(secretA, Scheme.Ed25519, "wa", 1, 2, [1, 2, 3]);
        var verdicts = BackupAssessment.AssessAll(file, "cs1", w => w switch
        {
            "wa" => new CurrentShard(aNow[0].Public, Id(aNow[0], 1)),
            "wb" => new CurrentShard(b[0].Public, Id(b[0], 1)),
            _ => null,
        });
        Assert.Equal([StaleReason.EpochBehind, StaleReason.None], verdicts.Select(v => v.Reason));
    }
}
