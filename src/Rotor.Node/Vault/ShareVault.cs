using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rotor.Rpc.Storage;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Sessions;

namespace Rotor.Node.Vault;

/// <summary>Where a stored shard stands in the reshare life cycle.</summary>
public enum ShardState
{
    /// <summary>The epoch the node signs with.</summary>
    Active,
    /// <summary>Received in a reshare event that has not committed yet; never used for signing.</summary>
    Pending,
}

/// <summary>What the vault says about one stored shard (no secret).</summary>
public sealed record ShardInfo(string KeyId, ulong Epoch, ShardState State, string? EventId);

/// <summary>A reshare event whose pending shards await settlement (commit or discard).</summary>
public sealed record PendingEvent(string EventId, byte[] SessionId, byte[] TranscriptHash);

/// <summary>
/// The node's share vault: a SQLite file in which every shard, and the node's identity key, is encrypted with
/// AES-256-GCM under the vault key. The associated data binds node name, key id, epoch and state, so a
/// ciphertext moved to another row, node or state does not decrypt. Erasures use SQLite's secure_delete.
/// Write-ahead logging with synchronous=FULL: every transaction is durable when it returns, at one flush of the
/// log; the log is checkpointed and truncated after every erasure.
/// </summary>
public sealed class ShareVault : IDisposable
{
    private const int NonceLength = 12, TagLength = 16;
    private static readonly byte[] CheckPlaintext = "rotor vault check v1"u8.ToArray();

    private readonly SqliteDatabase db;
    private readonly byte[] key;
    private readonly string node;

    private ShareVault(SqliteDatabase db, byte[] key, string node, string path)
    {
        this.db = db;
        this.key = key;
        this.node = node;
        Path = path;
    }

    /// <summary>The vault file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens (or creates) the vault at <paramref name="path"/> for node <paramref name="nodeName"/> with a key
    /// derived from <paramref name="masterSecret"/>. A vault made under another master secret or for another
    /// node is refused.
    /// </summary>
    public static ShareVault Open(string path, string nodeName, ReadOnlySpan<byte> masterSecret)
    {
        var db = new SqliteDatabase(path, """
            PRAGMA secure_delete = ON;
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS shards (
                key_id TEXT NOT NULL, epoch INTEGER NOT NULL, state TEXT NOT NULL, event_id TEXT,
                nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, PRIMARY KEY (key_id, epoch));
            CREATE TABLE IF NOT EXISTS pending_events (
                event_id TEXT PRIMARY KEY, session_id BLOB NOT NULL, transcript_hash BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS confirmed_events (
                event_id TEXT PRIMARY KEY, session_id BLOB NOT NULL, output BLOB);
            CREATE TABLE IF NOT EXISTS renounced_events (
                event_id TEXT PRIMARY KEY, session_id BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS ecdsa_pairs (
                key_id TEXT NOT NULL, epoch INTEGER NOT NULL, peer BLOB NOT NULL,
                nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, PRIMARY KEY (key_id, epoch, peer));
            CREATE TRIGGER IF NOT EXISTS ecdsa_pairs_go_with_their_shard AFTER DELETE ON shards BEGIN
                DELETE FROM ecdsa_pairs WHERE key_id = OLD.key_id AND epoch = OLD.epoch;
            END;
            """);
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, masterSecret.ToArray(), 32,
            "rotor/vault/v1"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes("vault key for " + nodeName));
        var vault = new ShareVault(db, key, nodeName, path);
        try
        {
            vault.CheckKey();
            return vault;
        }
        catch
        {
            vault.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ secrets other than shards

    /// <summary>Stores a named secret (e.g. the identity key) encrypted; refuses to overwrite.</summary>
    public void PutSecret(string name, ReadOnlySpan<byte> secret)
    {
        var (nonce, ct) = Seal(secret, SecretAad(name));
        using var cmd = db.Command("INSERT INTO meta (name, nonce, ciphertext) VALUES ($n, $nonce, $ct)", ("$n", name), ("$nonce", nonce), ("$ct", ct));
        try { cmd.ExecuteNonQuery(); }
        catch (SqliteException e) when (e.SqliteErrorCode == 19) { throw new VaultException($"vault {Path} already holds secret '{name}'"); }
    }

    /// <summary>Stores a named secret encrypted, replacing the one of that name if any (the pinned governance policy, the audit head the node witnessed).</summary>
    public void ReplaceSecret(string name, ReadOnlySpan<byte> secret)
    {
        var (nonce, ct) = Seal(secret, SecretAad(name));
        using var cmd = db.Command("INSERT OR REPLACE INTO meta (name, nonce, ciphertext) VALUES ($n, $nonce, $ct)", ("$n", name), ("$nonce", nonce), ("$ct", ct));
        cmd.ExecuteNonQuery();
    }

    /// <summary>A named secret, or null if absent. The caller wipes it after use.</summary>
    public byte[]? GetSecret(string name)
    {
        using var cmd = db.Command("SELECT nonce, ciphertext FROM meta WHERE name = $n", ("$n", name));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return Open((byte[])r[0], (byte[])r[1], SecretAad(name), $"secret '{name}'");
    }

    // ------------------------------------------------------------------ shards

    /// <summary>Stores a share as the active epoch of a new key (after DKG). Refuses an existing key.</summary>
    public void PutActive(IEnumerable<KeyShare> shares)
    {
        using var tx = db.Begin();
        foreach (var share in shares)
        {
            if (ActiveEpochs(share.KeyId).Count > 0) throw new VaultException($"vault {Path} already holds key '{share.KeyId}'");
            Insert(share, ShardState.Active, null);
        }
        tx.Commit();
    }

    /// <summary>
    /// Stores the new shares of a reshare event as pending, with the event's session id and transcript hash,
    /// in one transaction. The active epochs stay untouched. A node that joins in the reshare has no active epoch.
    /// </summary>
    /// <param name="output">The node's public output for the event (signed confirmations, new packages), kept with the
    /// durable record that it confirmed the event; null for a repair.</param>
    /// <param name="firstEpoch">A key generation's: the shares are the first epoch (0) of keys this vault holds nothing of.</param>
    public void PutPending(string eventId, ReadOnlySpan<byte> sessionId, ReadOnlySpan<byte> transcriptHash, IEnumerable<KeyShare> shares, byte[]? output = null,
        bool firstEpoch = false)
    {
        using var tx = db.Begin();
        if (IsRenounced(eventId)) throw new VaultException($"this node has renounced reshare {eventId}: it never confirms it");
        if (output is not null)
            db.Exec("INSERT OR REPLACE INTO confirmed_events (event_id, session_id, output) VALUES ($e, $s, $o)",
                ("$e", eventId), ("$s", sessionId.ToArray()), ("$o", output));
        using (var ev = db.Command("INSERT INTO pending_events (event_id, session_id, transcript_hash) VALUES ($e, $s, $h)",
                   ("$e", eventId), ("$s", sessionId.ToArray()), ("$h", transcriptHash.ToArray())))
        {
            try { ev.ExecuteNonQuery(); }
            catch (SqliteException e) when (e.SqliteErrorCode == 19) { throw new VaultException($"vault {Path} already holds pending shards of event {eventId}"); }
        }
        foreach (var share in shares)
        {
            var active = ActiveEpochs(share.KeyId);
            if ((share.Epoch == 0) != firstEpoch || (active.Count > 0 && share.Epoch <= active.Max()))
                throw new VaultException(firstEpoch ? $"key generation: vault {Path} already holds key '{share.KeyId}' (or the share is not of epoch 0)"
                    : $"pending epoch {share.Epoch} of key '{share.KeyId}' must be newer than the active one (have: {(active.Count == 0 ? "none" : string.Join(",", active))})");
            Insert(share, ShardState.Pending, eventId);
        }
        tx.Commit();
    }

    /// <summary>The active share of a key, or null. Throws if the stored ciphertext fails authentication.</summary>
    public KeyShare? GetActive(string keyId) => GetActive(keyId, null);

    /// <summary>
    /// The active share of a key, or null. When the stored share's public part is exactly <paramref name="expected"/>
    /// (a package the caller has validated, e.g. a reshare plan's), it is not validated again: only the share's own
    /// checks are made (membership, s·G against its verification share).
    /// </summary>
    public KeyShare? GetActive(string keyId, PublicKeyPackage? expected)
    {
        var epochs = ActiveEpochs(keyId);
        return epochs.Count == 0 ? null : Get(keyId, epochs.Max(), ShardState.Active, expected);
    }

    /// <summary>The decrypted record of a shard row (the caller wipes it), or null when there is no such row.</summary>
    private byte[]? OpenShard(string keyId, ulong epoch, ShardState state, string what)
    {
        using var cmd = db.Command("SELECT nonce, ciphertext FROM shards WHERE key_id = $k AND epoch = $e AND state = $s",
            ("$k", keyId), ("$e", (long)epoch), ("$s", StateName(state)));
        using var r = cmd.ExecuteReader();
        return r.Read() ? Open((byte[])r[0], (byte[])r[1], ShardAad(keyId, epoch, state), what) : null;
    }

    /// <summary>The share of a key at an epoch in the given state; null if there is none.</summary>
    public KeyShare? Get(string keyId, ulong epoch, ShardState state) => Get(keyId, epoch, state, null);

    private KeyShare? Get(string keyId, ulong epoch, ShardState state, PublicKeyPackage? expected)
    {
        var what = $"shard of key '{keyId}' epoch {epoch} ({StateName(state)})";
        if (OpenShard(keyId, epoch, state, what) is not { } plain) return null;
        try
        {
            var share = DecodeRecord(plain, what, expected);
            if (share.KeyId != keyId || share.Epoch != epoch) throw new VaultException($"{what}: record names key '{share.KeyId}' epoch {share.Epoch}");
            return share;
        }
        finally { CryptographicOperations.ZeroMemory(plain); }
    }

    /// <summary>
    /// Decodes and validates a stored shard record (the plaintext under the vault key); anything wrong is a
    /// <see cref="VaultException"/> naming the record and the problem.
    /// </summary>
    internal static KeyShare DecodeRecord(ReadOnlySpan<byte> plain, string what, PublicKeyPackage? expected = null)
    {
        KeyShareData data;
        try { data = JsonSerializer.Deserialize<KeyShareData>(plain) ?? throw new VaultException($"{what}: empty record"); }
        catch (JsonException e) { throw new VaultException($"{what}: unreadable record ({Rotor.Crypto.JsonErrors.Describe(e)})"); }
        try { return Validate(data, expected); }
        catch (Exception e) when (e is ArgumentException or Rotor.Crypto.RotorCryptoException or Rotor.Protocols.ProtocolException)
        {
            throw new VaultException($"{what}: invalid record ({e.Message})");
        }
        finally { CryptographicOperations.ZeroMemory(data.SigningShare ?? []); }
    }

    /// <summary>
    /// <see cref="KeyShareData.Validate"/>, with the public part checked once per process: a package that passed
    /// validation is remembered (<see cref="ValidatedPackages"/>), so a share read again (each signature reads its
    /// share) only has its own checks redone (membership, and s·G against its verification share). No secret is kept.
    /// </summary>
    private static KeyShare Validate(KeyShareData data, PublicKeyPackage? expected)
    {
        // Anything incomplete takes the full validation, which names what is wrong.
        if (data.Members is null || data.VerifyingShares is null || data.GroupPublicKey is null || data.Identifier is null || data.SigningShare is null
            || data.KeyId is null || data.Scheme is null || data.Members.Any(m => m is null) || data.VerifyingShares.Any(v => v is null)
            || data.Members.Length != data.VerifyingShares.Length || data.MemberKeys is null || data.ChainCode is null || data.InternalKey is null
            || (data.MemberKeys.Length != 0 && data.MemberKeys.Length != data.Members.Length)) return data.Validate();
        var digest = ValidatedPackages.Digest(data.KeyId, data.Scheme, data.Epoch, data.Threshold,
            data.Members.Select((m, i) => (m, data.VerifyingShares[i], data.MemberKeys.Length == 0 ? [] : data.MemberKeys[i])), data.GroupPublicKey,
            data.ChainCode, data.InternalKey);
        var pub = expected is not null && digest == ValidatedPackages.Digest(expected) ? expected : ValidatedPackages.Shared.Find(digest);
        if (pub is null)
        {
            var share = data.Validate();
            ValidatedPackages.Shared.GetOrValidate(digest, () => share.Public);
            return share;
        }
        var g = pub.Group;
        return KeyShare.Create(pub, Identifier.Decode(g, data.Identifier), g.DecodeScalar(data.SigningShare));
    }

    /// <summary>
    /// The public side of a stored shard without validating it again (the record authenticated under the vault key):
    /// its package digest (<see cref="ValidatedPackages.Digest(PublicKeyPackage)"/> layout) and group key encoding.
    /// What a commit compares with the certified event before erasing; null when there is no such shard.
    /// </summary>
    public (string PackageDigest, byte[] GroupKey)? PublicOf(string keyId, ulong epoch, ShardState state)
    {
        var what = $"shard of key '{keyId}' epoch {epoch} ({StateName(state)})";
        if (OpenShard(keyId, epoch, state, what) is not { } plain) return null;
        try
        {
            var data = JsonSerializer.Deserialize<KeyShareData>(plain) ?? throw new VaultException($"{what}: empty record");
            CryptographicOperations.ZeroMemory(data.SigningShare);
            if (data.Members.Length != data.VerifyingShares.Length || (data.MemberKeys.Length != 0 && data.MemberKeys.Length != data.Members.Length))
                throw new VaultException($"{what}: malformed record");
            var digest = ValidatedPackages.Digest(data.KeyId, data.Scheme, data.Epoch, data.Threshold,
                data.Members.Select((m, i) => (m, data.VerifyingShares[i], data.MemberKeys.Length == 0 ? [] : data.MemberKeys[i])), data.GroupPublicKey,
                data.ChainCode, data.InternalKey);
            return (digest, data.GroupPublicKey);
        }
        finally { CryptographicOperations.ZeroMemory(plain); }
    }

    /// <summary>The active epoch of a key, or null: what signing checks, without decrypting the shard again.</summary>
    public ulong? ActiveEpoch(string keyId)
    {
        var epochs = ActiveEpochs(keyId);
        return epochs.Count == 0 ? null : epochs.Max();
    }

    /// <summary>Every stored shard (key id, epoch, state, event), no secret.</summary>
    public IReadOnlyList<ShardInfo> List()
    {
        using var cmd = db.Command("SELECT key_id, epoch, state, event_id FROM shards ORDER BY key_id, epoch");
        using var r = cmd.ExecuteReader();
        var list = new List<ShardInfo>();
        while (r.Read())
            list.Add(new ShardInfo(r.GetString(0), (ulong)r.GetInt64(1), ParseState(r.GetString(2)), r.IsDBNull(3) ? null : r.GetString(3)));
        return list;
    }

    /// <summary>
    /// The shards stored in the vault file at <paramref name="path"/> (key id, epoch, state, event; no secret), read
    /// without the vault key: what a sealed node reports. Empty when the file holds no vault.
    /// </summary>
    public static IReadOnlyList<ShardInfo> ListWithoutKey(string path)
    {
        if (!File.Exists(path)) return [];
        var list = new List<ShardInfo>();
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT key_id, epoch, state, event_id FROM shards ORDER BY key_id, epoch";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                list.Add(new ShardInfo(r.GetString(0), (ulong)r.GetInt64(1), ParseState(r.GetString(2)), r.IsDBNull(3) ? null : r.GetString(3)));
        }
        catch (Exception e) when (e is SqliteException or VaultException) { return []; }
        return list;
    }

    /// <summary>The reshare events with pending shards.</summary>
    public IReadOnlyList<PendingEvent> PendingEvents()
    {
        using var cmd = db.Command("SELECT event_id, session_id, transcript_hash FROM pending_events ORDER BY event_id");
        using var r = cmd.ExecuteReader();
        var list = new List<PendingEvent>();
        while (r.Read()) list.Add(new PendingEvent(r.GetString(0), (byte[])r[1], (byte[])r[2]));
        return list;
    }

    /// <summary>
    /// Commits an event: in one transaction its pending shards become active (re-encrypted under the active
    /// state's associated data) and every older epoch of those keys, plus every epoch of
    /// <paramref name="eraseBelow"/>'s keys below the given epoch, is erased. Returns (activated, erased).
    /// </summary>
    public (IReadOnlyList<ShardInfo> Activated, IReadOnlyList<ShardInfo> Erased) Activate(string eventId, IReadOnlyDictionary<string, ulong> eraseBelow)
    {
        using var tx = db.Begin();
        var pending = List().Where(s => s.State == ShardState.Pending && s.EventId == eventId).ToList();
        var activated = new List<ShardInfo>();
        var erased = new List<ShardInfo>();
        foreach (var p in pending)
        {
            // Re-encrypt under the active state's associated data (authenticating the pending record first).
            var what = $"shard of key '{p.KeyId}' epoch {p.Epoch} (pending)";
            using (var cmd = db.Command("SELECT nonce, ciphertext FROM shards WHERE key_id = $k AND epoch = $e", ("$k", p.KeyId), ("$e", (long)p.Epoch)))
            using (var r = cmd.ExecuteReader())
            {
                r.Read();
                var plain = Open((byte[])r[0], (byte[])r[1], ShardAad(p.KeyId, p.Epoch, ShardState.Pending), what);
                try
                {
                    var (nonce, ct) = Seal(plain, ShardAad(p.KeyId, p.Epoch, ShardState.Active));
                    r.Close();
                    Exec("UPDATE shards SET state = 'active', event_id = NULL, nonce = $n, ciphertext = $c WHERE key_id = $k AND epoch = $e",
                        ("$n", nonce), ("$c", ct), ("$k", p.KeyId), ("$e", (long)p.Epoch));
                }
                finally { CryptographicOperations.ZeroMemory(plain); }
            }
            activated.Add(p with { State = ShardState.Active, EventId = null });
        }
        var limits = new Dictionary<string, ulong>(eraseBelow);
        foreach (var a in activated) limits[a.KeyId] = Math.Max(limits.GetValueOrDefault(a.KeyId), a.Epoch);
        foreach (var s in List())
        {
            if (!limits.TryGetValue(s.KeyId, out var below) || s.Epoch >= below) continue;
            Exec("DELETE FROM shards WHERE key_id = $k AND epoch = $e", ("$k", s.KeyId), ("$e", (long)s.Epoch));
            erased.Add(s);
        }
        Exec("DELETE FROM pending_events WHERE event_id = $e", ("$e", eventId));
        tx.Commit();
        ForgetErased();
        return (activated, erased);
    }

    /// <summary>Whether committing <paramref name="eventId"/> would change anything: pending shards of it, or epochs below the given ones.</summary>
    public bool HasWorkFor(string eventId, IReadOnlyDictionary<string, ulong> eraseBelow) =>
        List().Any(s => (s.State == ShardState.Pending && s.EventId == eventId) || (eraseBelow.TryGetValue(s.KeyId, out var below) && s.Epoch < below));

    /// <summary>Whether this node has renounced the event (it will never confirm it).</summary>
    public bool IsRenounced(string eventId)
    {
        using var cmd = db.Command("SELECT 1 FROM renounced_events WHERE event_id = $e", ("$e", eventId));
        return cmd.ExecuteScalar() is not null;
    }

    /// <summary>
    /// Renounces an event durably unless this node confirmed it: returns null when renounced (now or before, for this
    /// session id), or the output it confirmed with. Refuses a renunciation of the same event id under another session.
    /// </summary>
    public byte[]? Renounce(string eventId, ReadOnlySpan<byte> sessionId)
    {
        using var tx = db.Begin();
        using (var c = db.Command("SELECT session_id, output FROM confirmed_events WHERE event_id = $e", ("$e", eventId)))
        using (var r = c.ExecuteReader())
            if (r.Read()) return r.IsDBNull(1) ? [] : (byte[])r[1];
        using (var c = db.Command("SELECT session_id FROM renounced_events WHERE event_id = $e", ("$e", eventId)))
            if (c.ExecuteScalar() is byte[] known)
            {
                if (!CryptographicOperations.FixedTimeEquals(known, sessionId))
                    throw new VaultException($"reshare {eventId} was renounced under another session");
                return null;
            }
        Exec("INSERT INTO renounced_events (event_id, session_id) VALUES ($e, $s)", ("$e", eventId), ("$s", sessionId.ToArray()));
        tx.Commit();
        return null;
    }

    /// <summary>
    /// Discards pending shards of events other than <paramref name="exceptEvent"/> whose key a verified later event took to
    /// <paramref name="superseded"/>'s epoch or beyond (they can never be used). Returns what was discarded.
    /// </summary>
    public IReadOnlyList<ShardInfo> DiscardSuperseded(IReadOnlyDictionary<string, ulong> superseded, string exceptEvent)
    {
        var gone = List().Where(s => s.State == ShardState.Pending && s.EventId != exceptEvent &&
                                     superseded.TryGetValue(s.KeyId, out var e) && s.Epoch <= e).ToList();
        if (gone.Count == 0) return gone;
        using var tx = db.Begin();
        foreach (var g in gone) Exec("DELETE FROM shards WHERE key_id = $k AND epoch = $e AND state = 'pending'", ("$k", g.KeyId), ("$e", (long)g.Epoch));
        Exec("DELETE FROM pending_events WHERE event_id NOT IN (SELECT DISTINCT event_id FROM shards WHERE state = 'pending' AND event_id IS NOT NULL)");
        tx.Commit();
        ForgetErased();
        return gone;
    }

    /// <summary>Discards an event's pending shards; the active epochs stay. Returns what was discarded.</summary>
    public IReadOnlyList<ShardInfo> Discard(string eventId)
    {
        using var tx = db.Begin();
        var pending = List().Where(s => s.State == ShardState.Pending && s.EventId == eventId).ToList();
        Exec("DELETE FROM shards WHERE state = 'pending' AND event_id = $e", ("$e", eventId));
        Exec("DELETE FROM pending_events WHERE event_id = $e", ("$e", eventId));
        tx.Commit();
        ForgetErased();
        return pending;
    }

    // ------------------------------------------------------------------ ECDSA pair material

    /// <summary>
    /// Stores this node's ECDSA OT material with some peers for the shard of <paramref name="keyId"/> at
    /// <paramref name="epoch"/> (active, or pending in a reshare), replacing what it held for those pairs, in one
    /// transaction. Each pair is encrypted under the vault key with associated data binding node, key id, epoch and
    /// peer. The material lives and dies with its shard row: a trigger erases it with the row (commit erasing the old
    /// epoch, discard, supersession), and activation keeps it with the row. Refused when there is no such shard, or
    /// when the material is of another key or epoch.
    /// </summary>
    public void PutPairs(string keyId, ulong epoch, IEnumerable<Rotor.Protocols.Ecdsa.EcdsaPairMaterial> material)
    {
        using var tx = db.Begin();
        using (var c = db.Command("SELECT 1 FROM shards WHERE key_id = $k AND epoch = $e", ("$k", keyId), ("$e", (long)epoch)))
            if (c.ExecuteScalar() is null) throw new VaultException($"vault {Path} holds no shard of key '{keyId}' epoch {epoch} to keep ECDSA pair material with");
        foreach (var m in material)
        {
            if (m.KeyId != keyId || m.Epoch != epoch)
                throw new VaultException($"ECDSA pair material of key '{m.KeyId}' epoch {m.Epoch} offered for key '{keyId}' epoch {epoch}");
            var peer = m.Peer.ToBytes();
            var plain = m.ToBytes();
            try
            {
                var (nonce, ct) = Seal(plain, PairAad(keyId, epoch, peer));
                Exec("INSERT OR REPLACE INTO ecdsa_pairs (key_id, epoch, peer, nonce, ciphertext) VALUES ($k, $e, $p, $n, $c)",
                    ("$k", keyId), ("$e", (long)epoch), ("$p", peer), ("$n", nonce), ("$c", ct));
            }
            finally { CryptographicOperations.ZeroMemory(plain); }
        }
        tx.Commit();
    }

    /// <summary>
    /// The ECDSA OT material stored with the shard of <paramref name="keyId"/> at <paramref name="epoch"/> (any state),
    /// each authenticated and decoded; empty when none. Binding to the share is <see cref="Rotor.Protocols.Ecdsa.EcdsaKeyShare.Create"/>'s.
    /// </summary>
    public IReadOnlyList<Rotor.Protocols.Ecdsa.EcdsaPairMaterial> GetPairs(string keyId, ulong epoch)
    {
        using var cmd = db.Command("SELECT peer, nonce, ciphertext FROM ecdsa_pairs WHERE key_id = $k AND epoch = $e ORDER BY peer", ("$k", keyId), ("$e", (long)epoch));
        using var r = cmd.ExecuteReader();
        var list = new List<Rotor.Protocols.Ecdsa.EcdsaPairMaterial>();
        while (r.Read())
        {
            var peer = (byte[])r[0];
            var what = $"ECDSA pair material of key '{keyId}' epoch {epoch} with {Convert.ToHexStringLower(peer)[^4..]}";
            var plain = Open((byte[])r[1], (byte[])r[2], PairAad(keyId, epoch, peer), what);
            try { list.Add(Rotor.Protocols.Ecdsa.EcdsaPairMaterial.FromBytes(plain)); }
            catch (ArgumentException e) { throw new VaultException($"{what}: invalid record ({e.Message})"); }
            finally { CryptographicOperations.ZeroMemory(plain); }
        }
        return list;
    }

    /// <summary>
    /// Erases this node's material with one peer (retired after a failed OT or multiplication check: it is never used
    /// again; the pair must be set up anew before the two sign together).
    /// </summary>
    public void RetirePair(string keyId, ulong epoch, ReadOnlySpan<byte> peer)
    {
        Exec("DELETE FROM ecdsa_pairs WHERE key_id = $k AND epoch = $e AND peer = $p", ("$k", keyId), ("$e", (long)epoch), ("$p", peer.ToArray()));
        ForgetErased();
    }

    /// <summary>How many peers this node holds ECDSA material with, for each (key id, epoch) that has any. No secret.</summary>
    public IReadOnlyDictionary<(string KeyId, ulong Epoch), int> PairCounts()
    {
        using var cmd = db.Command("SELECT key_id, epoch, COUNT(*) FROM ecdsa_pairs GROUP BY key_id, epoch");
        using var r = cmd.ExecuteReader();
        var d = new Dictionary<(string, ulong), int>();
        while (r.Read()) d[(r.GetString(0), (ulong)r.GetInt64(1))] = r.GetInt32(2);
        return d;
    }

    private byte[] PairAad(string keyId, ulong epoch, byte[] peer)
    {
        using var t = new Transcript("rotor/vault/ecdsa-pair/v1");
        return t.Append("node", node).Append("key-id", keyId).Append("epoch", epoch).Append("peer", peer).Digest();
    }

    /// <summary>
    /// After an erasure: copies the write-ahead log into the file (where secure_delete has zeroed the erased rows)
    /// and truncates it, so that no earlier page image of an erased shard stays in the log.
    /// </summary>
    private void ForgetErased()
    {
        db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }

    /// <summary>
    /// Null when the vault key opens the vault and every stored shard authenticates under its row's associated
    /// data (AES-GCM tag check, no decoding); otherwise what is wrong, naming the first bad shard. Cached between
    /// changes (the node's status is polled every second), re-read at least every 30 seconds.
    /// </summary>
    public string? Health()
    {
        if (healthChecked == writes && DateTime.UtcNow - healthCheckedAt < HealthRecheck) return lastHealth;
        healthChecked = writes;
        healthCheckedAt = DateTime.UtcNow;
        return lastHealth = CheckAll();
    }

    /// <summary>Health is re-read after every change this process makes, and at least this often (changes made behind its back).</summary>
    private static readonly TimeSpan HealthRecheck = TimeSpan.FromSeconds(30);
    private long writes;
    private long healthChecked = -1;
    private DateTime healthCheckedAt;
    private string? lastHealth;

    private string? CheckAll()
    {
        try
        {
            CheckKey();
            using var cmd = db.Command("SELECT key_id, epoch, state, nonce, ciphertext FROM shards");
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var (keyId, epoch, state) = (r.GetString(0), (ulong)r.GetInt64(1), ParseState(r.GetString(2)));
                var plain = Open((byte[])r[3], (byte[])r[4], ShardAad(keyId, epoch, state), $"shard of key '{keyId}' epoch {epoch} ({StateName(state)})");
                CryptographicOperations.ZeroMemory(plain);
            }
            r.Close();
            using var pairs = db.Command("SELECT key_id, epoch, peer, nonce, ciphertext FROM ecdsa_pairs");
            using var pr = pairs.ExecuteReader();
            while (pr.Read())
            {
                var (keyId, epoch, peer) = (pr.GetString(0), (ulong)pr.GetInt64(1), (byte[])pr[2]);
                CryptographicOperations.ZeroMemory(Open((byte[])pr[3], (byte[])pr[4], PairAad(keyId, epoch, peer), $"ECDSA pair material of key '{keyId}' epoch {epoch}"));
            }
            return null;
        }
        catch (Exception e) when (e is VaultException or SqliteException)
        {
            return e.Message;
        }
    }

    public void Dispose()
    {
        db.Dispose();
        CryptographicOperations.ZeroMemory(key);
    }

    public override string ToString() => $"ShareVault({Path})";

    // ------------------------------------------------------------------ internals

    private List<ulong> ActiveEpochs(string keyId)
    {
        using var cmd = db.Command("SELECT epoch FROM shards WHERE key_id = $k AND state = 'active'", ("$k", keyId));
        using var r = cmd.ExecuteReader();
        var list = new List<ulong>();
        while (r.Read()) list.Add((ulong)r.GetInt64(0));
        return list;
    }

    private void Insert(KeyShare share, ShardState state, string? eventId)
    {
        var plain = JsonSerializer.SerializeToUtf8Bytes(share.ToData());
        try
        {
            var (nonce, ct) = Seal(plain, ShardAad(share.KeyId, share.Epoch, state));
            using var cmd = db.Command("INSERT INTO shards (key_id, epoch, state, event_id, nonce, ciphertext) VALUES ($k, $e, $s, $ev, $n, $c)",
                ("$k", share.KeyId), ("$e", (long)share.Epoch), ("$s", StateName(state)), ("$ev", (object?)eventId ?? DBNull.Value), ("$n", nonce), ("$c", ct));
            try { cmd.ExecuteNonQuery(); }
            catch (SqliteException e) when (e.SqliteErrorCode == 19)
            {
                throw new VaultException($"vault {Path} already holds key '{share.KeyId}' epoch {share.Epoch}");
            }
            writes++;
            ValidatedPackages.Shared.Remember(share.Public);
        }
        finally { CryptographicOperations.ZeroMemory(plain); }
    }

    private void CheckKey()
    {
        using var cmd = db.Command("SELECT nonce, ciphertext FROM meta WHERE name = 'check'");
        using var r = cmd.ExecuteReader();
        if (r.Read())
        {
            try { Open((byte[])r[0], (byte[])r[1], SecretAad("check"), "check value"); }
            catch (VaultException) { throw new VaultException($"the vault key does not open {Path}: wrong master secret or passphrase, or the vault belongs to another node than '{node}'"); }
            return;
        }
        r.Close();
        PutSecret("check", CheckPlaintext);
    }

    private byte[] ShardAad(string keyId, ulong epoch, ShardState state)
    {
        using var t = new Transcript("rotor/vault/shard/v1");
        return t.Append("node", node).Append("key-id", keyId).Append("epoch", epoch).Append("state", StateName(state)).Digest();
    }

    private byte[] SecretAad(string name)
    {
        using var t = new Transcript("rotor/vault/secret/v1");
        return t.Append("node", node).Append("name", name).Digest();
    }

    private (byte[] Nonce, byte[] Ciphertext) Seal(ReadOnlySpan<byte> plaintext, byte[] aad)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceLength);
        var ct = new byte[plaintext.Length + TagLength];
        using var aes = new AesGcm(key, TagLength);
        aes.Encrypt(nonce, plaintext, ct.AsSpan(0, plaintext.Length), ct.AsSpan(plaintext.Length), aad);
        return (nonce, ct);
    }

    private byte[] Open(byte[] nonce, byte[] ct, byte[] aad, string what)
    {
        if (nonce.Length != NonceLength || ct.Length < TagLength) throw new VaultException($"{what} in {Path} is malformed");
        var plain = new byte[ct.Length - TagLength];
        try
        {
            using var aes = new AesGcm(key, TagLength);
            aes.Decrypt(nonce, ct.AsSpan(0, plain.Length), ct.AsSpan(plain.Length), plain, aad);
            return plain;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new VaultException($"{what} in {Path} failed authentication: wrong vault key, or the record was altered or moved");
        }
    }

    private void Exec(string sql, params (string Name, object Value)[] args)
    {
        db.Exec(sql, args);
        writes++;
    }

    private static string StateName(ShardState s) => s == ShardState.Active ? "active" : "pending";

    private static ShardState ParseState(string s) => s switch
    {
        "active" => ShardState.Active,
        "pending" => ShardState.Pending,
        _ => throw new VaultException($"unknown shard state '{s}'"),
    };
}
