using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;

namespace Rotor.Rpc.Backups;

/// <summary>Why a backed-up shard cannot be restored (or <see cref="None"/> when it can).</summary>
public enum StaleReason
{
    /// <summary>The shard is current: restoring it gives the node exactly the share it holds in the current epoch.</summary>
    None,
    /// <summary>The backup was made by another node.</summary>
    OtherNode,
    /// <summary>The wallet is not known (deleted, or the backup comes from another cluster).</summary>
    UnknownWallet,
    /// <summary>The wallet id names another key now (other scheme or group key).</summary>
    OtherKey,
    /// <summary>The wallet has been reshared since: the backup's epoch is older than the current one.</summary>
    EpochBehind,
    /// <summary>The backup's epoch is newer than the committed one (a pending epoch that never committed).</summary>
    EpochAhead,
    /// <summary>The node is no longer a member of the wallet's current epoch.</summary>
    NotAMember,
    /// <summary>The node's current identifier, member set, threshold or verification share differs from the backup's.</summary>
    ShareMismatch,
}

public static class StaleReasons
{
    /// <summary>The kebab-case name shown by the CLI and the audit log, e.g. "epoch-behind".</summary>
    public static string Name(this StaleReason r) => r switch
    {
        StaleReason.None => "current",
        StaleReason.OtherNode => "other-node",
        StaleReason.UnknownWallet => "unknown-wallet",
        StaleReason.OtherKey => "other-key",
        StaleReason.EpochBehind => "epoch-behind",
        StaleReason.EpochAhead => "epoch-ahead",
        StaleReason.NotAMember => "not-a-member",
        StaleReason.ShareMismatch => "share-mismatch",
        _ => throw new ArgumentOutOfRangeException(nameof(r)),
    };
}

/// <summary>The current public state of one wallet as seen for one node: the epoch's public package and the node's identifier.</summary>
public sealed record CurrentShard(PublicKeyPackage Package, Identifier Member);

/// <summary>The verdict on one backed-up shard.</summary>
public sealed record ShardAssessment(string Wallet, ulong BackupEpoch, ulong? CurrentEpoch, StaleReason Reason, string Explanation)
{
    /// <summary>True when the shard is current and may be restored.</summary>
    public bool IsCurrent => Reason == StaleReason.None;
}

/// <summary>
/// The restore decision as a pure function: a backed-up shard is current when it belongs to the node it is restored
/// to, its epoch is the wallet's current epoch, and its binding equals the current epoch's (scheme, group key,
/// members, threshold, the node's identifier and verification share). Anything else is stale, with the reason.
/// </summary>
public static class BackupAssessment
{
    /// <summary>
    /// Assesses one shard of a backup made by <paramref name="backupNode"/> for restoring onto <paramref name="node"/>,
    /// given the wallet's current state (<c>null</c>: unknown wallet).
    /// </summary>
    public static ShardAssessment Assess(BackupShardInfo shard, string backupNode, string node, CurrentShard? current)
    {
        var w = shard.Wallet;
        ShardAssessment Verdict(StaleReason reason, string why) => new(w, shard.Epoch, current?.Package.Epoch, reason, why);

        if (backupNode != node)
            return Verdict(StaleReason.OtherNode, $"wallet '{w}': the backup holds node {backupNode}'s shard, not node {node}'s");
        if (current is null)
            return Verdict(StaleReason.UnknownWallet, $"wallet '{w}' is not known to the coordinator");
        var pkg = current.Package;
        if (pkg.KeyId != w) throw new ArgumentException($"current state of wallet '{pkg.KeyId}' given for wallet '{w}'");
        if (pkg.Scheme != shard.Scheme || !pkg.GroupPublicKey.Equals(shard.GroupPublicKey))
            return Verdict(StaleReason.OtherKey, $"wallet '{w}': the backup's shard belongs to another key ({shard.Scheme.Name()} {shard.GroupPublicKey.ToHex()}) than the wallet's ({pkg.Scheme.Name()} {pkg.GroupPublicKey.ToHex()})");
        if (shard.Epoch < pkg.Epoch)
            return Verdict(StaleReason.EpochBehind, $"wallet '{w}': the backup holds epoch {shard.Epoch} but the current epoch is {pkg.Epoch}; the wallet was reshared since, so this shard no longer combines with the others");
        if (shard.Epoch > pkg.Epoch)
            return Verdict(StaleReason.EpochAhead, $"wallet '{w}': the backup holds epoch {shard.Epoch}, newer than the current epoch {pkg.Epoch} (an epoch that never committed)");
        if (!pkg.IsMember(current.Member))
            return Verdict(StaleReason.NotAMember, $"wallet '{w}': node {node} (member {current.Member}) is not a member of epoch {pkg.Epoch}");
        if (shard.Identifier != current.Member)
            return Verdict(StaleReason.ShareMismatch, $"wallet '{w}': the backup's shard is member {shard.Identifier}'s, node {node} is member {current.Member}");
        if (shard.Threshold != pkg.Threshold || !shard.Members.SequenceEqual(pkg.Members))
            return Verdict(StaleReason.ShareMismatch, $"wallet '{w}': the backup's epoch {shard.Epoch} has {shard.Threshold}-of-{shard.Members.Count} members, the current one {pkg.Threshold}-of-{pkg.Members.Count} others");
        if (!pkg.VerifyingShare(current.Member).Equals(shard.VerifyingShare))
            return Verdict(StaleReason.ShareMismatch, $"wallet '{w}': the backup's public share differs from node {node}'s current verification share at epoch {pkg.Epoch}");
        return Verdict(StaleReason.None, $"wallet '{w}': current (epoch {pkg.Epoch}, public share matches node {node}'s verification share)");
    }

    /// <summary>Assesses every shard of <paramref name="file"/> for <paramref name="node"/>; <paramref name="lookup"/> gives a wallet's current state or null.</summary>
    public static IReadOnlyList<ShardAssessment> AssessAll(BackupFile file, string node, Func<string, CurrentShard?> lookup) =>
        file.Shards.Select(s => Assess(s, file.Node, node, lookup(s.Wallet))).ToArray();
}
