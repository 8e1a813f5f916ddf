using Rotor.Crypto.Envelopes;

namespace Rotor.Rpc.Backups;

/// <summary>How a new backup is locked: with a passphrase (Argon2id) or sealed to an X25519 recipient public key.</summary>
public abstract class BackupLock
{
    private BackupLock() { }

    /// <summary>Locks with a passphrase stretched by Argon2id (64 MiB, 3 passes).</summary>
    public static BackupLock Passphrase(string passphrase) =>
        string.IsNullOrEmpty(passphrase) ? throw new ArgumentException("empty backup passphrase") : new PassphraseLock(passphrase);

    /// <summary>Seals the file key to a raw 32-byte X25519 public key (the holder of its private key can open the backup).</summary>
    public static BackupLock Recipient(ReadOnlySpan<byte> publicKey) =>
        publicKey.Length != 32 ? throw new ArgumentException($"recipient key is {publicKey.Length} bytes, expected a 32-byte X25519 public key") : new RecipientLock(publicKey.ToArray());

    internal sealed class PassphraseLock(string passphrase) : BackupLock
    {
        public string Value { get; } = passphrase;
        public override string ToString() => "BackupLock(passphrase)";
    }

    internal sealed class RecipientLock(byte[] publicKey) : BackupLock
    {
        public byte[] PublicKey { get; } = publicKey;
        public override string ToString() => "BackupLock(recipient " + Convert.ToHexStringLower(PublicKey) + ")";
    }
}

/// <summary>What opens a backup: its passphrase, or the private key of the X25519 recipient it was sealed to.</summary>
public abstract class BackupKey
{
    private BackupKey() { }

    public static BackupKey Passphrase(string passphrase) =>
        string.IsNullOrEmpty(passphrase) ? throw new ArgumentException("empty backup passphrase") : new PassphraseKey(passphrase);

    /// <summary>The recipient's key pair; the caller keeps ownership (and disposes it).</summary>
    public static BackupKey Recipient(SealedBoxKey key) => new RecipientKey(key);

    /// <summary>
    /// The node's own identity key: opens a file sealed to the node's X25519 identity key (a restore the operator's CLI
    /// re-sealed to the node, so that the recipient's private key never leaves the operator). The caller keeps ownership.
    /// </summary>
    public static BackupKey NodeIdentity(Rotor.Crypto.Envelopes.NodeIdentity identity) => new IdentityKey(identity);

    internal sealed class IdentityKey(Rotor.Crypto.Envelopes.NodeIdentity identity) : BackupKey
    {
        public Rotor.Crypto.Envelopes.NodeIdentity Identity { get; } = identity;
        public override string ToString() => "BackupKey(node identity)";
    }

    internal sealed class PassphraseKey(string passphrase) : BackupKey
    {
        public string Value { get; } = passphrase;
        public override string ToString() => "BackupKey(passphrase)";
    }

    internal sealed class RecipientKey(SealedBoxKey key) : BackupKey
    {
        public SealedBoxKey Key { get; } = key;
        public override string ToString() => "BackupKey(" + Key + ")";
    }
}
