using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Rotor.Crypto;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Kdf;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;

namespace Rotor.Rpc.Backups;

/// <summary>How a backup file is locked.</summary>
public enum BackupMode
{
    /// <summary>The file key comes from a passphrase through Argon2id.</summary>
    Passphrase,
    /// <summary>The file key is sealed to an X25519 recipient public key.</summary>
    Recipient,
}

/// <summary>
/// An encrypted backup of one node's shards (format <c>rotor-backup</c> version 1, a JSON document). What it
/// holds in clear is public: backup id, node, creation time, how it is locked and, per shard, its binding (wallet,
/// scheme, epoch, members, threshold, identifier, verification share, group key). Each shard's secret content is
/// AES-256-GCM encrypted under a 32-byte file key with a fresh nonce; its associated data is the digest of the
/// whole public header and the shard's position, so any edit of a binding field, any reordering, removal or
/// transplant of shards fails authentication. The file key comes from the passphrase (Argon2id, then HKDF) or
/// is random and sealed to the recipient (<see cref="SealedBox"/>). A key-check value separates a wrong
/// passphrase from an altered file.
/// </summary>
/// <remarks>
/// A parsed <see cref="BackupFile"/> is not authenticated: <see cref="Shards"/> is what the file claims until
/// <see cref="Open"/> has succeeded. The binding fields alone suffice to tell a stale backup from a current one,
/// which is why <c>rotor backup verify</c> works without the passphrase (and says so).
/// </remarks>
public sealed class BackupFile
{
    /// <summary>The format name in every file.</summary>
    public const string FormatName = "rotor-backup";

    /// <summary>The only format version this code reads and writes.</summary>
    public const int FormatVersion = 1;

    private const string HeaderDomain = "rotor/backup/v1/header";
    private const string FileKeyInfo = "rotor/backup/v1/file-key";
    private const string KeyCheckInfo = "rotor/backup/v1/key-check";
    private const string WrapDomain = "rotor/backup/v1/wrap";
    private const int KeyLength = 32, SaltLength = 16, NonceLength = 12, TagLength = 16;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly BackupFileData data;
    private readonly byte[] headerDigest;

    private BackupFile(BackupFileData data, IReadOnlyList<BackupShardInfo> shards, DateTimeOffset created, BackupMode mode, byte[]? recipient, byte[] fingerprint)
    {
        this.data = data;
        Shards = shards;
        Created = created;
        Mode = mode;
        RecipientKey = recipient;
        Fingerprint = fingerprint;
        headerDigest = HeaderDigest(data, shards);
    }

    /// <summary>The backup's id, e.g. <c>bk-3f9a…</c>; the coordinator registers it.</summary>
    public string Id => data.BackupId;

    /// <summary>The node whose shards these are.</summary>
    public string Node => data.Node;

    public DateTimeOffset Created { get; }

    public BackupMode Mode { get; }

    /// <summary>The X25519 public key the file key is sealed to (recipient mode), else null.</summary>
    public byte[]? RecipientKey { get; }

    /// <summary>SHA-256 of the file's bytes: names this exact file in the registry and the audit log.</summary>
    public byte[] Fingerprint { get; }

    /// <summary>The shards' public bindings as the file states them (authenticated only by <see cref="Open"/>).</summary>
    public IReadOnlyList<BackupShardInfo> Shards { get; }

    /// <summary>A new backup id: "bk-" and 16 random hex digits.</summary>
    public static string NewId() => "bk-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    // ------------------------------------------------------------------ writing

    /// <summary>
    /// Writes an encrypted backup of <paramref name="shares"/> (one per wallet) held by <paramref name="node"/>.
    /// </summary>
    public static byte[] Create(string node, IReadOnlyList<KeyShare> shares, BackupLock @lock, string backupId, DateTimeOffset created)
    {
        CheckName(node, "node");
        CheckBackupId(backupId);
        if (shares.Count == 0) throw new ArgumentException("a backup needs at least one shard");
        if (shares.Select(s => s.KeyId).Distinct().Count() != shares.Count) throw new ArgumentException("a backup holds at most one shard per wallet");
        var data = new BackupFileData
        {
            Format = FormatName,
            Version = FormatVersion,
            BackupId = backupId,
            Node = node,
            Created = created.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            Protection = new ProtectionData(),
            Shards = shares.Select(s => ShardData.Public(BackupShardInfo.Of(s))).ToList(),
        };
        var fileKey = new byte[KeyLength];
        try
        {
            switch (@lock)
            {
                case BackupLock.PassphraseLock p:
                    data.Protection.Mode = "passphrase";
                    data.Protection.Kdf = "argon2id";
                    data.Protection.MemoryKib = PassphraseKdf.MemoryKiB;
                    data.Protection.Passes = PassphraseKdf.Passes;
                    data.Protection.Lanes = PassphraseKdf.Lanes;
                    data.Protection.Salt = RandomNumberGenerator.GetBytes(SaltLength);
                    data.Protection.KeyCheck = FromPassphrase(p.Value, data.Protection.Salt, fileKey);
                    break;
                case BackupLock.RecipientLock r:
                    data.Protection.Mode = "recipient";
                    data.Protection.Recipient = Convert.ToHexStringLower(r.PublicKey);
                    RandomNumberGenerator.Fill(fileKey);
                    data.Protection.WrappedKey = SealedBox.Seal(r.PublicKey, WrapDomain, WrapAad(backupId, r.PublicKey), fileKey);
                    break;
                default:
                    throw new ArgumentException("unknown backup lock");
            }
            var infos = shares.Select(BackupShardInfo.Of).ToArray();
            var digest = HeaderDigest(data, infos);
            using var aead = new AesGcm(fileKey, TagLength);
            for (int i = 0; i < shares.Count; i++)
            {
                var plain = JsonSerializer.SerializeToUtf8Bytes(shares[i].ToData());
                try
                {
                    var nonce = RandomNumberGenerator.GetBytes(NonceLength);
                    var ct = new byte[plain.Length + TagLength];
                    aead.Encrypt(nonce, plain, ct.AsSpan(0, plain.Length), ct.AsSpan(plain.Length), ShardAad(digest, i));
                    data.Shards[i].Nonce = nonce;
                    data.Shards[i].Ciphertext = ct;
                }
                finally { CryptographicOperations.ZeroMemory(plain); }
            }
        }
        finally { CryptographicOperations.ZeroMemory(fileKey); }
        return JsonSerializer.SerializeToUtf8Bytes(data, Json);
    }

    // ------------------------------------------------------------------ reading

    /// <summary>
    /// Parses a backup file and decodes every public field. Throws <see cref="BackupException"/>:
    /// <see cref="BackupFault.Truncated"/>, <see cref="BackupFault.Malformed"/> or <see cref="BackupFault.Unsupported"/>.
    /// </summary>
    public static BackupFile Parse(ReadOnlySpan<byte> bytes)
    {
        CheckComplete(bytes);
        BackupFileData data;
        try { data = JsonSerializer.Deserialize<BackupFileData>(bytes, Json) ?? throw Malformed("the file holds null"); }
        catch (JsonException e) { throw Malformed(JsonErrors.Describe(e)); }
        if (NullField(data) is { } field) throw Malformed($"field '{field}' is null");
        if (data.Format != FormatName) throw Malformed($"format is '{data.Format}', expected '{FormatName}'");
        if (data.Version != FormatVersion)
            throw new BackupException(BackupFault.Unsupported, $"backup format version {data.Version} is not supported (this version reads {FormatVersion})");
        try
        {
            CheckBackupId(data.BackupId);
            CheckName(data.Node, "node");
        }
        catch (ArgumentException e) { throw Malformed(e.Message); }
        if (!DateTimeOffset.TryParseExact(data.Created, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var created))
            throw Malformed($"created '{data.Created}' is not an ISO 8601 UTC time");
        var (mode, recipient) = ParseProtection(data.Protection);
        if (data.Shards.Count == 0) throw Malformed("it holds no shard");
        var shards = new List<BackupShardInfo>();
        for (int i = 0; i < data.Shards.Count; i++)
        {
            var s = data.Shards[i];
            try { shards.Add(s.Decode()); }
            catch (Exception e) when (e is ArgumentException or FormatException or RotorCryptoException)
            {
                throw Malformed($"shard {i} ('{s.Wallet}'): {e.Message}");
            }
            if (s.Nonce.Length != NonceLength) throw Malformed($"shard {i} ('{s.Wallet}'): nonce is {s.Nonce.Length} bytes, expected {NonceLength}");
            if (s.Ciphertext.Length <= TagLength) throw Malformed($"shard {i} ('{s.Wallet}'): ciphertext is shorter than its tag");
        }
        var dup = shards.GroupBy(s => s.Wallet).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw Malformed($"wallet '{dup.Key}' appears twice");
        return new BackupFile(data, shards, created, mode, recipient, SHA256.HashData(bytes));
    }

    /// <summary>
    /// Authenticates the whole file with <paramref name="key"/> and decrypts every shard, checking that each decrypts
    /// to a valid share carrying exactly its stated binding. Throws <see cref="BackupException"/>:
    /// <see cref="BackupFault.WrongPassphrase"/>, <see cref="BackupFault.WrongKey"/> or <see cref="BackupFault.Tampered"/>.
    /// </summary>
    public IReadOnlyList<KeyShare> Open(BackupKey key)
    {
        var fileKey = new byte[KeyLength];
        try
        {
            switch (key, Mode)
            {
                case (BackupKey.PassphraseKey p, BackupMode.Passphrase):
                    var check = FromPassphrase(p.Value, data.Protection.Salt!, fileKey);
                    if (!CryptographicOperations.FixedTimeEquals(check, data.Protection.KeyCheck))
                        throw new BackupException(BackupFault.WrongPassphrase,
                            $"backup {Id}: the passphrase does not open it (wrong passphrase, or its key-derivation fields were altered)");
                    break;
                case (BackupKey.RecipientKey r, BackupMode.Recipient):
                    if (!r.Key.PublicKey.AsSpan().SequenceEqual(RecipientKey))
                        throw new BackupException(BackupFault.WrongKey,
                            $"backup {Id} is sealed to recipient {Convert.ToHexStringLower(RecipientKey!)}, not to the given key {Convert.ToHexStringLower(r.Key.PublicKey)}");
                    byte[] unwrapped;
                    try { unwrapped = SealedBox.Open(r.Key, WrapDomain, WrapAad(Id, RecipientKey!), data.Protection.WrappedKey); }
                    catch (EnvelopeException) { throw Tampered("its sealed file key fails authentication"); }
                    unwrapped.CopyTo(fileKey, 0);
                    CryptographicOperations.ZeroMemory(unwrapped);
                    break;
                case (BackupKey.IdentityKey n, BackupMode.Recipient):
                    if (!n.Identity.Public.AgreementKey.SequenceEqual(RecipientKey))
                        throw new BackupException(BackupFault.WrongKey,
                            $"backup {Id} is sealed to recipient {Convert.ToHexStringLower(RecipientKey!)}, not to this node's identity key");
                    byte[] opened;
                    try { opened = SealedBox.Open(n.Identity, WrapDomain, WrapAad(Id, RecipientKey!), data.Protection.WrappedKey); }
                    catch (EnvelopeException) { throw Tampered("its sealed file key fails authentication"); }
                    opened.CopyTo(fileKey, 0);
                    CryptographicOperations.ZeroMemory(opened);
                    break;
                case (BackupKey.IdentityKey, BackupMode.Passphrase):
                    throw new BackupException(BackupFault.WrongKey, $"backup {Id} is locked with a passphrase, not sealed to this node");
                case (BackupKey.PassphraseKey, BackupMode.Recipient):
                    throw new BackupException(BackupFault.WrongKey, $"backup {Id} is sealed to an X25519 recipient key, not locked with a passphrase: give the recipient's private key");
                case (BackupKey.RecipientKey, BackupMode.Passphrase):
                    throw new BackupException(BackupFault.WrongKey, $"backup {Id} is locked with a passphrase, not sealed to a recipient key: give its passphrase");
                default:
                    throw new ArgumentException("unknown backup key");
            }
            var shares = new List<KeyShare>();
            using var aead = new AesGcm(fileKey, TagLength);
            for (int i = 0; i < Shards.Count; i++)
                shares.Add(OpenShard(aead, i));
            return shares;
        }
        finally { CryptographicOperations.ZeroMemory(fileKey); }
    }

    public override string ToString() => $"BackupFile({Id}, node {Node}, {Shards.Count} shard(s), {Mode})";

    // ------------------------------------------------------------------ internals

    private KeyShare OpenShard(AesGcm aead, int i)
    {
        var s = data.Shards[i];
        var info = Shards[i];
        var plain = new byte[s.Ciphertext.Length - TagLength];
        try
        {
            try { aead.Decrypt(s.Nonce, s.Ciphertext.AsSpan(0, plain.Length), s.Ciphertext.AsSpan(plain.Length), plain, ShardAad(headerDigest, i)); }
            catch (AuthenticationTagMismatchException)
            {
                throw Tampered($"shard {i} (wallet '{info.Wallet}') fails authentication: its binding fields, its position or its ciphertext changed");
            }
            KeyShare share;
            try { share = (JsonSerializer.Deserialize<KeyShareData>(plain) ?? throw new JsonException("null")).Validate(); }
            catch (Exception e) when (e is JsonException or ArgumentException or RotorCryptoException)
            {
                throw Malformed($"shard {i} (wallet '{info.Wallet}') decrypts to an invalid share: {e.Message}");
            }
            if (info.Mismatch(share) is { } what)
                throw Tampered($"shard {i} (wallet '{info.Wallet}') decrypts to a share with {what}, not the one its header states");
            return share;
        }
        finally { CryptographicOperations.ZeroMemory(plain); }
    }

    /// <summary>
    /// Argon2id(passphrase, salt) → HKDF → file key (written to <paramref name="fileKey"/>); returns the key-check value,
    /// an independent HKDF output. Everything else in the header is bound through the shards' associated data, so an
    /// altered header reads as tampering, not as a wrong passphrase.
    /// </summary>
    private static byte[] FromPassphrase(string passphrase, byte[] salt, Span<byte> fileKey)
    {
        var master = PassphraseKdf.Derive(passphrase, salt);
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, master, fileKey, [], Encoding.UTF8.GetBytes(FileKeyInfo));
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, master, KeyLength, [], Encoding.UTF8.GetBytes(KeyCheckInfo));
        }
        finally { CryptographicOperations.ZeroMemory(master); }
    }

    private static byte[] WrapAad(string backupId, ReadOnlySpan<byte> recipient)
    {
        using var t = new Transcript(WrapDomain);
        return t.Append("backup-id", backupId).Append("recipient", recipient).Digest();
    }

    /// <summary>The digest every shard's ciphertext is bound to: every public field of the file, shards in order.</summary>
    private static byte[] HeaderDigest(BackupFileData data, IReadOnlyList<BackupShardInfo> shards)
    {
        using var t = new Transcript(HeaderDomain);
        t.Append("format", data.Format).Append("version", (ulong)data.Version).Append("backup-id", data.BackupId)
            .Append("node", data.Node).Append("created", data.Created).Append("mode", data.Protection.Mode ?? "");
        if (data.Protection.Mode == "passphrase")
            t.Append("kdf", data.Protection.Kdf ?? "").Append("memory-kib", (ulong)data.Protection.MemoryKib)
                .Append("passes", (ulong)data.Protection.Passes).Append("lanes", (ulong)data.Protection.Lanes)
                .Append("salt", data.Protection.Salt ?? []);
        else
            t.Append("recipient", data.Protection.Recipient ?? "").Append("wrapped-key", data.Protection.WrappedKey ?? []);
        t.Append("shards", (ulong)shards.Count);
        foreach (var s in shards) s.AppendTo(t);
        return t.Digest();
    }

    private static byte[] ShardAad(byte[] headerDigest, int index)
    {
        var aad = new byte[headerDigest.Length + 4];
        headerDigest.CopyTo(aad, 0);
        BinaryPrimitives.WriteUInt32BigEndian(aad.AsSpan(headerDigest.Length), (uint)index);
        return aad;
    }

    private static (BackupMode, byte[]?) ParseProtection(ProtectionData p)
    {
        switch (p.Mode)
        {
            case "passphrase":
                if (p.Kdf != "argon2id" || p.MemoryKib != PassphraseKdf.MemoryKiB || p.Passes != PassphraseKdf.Passes || p.Lanes != PassphraseKdf.Lanes)
                    throw new BackupException(BackupFault.Unsupported,
                        $"key derivation {p.Kdf} (m={p.MemoryKib} KiB, t={p.Passes}, p={p.Lanes}) is not supported: expected argon2id m={PassphraseKdf.MemoryKiB} t={PassphraseKdf.Passes} p={PassphraseKdf.Lanes}");
                if (p.Salt is not { Length: SaltLength }) throw Malformed($"salt must be {SaltLength} bytes");
                if (p.KeyCheck is not { Length: KeyLength }) throw Malformed($"key check must be {KeyLength} bytes");
                if (p.Recipient is not null || p.WrappedKey is not null) throw Malformed("a passphrase backup carries no recipient key");
                return (BackupMode.Passphrase, null);
            case "recipient":
                byte[] recipient;
                try { recipient = Convert.FromHexString(p.Recipient ?? ""); }
                catch (FormatException) { throw Malformed("recipient is not hex"); }
                if (recipient.Length != KeyLength) throw Malformed($"recipient key must be {KeyLength} bytes");
                if (p.WrappedKey is not { Length: KeyLength + SealedBox.Overhead }) throw Malformed($"wrapped key must be {KeyLength + SealedBox.Overhead} bytes");
                if (p.Kdf is not null || p.Salt is not null || p.KeyCheck is not null) throw Malformed("a recipient backup carries no passphrase parameters");
                return (BackupMode.Recipient, recipient);
            default:
                throw Malformed($"protection mode '{p.Mode}' is neither 'passphrase' nor 'recipient'");
        }
    }

    /// <summary>
    /// Tells a cut-off file from a malformed one: a reader that is told more data may follow consumes every byte of a
    /// truncated document without error but never closes its top-level object.
    /// </summary>
    private static void CheckComplete(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) throw new BackupException(BackupFault.Truncated, "backup file is empty");
        var reader = new Utf8JsonReader(bytes, isFinalBlock: false, state: default);
        try
        {
            while (reader.Read())
                if (reader.CurrentDepth == 0 && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        }
        catch (JsonException) { return; }
        throw new BackupException(BackupFault.Truncated,
            $"backup file is truncated: its {bytes.Length} bytes end inside the document (cut off while written or copied)");
    }

    private static void CheckBackupId(string id)
    {
        if (id is not { Length: 19 } || !id.StartsWith("bk-", StringComparison.Ordinal) || !id[3..].All(char.IsAsciiHexDigitLower))
            throw new ArgumentException($"backup id '{id}' is not of the form bk- and 16 lower-case hex digits");
    }

    private static void CheckName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException($"{what} name '{name}' must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
    }

    private static BackupException Malformed(string why) => new(BackupFault.Malformed, $"not a valid backup file: {why}");

    private BackupException Tampered(string why) => new(BackupFault.Tampered, $"backup {Id} was altered after it was written: {why}");

    // ------------------------------------------------------------------ wire form (unvalidated)

    /// <summary>The first field an explicit JSON null left null (required fields may still be written as null), or null.</summary>
    private static string? NullField(BackupFileData d)
    {
        if (d.Format is null) return "format";
        if (d.BackupId is null) return "backupId";
        if (d.Node is null) return "node";
        if (d.Created is null) return "created";
        if (d.Protection is null) return "protection";
        if (d.Shards is null) return "shards";
        for (int i = 0; i < d.Shards.Count; i++)
        {
            var s = d.Shards[i];
            if (s is null) return $"shards[{i}]";
            if (s.Wallet is null || s.Scheme is null || s.Members is null || s.Identifier is null || s.VerifyingShare is null || s.GroupPublicKey is null
                || s.Nonce is null || s.Ciphertext is null || s.Members.Any(m => m is null))
                return $"shards[{i}] (a field of it)";
        }
        return null;
    }

    private sealed class BackupFileData
    {
        public required string Format { get; set; }
        public required int Version { get; set; }
        public required string BackupId { get; set; }
        public required string Node { get; set; }
        public required string Created { get; set; }
        public required ProtectionData Protection { get; set; }
        public required List<ShardData> Shards { get; set; }
    }

    private sealed class ProtectionData
    {
        public string? Mode { get; set; }
        public string? Kdf { get; set; }
        public int MemoryKib { get; set; }
        public int Passes { get; set; }
        public int Lanes { get; set; }
        public byte[]? Salt { get; set; }
        public byte[]? KeyCheck { get; set; }
        public string? Recipient { get; set; }
        public byte[]? WrappedKey { get; set; }
    }

    private sealed class ShardData
    {
        public required string Wallet { get; set; }
        public required string Scheme { get; set; }
        public required ulong Epoch { get; set; }
        public required int Threshold { get; set; }
        public required List<string> Members { get; set; }
        public required string Identifier { get; set; }
        public required string VerifyingShare { get; set; }
        public required string GroupPublicKey { get; set; }
        public byte[] Nonce { get; set; } = [];
        public byte[] Ciphertext { get; set; } = [];

        public static ShardData Public(BackupShardInfo s) => new()
        {
            Wallet = s.Wallet,
            Scheme = s.Scheme.Name(),
            Epoch = s.Epoch,
            Threshold = s.Threshold,
            Members = s.Members.Select(m => Convert.ToHexStringLower(m.ToBytes())).ToList(),
            Identifier = Convert.ToHexStringLower(s.Identifier.ToBytes()),
            VerifyingShare = s.VerifyingShare.ToHex(),
            GroupPublicKey = s.GroupPublicKey.ToHex(),
        };

        public BackupShardInfo Decode()
        {
            KeyIds.Validate(Wallet);
            var scheme = Schemes.Parse(Scheme);
            var group = scheme.Group();
            var members = Members.Select(m => Rotor.Crypto.Sharing.Identifier.Decode(group, Convert.FromHexString(m))).ToArray();
            if (members.Distinct().Count() != members.Length) throw new ArgumentException("a member appears twice");
            var sorted = members.Order().ToArray();
            if (Threshold < 1 || Threshold > members.Length) throw new ArgumentException($"threshold {Threshold} is outside 1..{members.Length}");
            var id = Rotor.Crypto.Sharing.Identifier.Decode(group, Convert.FromHexString(Identifier));
            if (!members.Contains(id)) throw new ArgumentException($"identifier {id} is not among the members");
            return new BackupShardInfo(Wallet, scheme, Epoch, Threshold, sorted, id,
                group.DecodeElement(Convert.FromHexString(VerifyingShare)), group.DecodeElement(Convert.FromHexString(GroupPublicKey)));
        }
    }
}
