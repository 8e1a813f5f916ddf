using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotor.Node;

/// <summary>
/// A signer node's configuration file (JSON, written by <c>rotor node init</c>). Relative paths are relative to
/// the file's folder. Holds no secret: the vault root is in <see cref="KeyFile"/> (0600, provider <c>file</c>) or
/// wrapped in <see cref="MasterKeyFile"/> under a passphrase or an HSM key (<see cref="MasterKey"/>).
/// </summary>
public sealed class NodeConfig
{
    /// <summary>File name <c>rotor node init</c> writes.</summary>
    public const string FileName = "node.json";

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The node's name: its certificate's CN and its name in every session.</summary>
    public string Name { get; set; } = "";

    /// <summary>Address and port to listen on (port 0: any free port, written to <see cref="EndpointFile"/>).</summary>
    public string Listen { get; set; } = "127.0.0.1:0";

    public string Vault { get; set; } = "vault.db";

    /// <summary>The master secret's key file (32 bytes hex, mode 0600); null when a passphrase is used.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Environment variable holding the passphrase (Argon2id) when there is no key file.</summary>
    public string? PassphraseEnv { get; set; }

    /// <summary>The passphrase's Argon2id salt (not secret) of a node made before master key providers (the passphrase then derives the vault root directly).</summary>
    public string? PassphraseSaltFile { get; set; }

    /// <summary>
    /// The master key provider that protects the vault: <c>file</c>, <c>passphrase</c> or <c>pkcs11</c>
    /// (<see cref="Vault.MasterKeys"/>). Absent in configs written before providers: then <c>file</c> with a
    /// <see cref="KeyFile"/>, else <c>passphrase</c>.
    /// </summary>
    public string? MasterKey { get; set; }

    /// <summary>The vault root wrapped by the provider (passphrase, pkcs11): a JSON record in the node's folder.</summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>A 0600 file holding the passphrase (passphrase provider), read when none is given at start.</summary>
    public string? PassphraseFile { get; set; }

    /// <summary>The HSM that holds the master key (pkcs11 provider).</summary>
    public Pkcs11Settings? Pkcs11 { get; set; }

    /// <summary>The provider in force: <see cref="MasterKey"/>, or inferred for a config written before providers.</summary>
    [JsonIgnore]
    public string MasterKeyKind => MasterKey ?? (KeyFile is not null ? Rotor.Node.Vault.MasterKeys.File : Rotor.Node.Vault.MasterKeys.Passphrase);

    /// <summary>The local socket on which a running node takes <c>rotor node unseal</c> (only the node's own user may connect).</summary>
    public string UnsealSocket { get; set; } = "unseal.sock";

    public string CaCertificate { get; set; } = "ca.crt";

    /// <summary>Folder with NAME.crt and NAME.key, the node's TLS certificate and its key.</summary>
    public string CertificateDir { get; set; } = "tls";

    /// <summary>Where the running node writes the https://host:port it listens on.</summary>
    public string EndpointFile { get; set; } = "endpoint";

    /// <summary>The only client certificate name allowed to call the node.</summary>
    public string CoordinatorName { get; set; } = "coordinator";

    /// <summary>
    /// The coordinator's pinned public key: SHA-256 (hex) of its certificate's SubjectPublicKeyInfo
    /// (<see cref="Rotor.Rpc.Tls.PeerTrust.PublicKeyPin"/>). The TLS handshake refuses any other client, even one the
    /// cluster CA certified as <c>coordinator</c>. Required: <c>node run</c> refuses a config without it.
    /// </summary>
    public string? CoordinatorKey { get; set; }

    /// <summary>
    /// The X25519 public keys (hex) backups may be sealed to. The node refuses a backup to any other key. Empty: the node
    /// makes no backup. Replaced only through <see cref="Backups.BackupRecipients.Replace"/> (an approved policy change).
    /// </summary>
    public List<string> BackupRecipients { get; set; } = [];

    /// <summary>
    /// The coordinator's audit public key (Ed25519, hex): the node witnesses only audit heads signed by it. When not
    /// set, the node pins the first key it is shown (kept in its vault) and refuses any other afterwards.
    /// </summary>
    public string? AuditKey { get; set; }

    /// <summary>An open protocol session idle longer than this is closed and its secrets wiped (seconds).</summary>
    public int SessionIdleSeconds { get; set; } = 600;

    /// <summary>The file this config was loaded from (to save a replaced recipient list).</summary>
    [JsonIgnore]
    public string? FilePath { get; set; }

    /// <summary>The folder relative paths are resolved against.</summary>
    [JsonIgnore]
    public string BaseDir { get; set; } = ".";

    public string Resolve(string path) => Path.GetFullPath(Path.Combine(BaseDir, path));

    /// <summary>The file this config was loaded from (null when made in memory).</summary>
    [JsonIgnore]
    public string? SourcePath { get; set; }

    public static NodeConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"node config not found: {path}");
        NodeConfig? config;
        try { config = JsonSerializer.Deserialize<NodeConfig>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"node config {path} is not readable: {Rotor.Crypto.JsonErrors.Describe(e)}"); }
        if (config is null) throw new InvalidDataException($"node config {path} is empty");
        if (string.IsNullOrWhiteSpace(config.Name)) throw new InvalidDataException($"node config {path} names no node");
        if (config.MasterKey is null && config.KeyFile is null && config.PassphraseEnv is null) throw new InvalidDataException($"node config {path} has neither masterKey, keyFile nor passphraseEnv");
        Rotor.Node.Vault.MasterKeys.Validate(config, path);
        config.BaseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        config.FilePath = Path.GetFullPath(path);
        config.SourcePath = Path.GetFullPath(path);
        return config;
    }

    /// <summary>Writes the config (atomically: a temporary file renamed over the old one).</summary>
    public void Save(string path)
    {
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}

/// <summary>Where the pkcs11 master key lives: a PKCS#11 library, a slot (by id or token label), a key label, and where the PIN comes from.</summary>
public sealed class Pkcs11Settings
{
    /// <summary>Path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so).</summary>
    public string Library { get; set; } = "";

    /// <summary>The slot id; null when the token is found by <see cref="Token"/>.</summary>
    public ulong? Slot { get; set; }

    /// <summary>The token's label; null when <see cref="Slot"/> is given.</summary>
    public string? Token { get; set; }

    /// <summary>Label of the non-extractable AES-256 key in the token.</summary>
    public string KeyLabel { get; set; } = "";

    /// <summary>A 0600 file holding the user PIN.</summary>
    public string? PinFile { get; set; }

    /// <summary>Environment variable holding the user PIN.</summary>
    public string? PinEnv { get; set; }
}
