using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Coordinator.Audit;
using Rotor.Crypto.Sharing;
using Rotor.Rpc.Backups;
using Rotor.Rpc.NodeOps;

namespace Rotor.Coordinator.Operations;

/// <summary>How a backup is to be locked: a passphrase sealed to the node by the operator's CLI, or a recipient public key.</summary>
public sealed record BackupLockRequest(SealedSecret? Passphrase, byte[]? Recipient);

public sealed partial class OperationsDesk
{
    /// <summary>
    /// Has <paramref name="node"/> write an encrypted backup of its current shards and registers it (id, node, wallets,
    /// epochs, fingerprint) from the file's public header; the coordinator cannot decrypt it.
    /// </summary>
    public async Task<(BackupEntry Entry, byte[] File)> CreateBackupAsync(string node, IReadOnlyList<string> wallets, string backupId, BackupLockRequest lockRequest,
        bool keepOnNode = false, string? actor = null)
    {
        var entry = engine.Registry.FindNode(node) ?? throw new CoordinatorException(StatusCode.NotFound, $"no node named '{node}' is registered");
        var request = new NodeBackupRequest { BackupId = backupId, KeepOnNode = keepOnNode };
        request.Wallets.AddRange(wallets);
        if (Governance.ActionContext.Current is { } approval) request.Authorization = approval;
        if (lockRequest.Passphrase is not null)
            throw new CoordinatorException(StatusCode.InvalidArgument,
                "passphrase backups are not made through the coordinator (it would hold a file it could guess offline); seal to a recipient key pinned on the node");
        if (lockRequest.Recipient is { } r) request.Recipient = ByteString.CopyFrom(r);
        else throw new CoordinatorException(StatusCode.InvalidArgument, "a backup needs --recipient (an X25519 key pinned on the node)");
        NodeBackupReply reply;
        try { reply = await NodeOps(entry).CreateBackupAsync(request, deadline: DateTime.UtcNow.AddMinutes(2)); }
        catch (RpcException e) { throw SessionDriver.NodeFailure(node, e, $"backup of node '{node}'", "create"); }
        var file = ParseBackup(reply.File.Span);
        if (file.Id != backupId || file.Node != node)
            throw new CoordinatorException(StatusCode.Internal, $"node '{node}' returned backup {file.Id} of node '{file.Node}', not {backupId}");
        var registered = new BackupEntry(file.Id, node, file.Shards.Select(s => new WalletAtEpoch(s.Wallet, s.Epoch)).ToList(), file.Created.ToUnixTimeMilliseconds(),
            Convert.ToHexStringLower(file.Fingerprint), file.Mode == BackupMode.Passphrase ? "passphrase" : "recipient", StoreStatus.Current, null, null,
            reply.Path.Length > 0 ? reply.Path : null);
        store.AddBackup(registered);
        Record(AuditKinds.BackupCreated, QuorumOf(file), file.Id, new
        {
            node, wallets = registered.Shards.Select(s => new { wallet = s.Wallet, epoch = s.Epoch }), fingerprint = registered.Fingerprint,
            mode = registered.Mode, kept_on_node = registered.NodePath,
        }, actor);
        return (registered, reply.File.ToByteArray());
    }

    /// <summary>
    /// Says, for each shard of a backup file, whether it is current for <paramref name="node"/> (default: the backup's
    /// node) and why not, without restoring anything; also what the registry knows of the backup.
    /// </summary>
    public (BackupFile File, IReadOnlyList<ShardAssessment> Verdicts, string Registered) VerifyBackup(ReadOnlySpan<byte> bytes, bool authenticated, string? node)
    {
        var file = ParseBackup(bytes);
        var target = string.IsNullOrEmpty(node) ? file.Node : node;
        var verdicts = Assess(file, target);
        var registered = store.FindBackup(file.Id) is { } b
            ? b.Fingerprint == Convert.ToHexStringLower(file.Fingerprint) ? b.Status : "unknown (another file is registered under this id)"
            : "unknown";
        Record(AuditKinds.BackupVerified, QuorumOf(file), file.Id, new
        {
            node = target, authenticated, registered,
            shards = verdicts.Select(v => new { wallet = v.Wallet, backup_epoch = v.BackupEpoch, current_epoch = v.CurrentEpoch, current = v.IsCurrent, reason = v.Reason.Name() }),
        });
        return (file, verdicts, registered);
    }

    /// <summary>
    /// Restores a backup onto <paramref name="node"/> only when every shard in it is current; a stale backup is refused
    /// (and recorded) before the node is even asked, naming the wallet, the backup's epoch and the current epoch.
    /// </summary>
    public async Task<NodeRestoreReply> RestoreBackupAsync(string node, byte[] bytes, SealedSecret key)
    {
        var file = ParseBackup(bytes);
        var entry = engine.Registry.FindNode(node) ?? throw new CoordinatorException(StatusCode.NotFound, $"no node named '{node}' is registered");
        var verdicts = Assess(file, node);
        var stale = verdicts.Where(v => !v.IsCurrent).ToList();
        if (stale.Count > 0)
        {
            Record(AuditKinds.BackupRefused, QuorumOf(file), file.Id, new
            {
                node, shards = stale.Select(v => new { wallet = v.Wallet, backup_epoch = v.BackupEpoch, current_epoch = v.CurrentEpoch, reason = v.Reason.Name(), why = v.Explanation }),
            });
            throw new CoordinatorException(StatusCode.FailedPrecondition,
                $"restore of backup {file.Id} onto node '{node}' refused, nothing changed: {string.Join("; ", stale.Select(v => v.Explanation))}");
        }
        var request = new NodeRestoreRequest { File = ByteString.CopyFrom(bytes), Key = key, MemberIndex = entry.Index };
        if (Governance.ActionContext.Current is { } approval) request.Authorization = approval;
        foreach (var s in file.Shards)
        {
            var w = engine.RequireWallet(s.Wallet);
            request.Current.Add(Engine.ToKeyPackage(w, engine.Registry.FindEpoch(w.Id, w.Epoch)!));
        }
        NodeRestoreReply reply;
        try { reply = await NodeOps(entry).RestoreBackupAsync(request, deadline: DateTime.UtcNow.AddMinutes(2)); }
        catch (RpcException e)
        {
            Record(AuditKinds.BackupRefused, QuorumOf(file), file.Id, new { node, by_node = e.Status.Detail });
            throw SessionDriver.NodeFailure(node, e, $"restore of backup {file.Id}", "restore");
        }
        if (Environment.GetEnvironmentVariable("ROTOR_TEST_CRASH_AT") == "coordinator-after-restoring")
            Environment.FailFast("ROTOR_TEST_CRASH_AT: coordinator-after-restoring");
        Record(AuditKinds.BackupRestored, QuorumOf(file), file.Id, new
        {
            node, restored = reply.Restored, already_held = reply.AlreadyHeld, epochs = file.Shards.Select(s => new { wallet = s.Wallet, epoch = s.Epoch }),
        });
        // Threshold ECDSA: a backup carries the shard, not the pair material; the restored member sets up fresh pairs with
        // every other member of the epoch (the others replace their half for it).
        foreach (var w in reply.Restored.Select(engine.Registry.FindWallet).OfType<WalletEntry>().Where(w => EcdsaPairs.IsEcdsa(w.Scheme)))
        {
            var epoch = engine.Registry.FindEpoch(w.Id, w.Epoch)!;
            await engine.Ecdsa.SetupAsync([(w, epoch)], epoch.Members.Select(engine.Nodes.RequireNode).ToList(), null, node, $"restore of backup {file.Id} onto '{node}'");
        }
        return reply;
    }

    /// <summary>
    /// Marks obsolete every registered backup holding a shard older than its wallet's current epoch (after a commit), each
    /// once, in the registry and in the audit log.
    /// </summary>
    public void MarkObsoleteBackups()
    {
        foreach (var b in store.ListBackups().Where(b => b.Status == StoreStatus.Current))
        {
            var behind = b.Shards.Select(s => (s, Registry.FindWallet(s.Wallet))).Where(x => x.Item2 is null || x.Item2.Epoch > x.s.Epoch).ToList();
            if (behind.Count == 0) continue;
            var cause = behind.Select(x => x.Item2 is { } w ? Registry.FindEpoch(w.Id, w.Epoch)?.EventId : null).OfType<string>().FirstOrDefault()
                        ?? "wallet removed";
            var op = store.List().LastOrDefault(o => o.EventId == cause)?.Id ?? cause;
            if (!store.MarkObsolete(b.Id, op, Now)) continue;
            Record(AuditKinds.BackupObsolete, Registry.FindWallet(behind[0].s.Wallet)?.Quorum, b.Id, new
            {
                node = b.Node, cause = op,
                wallets = behind.Select(x => new { wallet = x.s.Wallet, backup_epoch = x.s.Epoch, current_epoch = x.Item2?.Epoch }),
            }, OperatorContext.Coordinator);
        }
    }

    /// <summary>After a commit: older backups become obsolete; with the quorum's auto-backup setting every new member writes a fresh one.</summary>
    private async Task AfterCommitAsync(ReshareOperation op)
    {
        MarkObsoleteBackups();
        await PruneKeptBackupsAsync(op);
        if (store.AutoBackupRecipient(op.Quorum) is not { } recipient) return;
        foreach (var member in op.NewMembers.Except(op.AllowOffline))
        {
            if (RepairRequests is not null)
            {
                // A backup export needs the operators' approval on every node: ask for it.
                await RepairRequests.FileBackupAsync(op, member, recipient);
                continue;
            }
            try
            {
                await CreateBackupAsync(member, op.Wallets.Select(w => w.Wallet).ToList(), BackupFile.NewId(),
                    new BackupLockRequest(null, Convert.FromHexString(recipient)), keepOnNode: true, OperatorContext.Coordinator);
            }
            catch (CoordinatorException e)
            {
                Record(AuditKinds.BackupRefused, op.Quorum, op.Id, new { node = member, automatic = true, problem = e.Message }, OperatorContext.Coordinator);
            }
        }
    }

    /// <summary>
    /// Has every node of the reshare (old and new members) delete the backups it keeps that the commit made obsolete; each
    /// node verifies the commit certificate itself and decides from it and its own vault. A node that is offline now
    /// does it when it next starts (from its vault) or at the next commit.
    /// </summary>
    private async Task PruneKeptBackupsAsync(ReshareOperation op)
    {
        if (op.Certificate is null) return;
        var request = new PruneBackupsRequest { Certificate = Rotor.Rpc.Node.CommitRequest.Parser.ParseFrom(op.Certificate) };
        var nodes = op.OldMembers.Union(op.NewMembers).Select(n => Registry.FindNode(n)).OfType<NodeEntry>().ToList();
        await Task.WhenAll(nodes.Select(async node =>
        {
            try { await PruneOnAsync(node, request, op.Id); }
            catch (RpcException e) { Console.Error.WriteLine($"pruning kept backups on node '{node.Name}': {e.Status.Detail}"); }
        }));
    }

    private async Task PruneOnAsync(NodeEntry node, PruneBackupsRequest request, string cause)
    {
        var reply = await NodeOps(node).PruneBackupsAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
        foreach (var id in reply.Deleted)
        {
            store.ClearNodePath(id);
            Record(AuditKinds.BackupDeleted, store.FindBackup(id)?.Shards.Select(s => Registry.FindWallet(s.Wallet)?.Quorum).FirstOrDefault(q => q is not null), id,
                new { node = node.Name, cause, why = "a commit made it obsolete; deleted from the node's disk" }, OperatorContext.Coordinator);
        }
    }

    private readonly ConcurrentDictionary<string, bool> pruneAsked = new();
    private long lastPruneRetry;

    /// <summary>
    /// Kept copies still registered on a node that was offline when the commit made them obsolete: once the node is
    /// online, it is asked (at most every 10 s, once per backup per coordinator run) to delete them, with the certificate
    /// of the operation that made them obsolete when there is one.
    /// </summary>
    public async Task RetryPruneAsync()
    {
        if (Now - Interlocked.Read(ref lastPruneRetry) < 10_000) return;
        Interlocked.Exchange(ref lastPruneRetry, Now);
        var pending = store.ListBackups().Where(b => b.Status == StoreStatus.Obsolete && b.NodePath is not null && !pruneAsked.ContainsKey(b.Id)).ToList();
        foreach (var byNode in pending.GroupBy(b => b.Node))
        {
            if (Registry.FindNode(byNode.Key) is not { } node || !engine.Nodes.HealthOf(node.Name).Online) continue;
            foreach (var byCause in byNode.GroupBy(b => b.ObsoletedBy ?? ""))
            {
                var request = new PruneBackupsRequest();
                if (store.Find(byCause.Key)?.Certificate is { } certificate) request.Certificate = Rotor.Rpc.Node.CommitRequest.Parser.ParseFrom(certificate);
                try { await PruneOnAsync(node, request, byCause.Key); }
                catch (RpcException) { continue; }
                foreach (var b in byCause) pruneAsked[b.Id] = true;
            }
        }
    }

    /// <summary>Sets or clears the quorum's automatic backups (sealed to an X25519 recipient key).</summary>
    public string? SetAutoBackup(string quorum, string? recipientHex)
    {
        engine.RequireQuorum(quorum);
        if (recipientHex is not null)
        {
            try { BackupLock.Recipient(Convert.FromHexString(recipientHex)); }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new CoordinatorException(StatusCode.InvalidArgument, $"--recipient must be a 32-byte X25519 public key in hex: {e.Message}");
            }
            recipientHex = recipientHex.ToLowerInvariant();
        }
        store.SetAutoBackupRecipient(quorum, recipientHex);
        Record(AuditKinds.PolicySet, quorum, quorum, new { auto_backup_recipient = recipientHex });
        return recipientHex;
    }

    private IReadOnlyList<ShardAssessment> Assess(BackupFile file, string node)
    {
        var entry = engine.Registry.FindNode(node);
        return BackupAssessment.AssessAll(file, node, wallet =>
        {
            if (entry is null || engine.Registry.FindWallet(wallet) is not { } w) return null;
            var pkg = engine.PublicPackage(w, engine.Registry.FindEpoch(w.Id, w.Epoch)!);
            return new CurrentShard(pkg, Identifier.FromUInt64(pkg.Group, entry.Index));
        });
    }

    private string? QuorumOf(BackupFile file) => file.Shards.Select(s => Registry.FindWallet(s.Wallet)?.Quorum).FirstOrDefault(q => q is not null);

    internal static BackupFile ParseBackup(ReadOnlySpan<byte> bytes)
    {
        try { return BackupFile.Parse(bytes); }
        catch (BackupException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
    }

    private NodeOperations.NodeOperationsClient NodeOps(NodeEntry node) => new(clients.Invoker(node));
}
