using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rotor.Rpc.Storage;
using Rotor.Crypto.Hashing;

namespace Rotor.Coordinator.Audit;

/// <summary>The kinds of audit entries.</summary>
public static class AuditKinds
{
    public const string NodeAdded = "node.added";
    public const string QuorumCreated = "quorum.created";
    public const string WalletsCreated = "wallets.created";
    public const string ReshareRequested = "reshare.requested";
    public const string ReshareStatus = "reshare.status";
    public const string BackupCreated = "backup.created";
    public const string BackupObsolete = "backup.obsolete";
    public const string BackupVerified = "backup.verified";
    public const string BackupRestored = "backup.restored";
    public const string BackupRefused = "backup.refused";
    public const string RepairCompleted = "repair.completed";
    public const string RepairFailed = "repair.failed";
    public const string PolicySet = "policy.set";
    public const string PolicyCleared = "policy.cleared";
    public const string MailboxDelivered = "mailbox.delivered";
    /// <summary>The first entry of every log: the audit public key that signs it, signed by that key.</summary>
    public const string Genesis = "log.genesis";
    public const string SignCompleted = "sign.completed";
    public const string SignFailed = "sign.failed";
    public const string BackupDeleted = "backup.deleted";
    public const string WitnessRefused = "witness.refused";
}

/// <summary>One entry of the audit log, as stored: what happened, to what, by whom, chained and signed.</summary>
/// <param name="Seq">Position in the log, from 1, without gaps.</param>
/// <param name="Time">When it was appended (Unix milliseconds).</param>
/// <param name="Kind">One of <see cref="AuditKinds"/>.</param>
/// <param name="Quorum">The quorum concerned, if any.</param>
/// <param name="Subject">The node, wallet, event, backup or policy concerned, if any.</param>
/// <param name="Actor">Who asked for it (an operator name, or "coordinator" for what it did by itself).</param>
/// <param name="Details">A JSON object with the particulars; hashed exactly as stored.</param>
/// <param name="PrevHash">The previous entry's hash (64 zero bytes for the first).</param>
/// <param name="Hash">SHA-512 transcript of every field above.</param>
/// <param name="Signature">The coordinator's Ed25519 signature over the hash.</param>
public sealed record AuditEntry(long Seq, long Time, string Kind, string? Quorum, string? Subject, string Actor, string Details,
    byte[] PrevHash, byte[] Hash, byte[] Signature);

/// <summary>The outcome of checking the log: intact, or the first entry found wrong and how.</summary>
public sealed record AuditVerification(bool Intact, long Entries, long? FirstBadSeq, string? Problem, string? HeadHash, string PublicKey);

/// <summary>
/// The coordinator's append-only audit log, in its own SQLite file. Every entry carries the hash of the one before
/// and is signed with the coordinator's audit key; a signed head (last position and hash) is written in the same
/// transaction as each entry. <see cref="Verify"/> walks the chain and names the first entry that was edited,
/// deleted, inserted or reordered; the head catches the deletion of the last entries.
/// </summary>
/// <remarks>
/// What it cannot catch: a rollback of the whole file to an earlier copy (every entry and head in it were once
/// genuine). Record <see cref="AuditVerification.HeadHash"/> outside the coordinator now and then to anchor it.
/// </remarks>
public sealed class AuditLog : IDisposable
{
    private const string EntryDomain = "rotor/audit/v1/entry";
    private static readonly byte[] Genesis = new byte[64];
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly SqliteDatabase db;
    private readonly AuditKey key;
    private readonly Func<DateTimeOffset> clock;

    private AuditLog(SqliteDatabase db, AuditKey key, Func<DateTimeOffset> clock)
    {
        this.db = db;
        this.key = key;
        this.clock = clock;
    }

    /// <summary>Opens (or creates) the log at <paramref name="path"/>; entries are signed with <paramref name="key"/> (the caller keeps it).</summary>
    public static AuditLog Open(string path, AuditKey key, Func<DateTimeOffset>? clock = null)
    {
        var db = new SqliteDatabase(path, """
            CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL, quorum TEXT,
                subject TEXT, actor TEXT NOT NULL, details TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, signature BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_quorum ON audit (quorum);
            CREATE TABLE IF NOT EXISTS head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL, signature BLOB NOT NULL);
            """);
        var log = new AuditLog(db, key, clock ?? (() => DateTimeOffset.UtcNow));
        lock (db)
        {
            // A new log starts with its signed genesis entry: an emptied log (no genesis) or a log begun under another
            // key (a genesis naming another key) fails verification against the operators' pinned key.
            if (db.Scalar<long>("SELECT COUNT(*) FROM audit") == 0)
                log.Append(AuditKinds.Genesis, "coordinator", null, null, new { public_key = Convert.ToHexStringLower(key.PublicKey), format = "rotor-audit/v1" });
        }
        return log;
    }

    /// <summary>The raw Ed25519 public key that verifies this log.</summary>
    public byte[] PublicKey => key.PublicKey;

    /// <summary>
    /// Appends an entry; <paramref name="details"/> is serialized to a JSON object (snake_case). Returns the stored entry.
    /// </summary>
    public AuditEntry Append(string kind, string actor, string? quorum, string? subject, object details) =>
        AppendAll(actor, [(kind, quorum, subject, details)])[0];

    /// <summary>
    /// Appends entries in order, in one transaction (one flush to disk however many there are: a key generation of
    /// thousands of wallets logs one entry per wallet). The head is signed once, at the last entry.
    /// </summary>
    public IReadOnlyList<AuditEntry> AppendAll(string actor, IReadOnlyList<(string Kind, string? Quorum, string? Subject, object Details)> items)
    {
        if (string.IsNullOrWhiteSpace(actor)) throw new ArgumentException("audit entry actor is empty");
        var prepared = items.Select(i =>
        {
            if (string.IsNullOrWhiteSpace(i.Kind)) throw new ArgumentException("audit entry kind is empty");
            var json = JsonSerializer.Serialize(i.Details, i.Details.GetType(), Json);
            if (!json.StartsWith('{')) throw new ArgumentException("audit entry details must be a JSON object");
            return (i.Kind, i.Quorum, i.Subject, Json: json);
        }).ToList();
        if (prepared.Count == 0) return [];
        lock (db)
        {
            using var tx = db.Begin();
            var (lastSeq, lastHash) = Last();
            var time = Math.Max(clock().ToUnixTimeMilliseconds(), db.Scalar<long>("SELECT COALESCE(MAX(time), 0) FROM audit"));
            var entries = new List<AuditEntry>(prepared.Count);
            foreach (var (kind, quorum, subject, json) in prepared)
            {
                var seq = lastSeq + 1;
                var hash = EntryHash(seq, time, kind, quorum, subject, actor, json, lastHash);
                var entry = new AuditEntry(seq, time, kind, quorum, subject, actor, json, lastHash, hash, key.Sign(SignedEntry(hash)));
                db.Exec("""
                    INSERT INTO audit (seq, time, kind, quorum, subject, actor, details, prev_hash, hash, signature)
                    VALUES ($seq, $t, $k, $q, $s, $a, $d, $p, $h, $sig)
                    """, ("$seq", seq), ("$t", time), ("$k", kind), ("$q", (object?)quorum ?? DBNull.Value), ("$s", (object?)subject ?? DBNull.Value),
                    ("$a", actor), ("$d", json), ("$p", lastHash), ("$h", hash), ("$sig", entry.Signature));
                entries.Add(entry);
                (lastSeq, lastHash) = (seq, hash);
            }
            db.Exec("INSERT OR REPLACE INTO head (id, seq, hash, signature) VALUES (1, $seq, $h, $sig)",
                ("$seq", lastSeq), ("$h", lastHash), ("$sig", key.Sign(SignedHead(lastSeq, lastHash))));
            tx.Commit();
            return entries;
        }
    }

    /// <summary>The entries in order, optionally only those of one quorum.</summary>
    public IReadOnlyList<AuditEntry> Read(string? quorum = null)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT seq, time, kind, quorum, subject, actor, details, prev_hash, hash, signature FROM audit"
                + (quorum is null ? " ORDER BY seq" : " WHERE quorum = $q ORDER BY seq"), quorum is null ? [] : [("$q", quorum)]);
            using var r = cmd.ExecuteReader();
            var list = new List<AuditEntry>();
            while (r.Read())
                list.Add(new AuditEntry(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5), r.GetString(6), Blob(r, 7), Blob(r, 8), Blob(r, 9)));
            return list;
        }
    }

    /// <summary>The signed head: last position, its hash and the audit key's signature; null for a log without one.</summary>
    public (long Seq, byte[] Hash, byte[] Signature)? Head()
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT seq, hash, signature FROM head WHERE id = 1");
            using var r = cmd.ExecuteReader();
            return r.Read() ? (r.GetInt64(0), Blob(r, 1), Blob(r, 2)) : null;
        }
    }

    /// <summary>
    /// Checks this log against its own key; see <see cref="Verify(IReadOnlyList{AuditEntry}, (long, byte[], byte[])?, byte[])"/>.
    /// The coordinator's own view only: operators verify on their side against their pinned key (<c>rotor log --verify</c>).
    /// </summary>
    public AuditVerification Verify() => Verify(Read(), Head(), key.PublicKey);

    /// <summary>
    /// Walks the chain from the first entry: positions must run 1, 2, 3… (a gap is a deletion), each entry's previous
    /// hash must be its predecessor's hash (else it was reordered, inserted or replaced), its hash must match its
    /// fields (else it was edited) and its signature must verify; finally the signed head must name the last entry
    /// (else entries at the end were deleted). Stops at the first problem and names the entry.
    /// </summary>
    public static AuditVerification Verify(IReadOnlyList<AuditEntry> entries, (long Seq, byte[] Hash, byte[] Signature)? head, byte[] publicKey)
    {
        var pk = Convert.ToHexStringLower(publicKey);
        AuditVerification Bad(long seq, string problem) => new(false, entries.Count, seq, problem, null, pk);
        var prev = Genesis;
        long expected = 1;
        if (entries.Count == 0)
            return Bad(1, head is { } h0 && h0.Seq > 0
                ? $"the log is empty but its signed head names entry {h0.Seq}: every entry was deleted"
                : "the log is empty: it has no signed genesis entry (a log starts with one; it was emptied or replaced)");
        foreach (var e in entries)
        {
            if (e.Seq != expected)
                return Bad(expected, e.Seq > expected
                    ? $"entr{(e.Seq - expected == 1 ? $"y {expected} is" : $"ies {expected}..{e.Seq - 1} are")} missing: deleted (the log goes on at entry {e.Seq})"
                    : $"entry {e.Seq} appears out of order where entry {expected} belongs");
            if (!e.PrevHash.AsSpan().SequenceEqual(prev))
                return Bad(e.Seq, expected == 1
                    ? "entry 1 does not start the chain: entries before it were deleted or it was replaced"
                    : $"entry {e.Seq} does not follow entry {e.Seq - 1} (its previous-hash link is broken): entries were reordered, inserted or replaced");
            if (!AuditKey.Verify(publicKey, SignedEntry(e.Hash), e.Signature))
                return Bad(e.Seq, $"entry {e.Seq} ({e.Kind}) has a signature that does not verify under the coordinator's audit key: forged or its hash was edited");
            if (!EntryHash(e.Seq, e.Time, e.Kind, e.Quorum, e.Subject, e.Actor, e.Details, e.PrevHash).AsSpan().SequenceEqual(e.Hash))
                return Bad(e.Seq, $"entry {e.Seq} ({e.Kind}) was edited: its fields no longer match its signed hash");
            if (e.Seq == 1 && (e.Kind != AuditKinds.Genesis || GenesisKey(e.Details) != pk))
                return Bad(1, e.Kind != AuditKinds.Genesis
                    ? $"entry 1 is {e.Kind}, not the signed genesis entry: the log's beginning was replaced"
                    : $"the genesis entry names audit key {GenesisKey(e.Details)}, not {pk}: the log was begun under another key");
            prev = e.Hash;
            expected++;
        }
        var last = expected - 1;
        if (head is null)
            return last == 0 ? new AuditVerification(true, 0, null, null, null, pk) : Bad(last, "the log's signed head is missing");
        var (hs, hh, hsig) = head.Value;
        if (!AuditKey.Verify(publicKey, SignedHead(hs, hh), hsig))
            return Bad(Math.Min(hs, last + 1), "the log's head has a signature that does not verify: it was edited");
        if (hs > last)
            return Bad(last + 1, $"the log ends at entry {last} but its signed head names entry {hs}: entr{(hs - last == 1 ? $"y {hs} was" : $"ies {last + 1}..{hs} were")} deleted");
        if (hs < last || !hh.AsSpan().SequenceEqual(prev))
            return Bad(hs, $"the log's signed head names entry {hs} with another hash than the log holds: the log was rolled back or rewritten after it");
        return new AuditVerification(true, last, null, null, Convert.ToHexStringLower(prev), pk);
    }

    public void Dispose() => db.Dispose();

    // ------------------------------------------------------------------ internals

    private static byte[] EntryHash(long seq, long time, string kind, string? quorum, string? subject, string actor, string details, byte[] prevHash)
    {
        using var t = new Transcript(EntryDomain);
        return t.Append("seq", (ulong)seq).Append("time", (ulong)time).Append("kind", kind)
            .Append("quorum", quorum is null ? [] : [1, .. System.Text.Encoding.UTF8.GetBytes(quorum)])
            .Append("subject", subject is null ? [] : [1, .. System.Text.Encoding.UTF8.GetBytes(subject)])
            .Append("actor", actor).Append("details", details).Append("prev", prevHash).Digest();
    }

    private static byte[] SignedEntry(byte[] hash)
    {
        using var t = new Transcript(EntryDomain + "/signature");
        return t.Append("hash", hash).Digest();
    }

    private static byte[] SignedHead(long seq, byte[] hash) => Rotor.Rpc.AuditHeads.SignedHead(seq, hash);

    private static string? GenesisKey(string details)
    {
        try { return JsonDocument.Parse(details).RootElement.TryGetProperty("public_key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null; }
        catch (JsonException) { return null; }
    }

    private (long Seq, byte[] Hash) Last()
    {
        using var cmd = db.Command("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetInt64(0), Blob(r, 1)) : (0, Genesis);
    }

    private static byte[] Blob(SqliteDataReader r, int i) => (byte[])r[i];
}
