using System.Security.Cryptography;
using Grpc.Core;
using Google.Protobuf;
using Rotor.Crypto;
using Rotor.Crypto.Sharing;
using Rotor.Node.Vault;
using Rotor.Protocols.Keys;
using Rotor.Rpc.NodeOps;
using Rotor.Rpc.Sessions;
using Rotor.Rpc.Tls;

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
        node.Governance.CheckBackup(request);
        var shares = node.WithVault(v =>
        {
            var wanted = request.Wallets.Count > 0
                ? request.Wallets.Distinct().ToList()
                : v.List().Where(s => s.State == ShardState.Active).Select(s => s.KeyId).Distinct().ToList();
            if (wanted.Count == 0) throw new BackupException(BackupFault.Refused, $"node '{node.Name}' holds no shard to back up");
            return wanted.Select(w => v.GetActive(w) ?? throw new BackupException(BackupFault.Refused, $"node '{node.Name}' holds no active shard of wallet '{w}'")).ToList();
        });
        BackupLock @lock;
        switch (request.LockCase)
        {
            case NodeBackupRequest.LockOneofCase.Passphrase:
                var secret = OpenSecret(request.Passphrase, CreatePurpose, request.BackupId);
                try { @lock = BackupLock.Passphrase(System.Text.Encoding.UTF8.GetString(secret)); }
                finally { CryptographicOperations.ZeroMemory(secret); }
                break;
            case NodeBackupRequest.LockOneofCase.Recipient:
                @lock = BackupLock.Recipient(request.Recipient.Span);
                break;
            default:
                throw new ArgumentException("a backup needs a passphrase or a recipient key");
        }
        var file = BackupFile.Create(node.Name, shares, @lock, request.BackupId, DateTimeOffset.UtcNow);
        var reply = new NodeBackupReply { File = ByteString.CopyFrom(file) };
        if (request.KeepOnNode)
        {
            Directory.CreateDirectory(backupDir);
            var path = Path.Combine(backupDir, request.BackupId + ".rotor-backup");
            SecretFiles.Write(path, file);
            reply.Path = path;
        }
        return reply;
    });

    public override Task<NodeRestoreReply> RestoreBackup(NodeRestoreRequest request, ServerCallContext context) => Guard(() =>
    {
        node.Governance.CheckRestore(request);
        var file = BackupFile.Parse(request.File.Span);
        var current = request.Current.ToDictionary(p => p.KeyId, ReshareSetup.Package);
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

        var kind = BackupSecrets.ParseKind(request.Key.Kind);
        var secret = OpenSecret(request.Key, RestorePurpose, file.Id);
        IReadOnlyList<KeyShare> shares;
        try
        {
            var key = BackupSecrets.ToKey(kind, secret, out var owned);
            using (owned) shares = file.Open(key);
        }
        finally { CryptographicOperations.ZeroMemory(secret); }

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
        if (toStore.Count > 0) node.WithVault(v => v.PutActive(toStore));
        reply.Restored.AddRange(toStore.Select(s => s.KeyId));
        return reply;
    });

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
                BackupFault.WrongKey or BackupFault.WrongPassphrase => StatusCode.PermissionDenied,
                _ => StatusCode.InvalidArgument,
            };
            throw new RpcException(new Status(code, $"node '{node.Name}': {e.Message}"));
        }
        catch (Exception e) when (e is VaultException or ArgumentException or RotorCryptoException or IOException)
        {
            throw new RpcException(new Status(e is VaultException ? StatusCode.FailedPrecondition : StatusCode.InvalidArgument, $"node '{node.Name}': {e.Message}"));
        }
    }
}
