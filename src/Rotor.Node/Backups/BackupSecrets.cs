using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Hashing;

using Rotor.Rpc.Backups;

namespace Rotor.Node.Backups;

/// <summary>What a sealed backup secret is.</summary>
public enum BackupSecretKind
{
    /// <summary>A backup passphrase (UTF-8).</summary>
    Passphrase,
    /// <summary>A recipient's raw 32-byte X25519 private key.</summary>
    RecipientKey,
}

/// <summary>
/// Carries a backup passphrase or recipient private key from the operator's CLI to one node across the coordinator:
/// sealed (<see cref="SealedBox"/>) to the node's X25519 identity key and bound to the node, the purpose (create or
/// restore) and the backup id, so the coordinator can neither read it nor replay it for another node or backup.
/// </summary>
public static class BackupSecrets
{
    private const string Domain = "rotor/backup/v1/secret";

    /// <summary>The restore "key" kind meaning: the file itself is sealed to the node's identity key; no secret is sent.</summary>
    public const string NodeIdentityKind = "node-identity";

    public static string Name(this BackupSecretKind kind) => kind == BackupSecretKind.Passphrase ? "passphrase" : "recipient-key";

    public static BackupSecretKind ParseKind(string name) => name switch
    {
        "passphrase" => BackupSecretKind.Passphrase,
        "recipient-key" => BackupSecretKind.RecipientKey,
        _ => throw new ArgumentException($"unknown backup secret kind '{name}'"),
    };

    /// <summary>Seals <paramref name="secret"/> to the node's raw X25519 identity key.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> nodeAgreementKey, string node, string purpose, string backupId, BackupSecretKind kind, ReadOnlySpan<byte> secret) =>
        SealedBox.Seal(nodeAgreementKey, Domain, Aad(node, purpose, backupId, kind), secret);

    /// <summary>Opens a sealed secret on the node; the caller wipes the result. Throws BackupException(WrongKey) when it is not for this node, purpose and backup.</summary>
    public static byte[] Open(NodeIdentity node, string nodeName, string purpose, string backupId, BackupSecretKind kind, ReadOnlySpan<byte> box)
    {
        try { return SealedBox.Open(node, Domain, Aad(nodeName, purpose, backupId, kind), box); }
        catch (EnvelopeException)
        {
            throw new BackupException(BackupFault.WrongKey,
                $"the sealed {kind.Name()} does not open on node '{nodeName}' for {purpose} of backup {backupId} (sealed to another node or for another backup)");
        }
    }

    /// <summary>The opened secret as the key that opens a backup. A recipient key is returned for the caller to dispose.</summary>
    public static BackupKey ToKey(BackupSecretKind kind, byte[] secret, out IDisposable? owned)
    {
        owned = null;
        if (kind == BackupSecretKind.Passphrase) return BackupKey.Passphrase(System.Text.Encoding.UTF8.GetString(secret));
        var key = SealedBoxKey.Import(secret);
        owned = key;
        return BackupKey.Recipient(key);
    }

    private static byte[] Aad(string node, string purpose, string backupId, BackupSecretKind kind)
    {
        using var t = new Transcript(Domain);
        return t.Append("node", node).Append("purpose", purpose).Append("backup-id", backupId).Append("kind", kind.Name()).Digest();
    }
}
