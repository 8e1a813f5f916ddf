using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Net.Pkcs11Interop.Common;
using Rotor.Crypto.Hashing;
using Rotor.Rpc.Tls;

namespace Rotor.Node.Vault;

/// <summary>The master key provider cannot give the vault root now (HSM or token absent, wrong PIN or passphrase): the node stays sealed.</summary>
public sealed class MasterKeyUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Secrets handed to the node at start or unseal (never written anywhere): a passphrase, an HSM user PIN.</summary>
public sealed record MasterKeySecrets(string? Passphrase = null, string? Pin = null)
{
    public static readonly MasterKeySecrets None = new();
}

/// <summary>A master key provider and its settings, as chosen at <c>rotor node init</c> or <c>rotor node rekey-master</c>.</summary>
public sealed record MasterKeyChoice(string Kind, Pkcs11Settings? Pkcs11 = null, string? PassphraseEnv = null, string? PassphraseFile = null);

/// <summary>The vault root wrapped by a provider: the JSON record in <see cref="NodeConfig.MasterKeyFile"/>. Holds no secret in clear.</summary>
public sealed class WrappedVaultKey
{
    public int Version { get; set; } = 1;
    public string Node { get; set; } = "";
    public string Provider { get; set; } = "";
    /// <summary>passphrase: Argon2id salt (base64) and cost.</summary>
    public string? Salt { get; set; }
    public int? MemoryKiB { get; set; }
    public int? Passes { get; set; }
    public int? Lanes { get; set; }
    /// <summary>pkcs11: the HSM key's label and the mechanism used.</summary>
    public string? KeyLabel { get; set; }
    public string? Mechanism { get; set; }
    /// <summary>AES-GCM nonce and ciphertext‖tag (base64).</summary>
    public string Nonce { get; set; } = "";
    public string Ciphertext { get; set; } = "";
}

/// <summary>
/// The vault root (32 bytes from which <see cref="ShareVault"/> derives its AES key) under one of three providers:
/// <list type="bullet">
/// <item><c>file</c>: the root itself in a 0600 key file beside the vault (local development: a copy of the folder opens the vault);</item>
/// <item><c>passphrase</c>: a random root AES-256-GCM-wrapped under Argon2id of a passphrase given at start;</item>
/// <item><c>pkcs11</c>: a random root encrypted inside an HSM with a non-extractable AES key (CKM_AES_GCM).</item>
/// </list>
/// Rekeying re-wraps the same root, so no shard is re-encrypted. The unwrapped root lives in memory only.
/// </summary>
public static class MasterKeys
{
    public const string File = "file", Passphrase = "passphrase", Pkcs11 = "pkcs11";
    public static readonly string[] Kinds = [File, Passphrase, Pkcs11];

    /// <summary>Bytes of the vault root.</summary>
    public const int RootLength = MasterSecret.Length;

    private const string LockFile = "master-key.lock";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Checks that the config names a known provider with what it needs.</summary>
    public static void Validate(NodeConfig config, string path)
    {
        var kind = config.MasterKeyKind;
        string? missing = kind switch
        {
            File => config.KeyFile is null ? "keyFile" : null,
            Passphrase => config.MasterKeyFile is null && config.PassphraseSaltFile is null ? "masterKeyFile" : null,
            Pkcs11 => config.MasterKeyFile is null ? "masterKeyFile"
                : config.Pkcs11 is null ? "pkcs11"
                : string.IsNullOrWhiteSpace(config.Pkcs11.Library) ? "pkcs11.library"
                : string.IsNullOrWhiteSpace(config.Pkcs11.KeyLabel) ? "pkcs11.keyLabel"
                : config.Pkcs11.Slot is null && string.IsNullOrWhiteSpace(config.Pkcs11.Token) ? "pkcs11.slot or pkcs11.token"
                : null,
            _ => throw new InvalidDataException($"node config {path}: unknown masterKey '{kind}' (expected {string.Join(", ", Kinds)})"),
        };
        if (missing is not null) throw new InvalidDataException($"node config {path}: masterKey '{kind}' needs {missing}");
    }

    /// <summary>Checks a choice made on the command line before anything is written.</summary>
    public static void Validate(MasterKeyChoice choice)
    {
        if (!Kinds.Contains(choice.Kind)) throw new ArgumentException($"unknown master key provider '{choice.Kind}' (expected {string.Join(", ", Kinds)})");
        if (choice.Kind != Pkcs11) return;
        var p = choice.Pkcs11 ?? throw new ArgumentException("--master-key pkcs11 needs --pkcs11-library, --pkcs11-slot or --pkcs11-token, and --pkcs11-key-label");
        if (string.IsNullOrWhiteSpace(p.Library)) throw new ArgumentException("--master-key pkcs11 needs --pkcs11-library");
        if (string.IsNullOrWhiteSpace(p.KeyLabel)) throw new ArgumentException("--master-key pkcs11 needs --pkcs11-key-label");
        if ((p.Slot is null) == string.IsNullOrWhiteSpace(p.Token)) throw new ArgumentException("--master-key pkcs11 needs exactly one of --pkcs11-slot and --pkcs11-token");
        if ((p.PinFile is null) == (p.PinEnv is null)) throw new ArgumentException("--master-key pkcs11 needs exactly one of --pkcs11-pin-file and --pkcs11-pin-env");
    }

    // ------------------------------------------------------------------ unwrapping

    /// <summary>
    /// The vault root under the config's provider; secrets given now (<paramref name="secrets"/>) come before the
    /// config's PIN or passphrase sources. Throws <see cref="MasterKeyUnavailableException"/> naming why not. The caller wipes it.
    /// </summary>
    public static byte[] Unwrap(NodeConfig config, MasterKeySecrets secrets)
    {
        switch (config.MasterKeyKind)
        {
            case File:
                try { return MasterSecret.FromKeyFile(config.Resolve(config.KeyFile!)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    throw new MasterKeyUnavailableException($"key file: {e.Message}", e);
                }
            case Passphrase when config.MasterKeyFile is null:
            {
                // A node made before providers: the passphrase derives the root itself (a wrong one shows when the vault's check value fails).
                var passphrase = PassphraseOf(config, secrets);
                var salt = System.IO.File.ReadAllBytes(config.Resolve(config.PassphraseSaltFile!));
                return MasterSecret.FromPassphrase(passphrase, salt);
            }
            case Passphrase:
            {
                var record = ReadRecord(config);
                var passphrase = PassphraseOf(config, secrets);
                if (record.MemoryKiB != MasterSecret.MemoryKiB || record.Passes != MasterSecret.Passes || record.Lanes != MasterSecret.Lanes)
                    throw new InvalidDataException($"{config.MasterKeyFile}: unsupported Argon2id cost {record.MemoryKiB} KiB / {record.Passes} / {record.Lanes}");
                var kek = MasterSecret.FromPassphrase(passphrase, Convert.FromBase64String(record.Salt!));
                try { return OpenGcm(kek, record, Aad(config.Name, record), "the passphrase does not open the vault key: wrong passphrase"); }
                finally { CryptographicOperations.ZeroMemory(kek); }
            }
            case Pkcs11:
            {
                var record = ReadRecord(config);
                if (record.KeyLabel != config.Pkcs11!.KeyLabel)
                    throw new InvalidDataException($"{config.MasterKeyFile} is wrapped under HSM key '{record.KeyLabel}', but the config names '{config.Pkcs11.KeyLabel}'");
                var pin = PinOf(config.Pkcs11, config, secrets);
                try
                {
                    var root = MasterKeyPkcs11.Decrypt(config.Pkcs11, pin, Convert.FromBase64String(record.Nonce), Convert.FromBase64String(record.Ciphertext), Aad(config.Name, record));
                    if (root.Length != RootLength) throw new InvalidDataException($"{config.MasterKeyFile}: the unwrapped vault key has {root.Length} bytes");
                    return root;
                }
                catch (Pkcs11Exception e) { throw new MasterKeyUnavailableException($"the HSM refused: {e.Method} returned {e.RV}", e); }
            }
            default:
                throw new InvalidDataException($"unknown master key provider '{config.MasterKeyKind}'");
        }
    }

    private static string PassphraseOf(NodeConfig config, MasterKeySecrets secrets)
    {
        if (!string.IsNullOrEmpty(secrets.Passphrase)) return secrets.Passphrase;
        if (config.PassphraseFile is not null)
        {
            try
            {
                var text = SecretFiles.Read(config.Resolve(config.PassphraseFile));
                var pass = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
                if (pass.Length == 0) throw new MasterKeyUnavailableException($"passphrase file {config.PassphraseFile} is empty");
                return pass;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MasterKeyUnavailableException($"passphrase file: {e.Message}", e); }
        }
        if (config.PassphraseEnv is not null && Environment.GetEnvironmentVariable(config.PassphraseEnv) is { Length: > 0 } fromEnv) return fromEnv;
        throw new MasterKeyUnavailableException(
            $"no passphrase was given{(config.PassphraseEnv is null ? "" : $" (environment variable {config.PassphraseEnv} is not set)")}: unseal with rotor node unseal, or restart with the passphrase");
    }

    private static string PinOf(Pkcs11Settings settings, NodeConfig? config, MasterKeySecrets secrets)
    {
        if (!string.IsNullOrEmpty(secrets.Pin)) return secrets.Pin;
        if (settings.PinFile is not null)
        {
            var path = config?.Resolve(settings.PinFile) ?? Path.GetFullPath(settings.PinFile);
            try { return SecretFiles.Read(path).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MasterKeyUnavailableException($"PIN file: {e.Message}", e); }
        }
        if (settings.PinEnv is not null && Environment.GetEnvironmentVariable(settings.PinEnv) is { Length: > 0 } fromEnv) return fromEnv.Trim();
        throw new MasterKeyUnavailableException($"no HSM PIN was given{(settings.PinEnv is null ? "" : $" (environment variable {settings.PinEnv} is not set)")}");
    }

    // ------------------------------------------------------------------ wrapping

    /// <summary>
    /// Puts <paramref name="root"/> under <paramref name="choice"/> for node <paramref name="config"/>: writes a new key
    /// file or wrapping record (durably, under a name not used yet) and returns the config as it must become (not saved).
    /// <paramref name="secrets"/> carries the new passphrase; the PIN comes from the choice's PIN file or variable.
    /// </summary>
    public static NodeConfig Establish(NodeConfig config, MasterKeyChoice choice, ReadOnlySpan<byte> root, MasterKeySecrets secrets, Action<string>? crash = null)
    {
        Validate(choice);
        if (root.Length != RootLength) throw new ArgumentException($"a vault root has {RootLength} bytes");
        var next = Clone(config);
        next.MasterKey = choice.Kind;
        next.KeyFile = null;
        next.MasterKeyFile = null;
        next.PassphraseSaltFile = null;
        next.Pkcs11 = null;
        next.PassphraseEnv = null;
        next.PassphraseFile = null;
        var generation = NextGeneration(config);
        switch (choice.Kind)
        {
            case File:
            {
                next.KeyFile = generation == 1 && !System.IO.File.Exists(config.Resolve("node.key")) ? "node.key" : $"node.{generation}.key";
                var hex = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(root));
                try { Durable.Write(next.Resolve(next.KeyFile), hex, crash); }
                finally { CryptographicOperations.ZeroMemory(hex); }
                return next;
            }
            case Passphrase:
            {
                next.PassphraseEnv = choice.PassphraseEnv;
                next.PassphraseFile = choice.PassphraseFile;
                var passphrase = PassphraseOf(next, secrets);
                var record = new WrappedVaultKey
                {
                    Node = config.Name, Provider = Passphrase, Salt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)),
                    MemoryKiB = MasterSecret.MemoryKiB, Passes = MasterSecret.Passes, Lanes = MasterSecret.Lanes,
                };
                var kek = MasterSecret.FromPassphrase(passphrase, Convert.FromBase64String(record.Salt));
                try { SealGcm(kek, record, root, Aad(config.Name, record)); }
                finally { CryptographicOperations.ZeroMemory(kek); }
                next.MasterKeyFile = WriteRecord(next, record, generation, crash);
                return next;
            }
            case Pkcs11:
            {
                next.Pkcs11 = choice.Pkcs11;
                var record = new WrappedVaultKey { Node = config.Name, Provider = Pkcs11, KeyLabel = choice.Pkcs11!.KeyLabel, Mechanism = "CKM_AES_GCM" };
                var pin = PinOf(choice.Pkcs11, next, secrets);
                try
                {
                    var (iv, ct) = MasterKeyPkcs11.Encrypt(choice.Pkcs11, pin, root, Aad(config.Name, record), create: true);
                    record.Nonce = Convert.ToBase64String(iv);
                    record.Ciphertext = Convert.ToBase64String(ct);
                }
                catch (Pkcs11Exception e) { throw new MasterKeyUnavailableException($"the HSM refused: {e.Method} returned {e.RV}", e); }
                next.MasterKeyFile = WriteRecord(next, record, generation, crash);
                return next;
            }
            default:
                throw new ArgumentException($"unknown master key provider '{choice.Kind}'");
        }
    }

    /// <summary>What <c>rotor node rekey-master</c> did.</summary>
    public sealed record RekeyResult(string From, string To, string? MasterKeyFile, string? KeyFile, IReadOnlyList<string> Removed);

    /// <summary>
    /// Re-wraps the vault root of the node at <paramref name="configPath"/> under <paramref name="target"/>, crash-safe:
    /// (1) the current provider unwraps the root, which must open the vault; (2) the new wrapping is written to a
    /// temporary file, flushed, renamed to a fresh name and the folder flushed; (3) it is unwrapped again and compared;
    /// (4) node.json is written the same way (the switch: before it the old wrapping is in force, after it the new one);
    /// (5) the old wrapping (key file, record, legacy salt) is overwritten and removed. A crash anywhere leaves one
    /// usable wrapping named by node.json; leftovers of either side are removed by the next start or rekey.
    /// No shard is read or written.
    /// </summary>
    public static RekeyResult Rekey(string configPath, MasterKeyChoice target, MasterKeySecrets current, MasterKeySecrets next)
    {
        Validate(target);
        var config = NodeConfig.Load(configPath);
        if (target.Kind == File && config.MasterKeyKind == File)
            throw new ArgumentException("the node's master key is already a key file; rekey it to passphrase or pkcs11 (its root is the key file itself)");
        using var lk = Lock(config) ?? throw new IOException($"another rekey of {config.BaseDir} is running ({LockFile} is locked)");
        var root = Unwrap(config, current);
        try
        {
            // The root must open this vault before anything is written.
            using (var vault = ShareVault.Open(config.Resolve(config.Vault), config.Name, root)) { }
            RemoveLeftovers(config);
            var updated = Establish(config, target, root, next, CrashPoint.Hit);
            CrashPoint.Hit("rekey-after-writing-wrap");
            var check = Unwrap(updated, next);
            try
            {
                if (!CryptographicOperations.FixedTimeEquals(check, root))
                    throw new InvalidOperationException("the new wrapping does not give back the vault key; nothing was switched");
            }
            finally { CryptographicOperations.ZeroMemory(check); }
            var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(updated, NodeConfig.Json));
            Durable.Write(configPath, json, CrashPoint.Hit, replace: true, phase: "rekey-after-writing-config-temp");
            CrashPoint.Hit("rekey-after-switching-config");
            var removed = RemoveLeftovers(NodeConfig.Load(configPath));
            return new RekeyResult(config.MasterKeyKind, updated.MasterKeyKind, updated.MasterKeyFile, updated.KeyFile, removed);
        }
        finally { CryptographicOperations.ZeroMemory(root); }
    }

    /// <summary>
    /// Removes what an interrupted rekey may have left beside the config on disk: wrapping records, key files and a legacy
    /// passphrase salt that node.json does not name, and temporary files. Old wrappings are overwritten before removal.
    /// Skipped (empty result) while a rekey holds the lock. Call only after the config's own provider has unwrapped.
    /// </summary>
    public static IReadOnlyList<string> CleanUp(string configPath)
    {
        var config = NodeConfig.Load(configPath);
        using var lk = Lock(config);
        return lk is null ? [] : RemoveLeftovers(NodeConfig.Load(configPath));
    }

    private static List<string> RemoveLeftovers(NodeConfig config)
    {
        var removed = new List<string>();
        var keep = new[] { config.KeyFile, config.MasterKeyFile, config.PassphraseSaltFile }
            .OfType<string>().Select(config.Resolve).ToHashSet();
        var dir = config.BaseDir;
        var candidates = Directory.EnumerateFiles(dir, "master-key.*.json")
            .Concat(Directory.EnumerateFiles(dir, "master-key.*.json.tmp"))
            .Concat(Directory.EnumerateFiles(dir, "node.key"))
            .Concat(Directory.EnumerateFiles(dir, "node.*.key"))
            .Concat(Directory.EnumerateFiles(dir, "node*.key.tmp"))
            .Concat(Directory.EnumerateFiles(dir, "passphrase.salt"))
            .Concat(Directory.EnumerateFiles(dir, NodeConfig.FileName + ".tmp"));
        foreach (var path in candidates.Select(Path.GetFullPath).Distinct())
        {
            if (keep.Contains(path)) continue;
            Durable.Erase(path);
            removed.Add(Path.GetFileName(path));
        }
        return removed;
    }

    /// <summary>An exclusive lock on the node folder's master key files, or null when another process holds it.</summary>
    private static FileStream? Lock(NodeConfig config)
    {
        try { return new FileStream(config.Resolve(LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { return null; }
    }

    private static int NextGeneration(NodeConfig config)
    {
        var used = Directory.EnumerateFiles(config.BaseDir, "master-key.*.json").Concat(Directory.EnumerateFiles(config.BaseDir, "node.*.key"))
            .Select(p => Path.GetFileName(p).Split('.')[1]).Select(s => int.TryParse(s, out var n) ? n : 0);
        return used.DefaultIfEmpty(0).Max() + 1;
    }

    private static string WriteRecord(NodeConfig config, WrappedVaultKey record, int generation, Action<string>? crash)
    {
        var name = $"master-key.{generation}.json";
        Durable.Write(config.Resolve(name), JsonSerializer.SerializeToUtf8Bytes(record, Json), crash);
        return name;
    }

    private static WrappedVaultKey ReadRecord(NodeConfig config)
    {
        var path = config.Resolve(config.MasterKeyFile!);
        if (!System.IO.File.Exists(path)) throw new MasterKeyUnavailableException($"the wrapped vault key {path} is missing");
        var record = JsonSerializer.Deserialize<WrappedVaultKey>(System.IO.File.ReadAllBytes(path), Json)
            ?? throw new InvalidDataException($"{path} is empty");
        if (record.Version != 1) throw new InvalidDataException($"{path}: unsupported version {record.Version}");
        if (record.Provider != config.MasterKeyKind) throw new InvalidDataException($"{path} is a {record.Provider} wrapping, but the config says {config.MasterKeyKind}");
        if (record.Node != config.Name) throw new InvalidDataException($"{path} wraps the vault key of node '{record.Node}', not '{config.Name}'");
        return record;
    }

    /// <summary>Associated data of a wrapping: node, provider, and the salt or HSM key label it is under.</summary>
    private static byte[] Aad(string node, WrappedVaultKey record)
    {
        using var t = new Transcript("rotor/master-key/v1");
        return t.Append("node", node).Append("provider", record.Provider).Append("salt", record.Salt ?? "").Append("key-label", record.KeyLabel ?? "").Digest();
    }

    private static void SealGcm(byte[] kek, WrappedVaultKey record, ReadOnlySpan<byte> root, byte[] aad)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var ct = new byte[root.Length + 16];
        using var aes = new AesGcm(kek, 16);
        aes.Encrypt(nonce, root, ct.AsSpan(0, root.Length), ct.AsSpan(root.Length), aad);
        record.Nonce = Convert.ToBase64String(nonce);
        record.Ciphertext = Convert.ToBase64String(ct);
    }

    private static byte[] OpenGcm(byte[] kek, WrappedVaultKey record, byte[] aad, string failure)
    {
        var nonce = Convert.FromBase64String(record.Nonce);
        var ct = Convert.FromBase64String(record.Ciphertext);
        if (nonce.Length != 12 || ct.Length != RootLength + 16) throw new InvalidDataException($"{record.Provider} wrapping of node '{record.Node}' is malformed");
        var root = new byte[RootLength];
        try
        {
            using var aes = new AesGcm(kek, 16);
            aes.Decrypt(nonce, ct.AsSpan(0, RootLength), ct.AsSpan(RootLength), root, aad);
            return root;
        }
        catch (AuthenticationTagMismatchException) { throw new MasterKeyUnavailableException(failure); }
    }

    private static NodeConfig Clone(NodeConfig config)
    {
        var copy = JsonSerializer.Deserialize<NodeConfig>(JsonSerializer.Serialize(config, NodeConfig.Json), NodeConfig.Json)!;
        copy.BaseDir = config.BaseDir;
        return copy;
    }
}

/// <summary>Durable file replacement: temp file, flush to disk, rename, flush the folder.</summary>
internal static class Durable
{
    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/> (mode 0600) through <c>path.tmp</c>. Refuses to
    /// replace an existing file unless <paramref name="replace"/>. <paramref name="crash"/> is called with
    /// <paramref name="phase"/> between the flushed temp file and the rename (test crash points).
    /// </summary>
    public static void Write(string path, byte[] contents, Action<string>? crash = null, bool replace = false, string phase = "rekey-after-writing-temp")
    {
        if (!replace && System.IO.File.Exists(path)) throw new IOException($"{path} already exists");
        var tmp = path + ".tmp";
        System.IO.File.Delete(tmp);
        SecretFiles.Write(tmp, contents);
        crash?.Invoke(phase);
        System.IO.File.Move(tmp, path, overwrite: replace);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Overwrites a file with zeros, flushes it, and removes it.</summary>
    public static void Erase(string path)
    {
        try
        {
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                f.Write(new byte[f.Length]);
                f.Flush(flushToDisk: true);
            }
        }
        catch (UnauthorizedAccessException) { }
        System.IO.File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(path)!);
    }

    public static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = open(dir, 0x10000 /* O_RDONLY | O_DIRECTORY */);
        if (fd < 0) return;
        try { fsync(fd); }
        finally { close(fd); }
    }

    [DllImport("libc", SetLastError = true)] private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int fsync(int fd);
    [DllImport("libc")] private static extern int close(int fd);
}
