using System.Security.Cryptography;
using Grpc.Core;
using Google.Protobuf;
using Rotor.Crypto;
using Rotor.Crypto.Sharing;
using Rotor.Node.Vault;
using Rotor.Protocols.Governance;
using Rotor.Protocols.Keys;
using Rotor.Rpc.NodeOps;
using Rotor.Rpc.Sessions;
using Rotor.Rpc.Tls;

using Rotor.Rpc.Backups;

namespace Rotor.Node.Backups;

/// <summary>
/// The node's operations service. Backups: writes encrypted backups of its active shards and restores them. A restore checks
/// every shard before touching the vault: the backup is this node's, each shard is of the wallet's current epoch
/// (as the coordinator's registry and the node's own vault say) with this node's current verification share, and
/// the file authenticates under the given key. Only then are the shards stored, in one vault transaction; any
/// refusal leaves the vault as it was.
/// </summary>
public sealed partial class NodeOperationsService(NodeState node, string backupDir, SignerNodeService signer) : NodeOperations.NodeOperationsBase
{
    public const string CreatePurpose = "backup-create", RestorePurpose = "backup-restore";

    public override Task<NodeBackupReply> CreateBackup(NodeBackupRequest request, ServerCallContext context) => Guard(() =>
    {
        // What the node pins comes first (a recipient it does not pin, a passphrase): refused whatever approvals come with it.
        RequireAllowedLock(request);
        node.Governance.CheckBackup(request);
        var shares = node.WithVault(v =>
        {
            var wanted = request.Wallets.Count > 0
                ? request.Wallets.Distinct().ToList()
                : v.List().Where(s => s.State == ShardState.Active).Select(s => s.KeyId).Distinct().ToList();
            if (wanted.Count == 0) throw new BackupException(BackupFault.Refused, $"node '{node.Name}' holds no shard to back up");
            return wanted.Select(w => v.GetActive(w) ?? throw new BackupException(BackupFault.Refused, $"node '{node.Name}' holds no active shard of wallet '{w}'")).ToList();
        });
        var @lock = BackupLock.Recipient(request.Recipient.Span);
        if (!string.IsNullOrEmpty(request.BackupId) && (request.BackupId.Contains('/') || request.BackupId.Contains('\\') || request.BackupId.Contains("..")))
            throw new ArgumentException($"invalid backup id '{request.BackupId}'");
        var file = BackupFile.Create(node.Name, shares, @lock, request.BackupId, DateTimeOffset.UtcNow);
        var reply = new NodeBackupReply { File = ByteString.CopyFrom(file) };
        if (request.KeepOnNode)
        {
            Directory.CreateDirectory(backupDir);
            var path = Path.Combine(backupDir, request.BackupId + KeptBackups.Extension);
            SecretFiles.Write(path, file);
            reply.Path = path;
        }
        return reply;
    });

    /// <summary>Only a recipient key pinned on this node; never a passphrase (the file would pass through the coordinator).</summary>
    private void RequireAllowedLock(NodeBackupRequest request)
    {
        switch (request.LockCase)
        {
            case NodeBackupRequest.LockOneofCase.Passphrase:
                // A passphrase-locked file that leaves the node through the coordinator could be guessed offline there,
                // and the coordinator could choose the passphrase itself: backups over the network are sealed to a
                // recipient key pinned on this node, nothing else.
                throw new BackupException(BackupFault.NotAllowed,
                    "passphrase backups are not made over the network (the file would pass through the coordinator, which could guess the passphrase offline); "
                    + "seal the backup to a recipient key pinned on the node (rotor node init --backup-recipients)");
            case NodeBackupRequest.LockOneofCase.Recipient:
                node.Recipients.Require(request.Recipient.Span, node.Name, node.PolicyBackupRecipients);
                break;
            default:
                throw new ArgumentException("a backup needs a recipient key");
        }
    }

    public override Task<NodeRestoreReply> RestoreBackup(NodeRestoreRequest request, ServerCallContext context) => Guard(() =>
    {
        // The approval is checked before the file is even parsed; it is spent only once the file matches it.
        BackupFile file = null!;
        Dictionary<string, Rotor.Protocols.Keys.PublicKeyPackage> current = null!;
        node.Governance.CheckRestore(request, approved =>
        {
            file = BackupFile.Parse(request.File.Span);
            current = request.Current.ToDictionary(p => p.KeyId, ReshareSetup.Package);
            CheckAgainstApproval(file, current, approved, request.MemberIndex);
        });
        var verdicts = BackupAssessment.AssessAll(file, node.Name, w => current.TryGetValue(w, out var p)
            ? new CurrentShard(p, Identifier.FromUInt64(p.Group, request.MemberIndex))
            : null);
        if (verdicts.FirstOrDefault(v => !v.IsCurrent) is { } stale)
            throw new BackupException(BackupFault.Refused, $"restore refused, nothing changed: {stale.Explanation}");
        var held = node.WithVault(v => file.Shards.ToDictionary(s => s.Wallet, s => v.GetActive(s.Wallet)));
        foreach (var s in file.Shards)
            if (held[s.Wallet] is { } h && h.Epoch != s.Epoch)
                throw new BackupException(BackupFault.Refused,
                    $"restore refused, nothing changed: wallet '{s.Wallet}': node '{node.Name}' holds epoch {h.Epoch}, the backup epoch {s.Epoch}");

        IReadOnlyList<KeyShare> shares;
        if (request.Key.Kind == BackupSecrets.NodeIdentityKind)
        {
            // The operator's CLI opened the backup and sealed it again to this node's identity key: nothing secret but
            // the file itself crossed the coordinator, and only this node can open it.
            shares = file.Open(BackupKey.NodeIdentity(node.Identity));
        }
        else
        {
            var kind = BackupSecrets.ParseKind(request.Key.Kind);
            var secret = OpenSecret(request.Key, RestorePurpose, file.Id);
            try
            {
                var key = BackupSecrets.ToKey(kind, secret, out var owned);
                using (owned) shares = file.Open(key);
            }
            finally { CryptographicOperations.ZeroMemory(secret); }
        }

        var reply = new NodeRestoreReply();
        var toStore = new List<KeyShare>();
        foreach (var share in shares)
        {
            if (held[share.KeyId] is { } h)
            {
                if (h.SigningShare != share.SigningShare)
                    throw new BackupException(BackupFault.Refused, $"restore refused, nothing changed: wallet '{share.KeyId}': node '{node.Name}' holds another shard of epoch {h.Epoch}");
                reply.AlreadyHeld.Add(share.KeyId);
            }
            else toStore.Add(share);
        }
        CrashPoint.Hit("restore-before-storing");
        if (toStore.Count > 0) node.WithVault(v => v.PutActive(toStore));
        CrashPoint.Hit("restore-after-storing");
        reply.Restored.AddRange(toStore.Select(s => s.KeyId));
        return reply;
    });

    /// <summary>
    /// What the coordinator says is current is not believed: the operators' approval names every wallet of the file
    /// with the epoch they approve restoring, and the node checks that the file's shards, the packages it is given as
    /// current, and its own vault all agree with it, and that the current package records this node's identity key for
    /// the identifier it is told to restore (so a stale backup, presented with an old package as if it were current,
    /// or a shard of another member's identifier, is refused by the node itself).
    /// </summary>
    private void CheckAgainstApproval(BackupFile file, Dictionary<string, Rotor.Protocols.Keys.PublicKeyPackage> current, ActionRequest approved, ulong memberIndex)
    {
        var held = node.WithVault(v => v.List());
        foreach (var s in file.Shards)
        {
            var w = approved.Wallets.FirstOrDefault(x => x.KeyId == s.Wallet)
                ?? throw new ApprovalException(ApprovalFault.Mismatched, $"the restore approval does not cover wallet '{s.Wallet}' of the backup (it covers {(approved.Wallets.Count == 0 ? "no wallet" : string.Join(", ", approved.Wallets.Select(x => x.KeyId)))})");
            if (w.Epoch != s.Epoch)
                throw new ApprovalException(ApprovalFault.Mismatched, $"the restore approval is for wallet '{s.Wallet}' at epoch {(w.Epoch is { } e ? e.ToString() : "none")}, the backup holds epoch {s.Epoch}");
            if (!current.TryGetValue(s.Wallet, out var pkg) || pkg.Epoch != s.Epoch)
                throw new BackupException(BackupFault.Refused, $"restore refused, nothing changed: wallet '{s.Wallet}': the package given as current is {(pkg is null ? "missing" : $"of epoch {pkg.Epoch}")}, the approval and the backup are of epoch {s.Epoch}");
            var id = Identifier.FromUInt64(pkg.Group, memberIndex);
            if (pkg.MemberKey(id) is not { } recorded || !CryptographicOperations.FixedTimeEquals(recorded, node.Identity.Public.SigningKey))
                throw new BackupException(BackupFault.Refused, $"restore refused, nothing changed: wallet '{s.Wallet}' epoch {s.Epoch} does not record node '{node.Name}''s identity key for identifier {memberIndex}");
            if (held.FirstOrDefault(x => x.KeyId == s.Wallet && x.Epoch > s.Epoch) is { } later)
                throw new BackupException(BackupFault.Refused, $"restore refused, nothing changed: wallet '{s.Wallet}': node '{node.Name}' holds epoch {later.Epoch} ({later.State.ToString().ToLowerInvariant()}), later than the backup's epoch {s.Epoch}");
        }
    }

    /// <summary>
    /// Deletes the kept backups a commit made obsolete. A commit certificate, when given, is verified first (every new
    /// holder's signature under the identity key of its CA-issued certificate, against the event rebuilt from the start
    /// request); the old epochs of its wallets are then obsolete. Without one, only what the node's own vault shows.
    /// </summary>
    public override Task<PruneBackupsReply> PruneBackups(PruneBackupsRequest request, ServerCallContext context) => Guard(() =>
    {
        Dictionary<string, ulong>? replaced = null;
        if (request.Certificate is { } commit)
        {
            ReshareSetup.VerifyCertificate(commit, party => node.Trust.NodeIdentity(party.Certificate.Span, party.Name));
            replaced = commit.Start.Reshare.Wallets.ToDictionary(w => w.KeyId, w => w.Epoch);
        }
        var reply = new PruneBackupsReply();
        reply.Deleted.AddRange(KeptBackups.Prune(node, backupDir, replaced));
        return reply;
    });

    public override Task<WitnessStatement> WitnessAuditHead(AuditHead request, ServerCallContext context)
    {
        try { return Task.FromResult(node.Witness.Witness(request)); }
        catch (Rotor.Node.Audit.AuditWitnessException e) { throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message)); }
    }

    public override Task<WitnessStatement> AttestAuditHead(AttestRequest request, ServerCallContext context) =>
        Guard(() => node.Witness.Attest(request.Nonce.Span));

    private byte[] OpenSecret(SealedSecret sealedSecret, string purpose, string backupId) =>
        BackupSecrets.Open(node.Identity, node.Name, purpose, backupId, BackupSecrets.ParseKind(sealedSecret.Kind), sealedSecret.Box.Span);

    /// <summary>Turns refusals into gRPC errors whose message names the node and what is wrong.</summary>
    private Task<T> Guard<T>(Func<T> action)
    {
        try { return Task.FromResult(action()); }
        catch (RpcException) { throw; }
        catch (Protocols.Governance.ApprovalException e) { throw new RpcException(new Status(StatusCode.PermissionDenied, $"node '{node.Name}': {e.Message}")); }
        catch (BackupException e)
        {
            var code = e.Fault switch
            {
                BackupFault.Refused => StatusCode.FailedPrecondition,
                BackupFault.WrongKey or BackupFault.WrongPassphrase or BackupFault.NotAllowed => StatusCode.PermissionDenied,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(new Status(code, $"node '{node.Name}': {e.Message}"));
        }
        catch (Exception e) when (e is VaultException or ArgumentException or RotorCryptoException or IOException or UnauthorizedAccessException or Rotor.Protocols.ProtocolException)
        {
            var code = e switch
            {
                VaultException => StatusCode.FailedPrecondition,
                UnauthorizedAccessException or Rotor.Protocols.ProtocolException => StatusCode.PermissionDenied,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(new Status(code, $"node '{node.Name}': {e.Message}"));
        }
    }
}
