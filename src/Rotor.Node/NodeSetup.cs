using System.Security.Cryptography;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Vault;
using Rotor.Rpc.Tls;

namespace Rotor.Node;

/// <summary>
/// What a node pins at init: the coordinator's certificate (PEM file; required), the X25519 keys backups may be sealed
/// to (none: no backup) and the coordinator's audit public key (null: the first one shown).
/// </summary>
public sealed record NodePins(string? CoordinatorCertificate, IReadOnlyList<byte[]> BackupRecipients, byte[]? AuditKey = null);

/// <summary><c>rotor node init</c>: makes a node's master secret, vault, identity keys and CA-issued certificate.</summary>
public static class NodeSetup
{
    /// <summary>Name of the vault secret that holds the identity keys.</summary>
    public const string IdentitySecret = "identity";

    /// <summary>
    /// Creates node <paramref name="name"/> in <paramref name="directory"/> with a certificate from the CA in
    /// <paramref name="caDirectory"/>. The vault root is protected by <paramref name="masterKey"/> (default: a 0600 key
    /// file, or with <paramref name="passphraseEnv"/> a passphrase in that environment variable); <paramref name="secrets"/>
    /// may carry the passphrase. Refuses an existing node.
    /// </summary>
    public static (NodeConfig Config, IdentityKeys Identity) Init(string directory, string name, string caDirectory, Protocols.Governance.GovernancePolicy policy, NodePins pins,
        string? passphraseEnv = null, string listen = "127.0.0.1:0", MasterKeyChoice? masterKey = null, MasterKeySecrets? secrets = null)
    {
        policy.Validated();
        Rotor.Rpc.RpcServer.ParseListen(listen);
        Rotor.Rpc.Names.ValidateNode(name);
        masterKey ??= passphraseEnv is null ? new MasterKeyChoice(MasterKeys.File) : new MasterKeyChoice(MasterKeys.Passphrase, PassphraseEnv: passphraseEnv);
        MasterKeys.Validate(masterKey);
        var configPath = Path.Combine(directory, NodeConfig.FileName);
        if (File.Exists(configPath)) throw new InvalidOperationException($"a node already exists in {directory}");
        // Everything pinned is checked before anything is written.
        var coordinatorKey = CoordinatorPin(pins.CoordinatorCertificate, caDirectory);
        if (pins.AuditKey is { Length: not 32 }) throw new ArgumentException($"the audit key must be a 32-byte Ed25519 public key, not {pins.AuditKey.Length} bytes");
        var recipients = new Backups.BackupRecipients(pins.BackupRecipients).Pinned.Select(Convert.ToHexStringLower).ToList();
        if (recipients.Distinct().Count() != recipients.Count) throw new ArgumentException("a backup recipient is listed twice");
        var created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        var config = new NodeConfig
        {
            Name = name, Listen = listen, Vault = name + "-vault.db", BaseDir = Path.GetFullPath(directory),
            CoordinatorKey = coordinatorKey, BackupRecipients = recipients,
            AuditKey = pins.AuditKey is null ? null : Convert.ToHexStringLower(pins.AuditKey),
        };
        var master = RandomNumberGenerator.GetBytes(MasterKeys.RootLength);
        using var identity = NodeIdentity.Create();
        try
        {
            try { config = MasterKeys.Establish(config, masterKey, master, secrets ?? MasterKeySecrets.None); }
            catch when (created)
            {
                // The provider refused (no token, wrong PIN, no passphrase): leave no half-made node behind.
                Directory.Delete(directory, recursive: true);
                throw;
            }
            using var vault = ShareVault.Open(config.Resolve(config.Vault), name, master);
            var secret = identity.ExportPrivate();
            try
            {
                vault.PutSecret(IdentitySecret, secret);
                Governance.NodeGovernance.Pin(vault, policy);
            }
            finally { CryptographicOperations.ZeroMemory(secret); }
        }
        finally { CryptographicOperations.ZeroMemory(master); }
        using var ca = ClusterCa.Load(caDirectory);
        ca.Issue(config.Resolve(config.CertificateDir), name, CertificateRole.Server, identity.Public).Dispose();
        File.Copy(Path.Combine(caDirectory, ClusterCa.CertificateFile), config.Resolve(config.CaCertificate), overwrite: true);
        config.Save(configPath);
        return (config, identity.Public);
    }

    /// <summary>
    /// The pin of the coordinator's certificate (PEM file): it must be issued by the cluster CA to
    /// <c>coordinator</c> for client authentication; the pin is the SHA-256 of its public key.
    /// </summary>
    public static string CoordinatorPin(string? certificatePath, string caDirectory)
    {
        if (string.IsNullOrWhiteSpace(certificatePath))
            throw new ArgumentException("the coordinator's certificate is needed to pin it (--coordinator-cert FILE, e.g. DIR/coordinator/tls/coordinator.crt)");
        if (!File.Exists(certificatePath)) throw new FileNotFoundException($"coordinator certificate not found: {certificatePath}");
        using var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        var trust = new PeerTrust(ClusterCa.LoadRoot(Path.Combine(caDirectory, ClusterCa.CertificateFile)));
        if (trust.Check(cert, CertificateRole.Client, Rotor.Rpc.Names.Coordinator) is { } error)
            throw new ArgumentException($"coordinator certificate {certificatePath}: {error}");
        return PeerTrust.PublicKeyPin(cert);
    }

    /// <summary>The node's vault root from its master key provider (config sources only). The caller wipes it.</summary>
    public static byte[] ReadMaster(NodeConfig config) => MasterKeys.Unwrap(config, MasterKeySecrets.None);

    /// <summary>Opens the vault and loads the identity keys from it.</summary>
    public static (ShareVault Vault, NodeIdentity Identity) OpenVault(NodeConfig config) => OpenVault(config, MasterKeySecrets.None);

    /// <summary>
    /// Opens the vault with the root its provider gives (secrets given now first) and loads the identity keys.
    /// Throws <see cref="MasterKeyUnavailableException"/> when the provider cannot give the root, <see cref="VaultException"/>
    /// when the root does not open the vault.
    /// </summary>
    public static (ShareVault Vault, NodeIdentity Identity) OpenVault(NodeConfig config, MasterKeySecrets secrets)
    {
        var master = MasterKeys.Unwrap(config, secrets);
        ShareVault vault;
        try { vault = ShareVault.Open(config.Resolve(config.Vault), config.Name, master); }
        finally { CryptographicOperations.ZeroMemory(master); }
        var secret = vault.GetSecret(IdentitySecret);
        if (secret is null)
        {
            vault.Dispose();
            throw new VaultException($"vault {vault.Path} holds no identity keys; was the node initialised with rotor node init?");
        }
        try { return (vault, NodeIdentity.ImportPrivate(secret)); }
        finally { CryptographicOperations.ZeroMemory(secret); }
    }
}
