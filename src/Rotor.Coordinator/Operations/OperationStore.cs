using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rotor.Rpc.Storage;

namespace Rotor.Coordinator.Operations;

/// <summary>A registered backup: which node's shards of which wallets at which epochs. The coordinator never holds its content.</summary>
public sealed record BackupEntry(string Id, string Node, IReadOnlyList<WalletAtEpoch> Shards, long Created, string Fingerprint, string Mode,
    string Status, string? ObsoletedBy, long? ObsoletedAt, string? NodePath);

/// <summary>What waits in the coordinator's mailbox for a new member that was offline at a commit.</summary>
public sealed record MailboxEntry(long Id, string Operation, string EventId, string Node, IReadOnlyList<string> Wallets, ulong NewEpoch,
    long Created, string Status, byte[] Payload);

/// <summary>Statuses of registered backups and mailbox items.</summary>
public static class StoreStatus
{
    public const string Current = "current", Obsolete = "obsolete";
    public const string Waiting = "waiting", Delivered = "delivered", Repaired = "repaired", Void = "void";
}

/// <summary>
/// The operations database (SQLite, next to the registry): reshare operations, rotation policies, quorum options,
/// the backup registry and the mailbox. Public data only.
/// </summary>
public sealed class OperationStore : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly SqliteDatabase db;

    public OperationStore(string path)
    {
        db = new SqliteDatabase(path, """
            CREATE TABLE IF NOT EXISTS operations (id TEXT PRIMARY KEY, quorum TEXT NOT NULL, status TEXT NOT NULL, created INTEGER NOT NULL, record TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS policies (quorum TEXT PRIMARY KEY, every TEXT NOT NULL, window TEXT NOT NULL, set_by TEXT NOT NULL, set_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS quorum_options (quorum TEXT PRIMARY KEY, auto_backup_recipient TEXT);
            CREATE TABLE IF NOT EXISTS backups (id TEXT PRIMARY KEY, node TEXT NOT NULL, shards TEXT NOT NULL, created INTEGER NOT NULL,
                fingerprint TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL, obsoleted_by TEXT, obsoleted_at INTEGER, node_path TEXT);
            CREATE TABLE IF NOT EXISTS mailbox (id INTEGER PRIMARY KEY AUTOINCREMENT, operation TEXT NOT NULL, event_id TEXT NOT NULL, node TEXT NOT NULL,
                wallets TEXT NOT NULL, new_epoch INTEGER NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL, payload BLOB NOT NULL);
            """);
    }

    // ------------------------------------------------------------------ operations

    public void Put(ReshareOperation op)
    {
        lock (db)
            db.Exec("INSERT OR REPLACE INTO operations (id, quorum, status, created, record) VALUES ($i, $q, $s, $c, $r)",
                ("$i", op.Id), ("$q", op.Quorum), ("$s", op.Status.Name()), ("$c", op.Created), ("$r", JsonSerializer.Serialize(OperationRow.From(op), Json)));
    }

    public ReshareOperation? Find(string id) => Operations("WHERE id = $i", ("$i", id)).FirstOrDefault();

    /// <summary>Operations in creation order; optionally of one quorum, or only those not final.</summary>
    public IReadOnlyList<ReshareOperation> List(string? quorum = null, bool activeOnly = false)
    {
        var where = new List<string>();
        var args = new List<(string, object)>();
        if (quorum is not null) { where.Add("quorum = $q"); args.Add(("$q", quorum)); }
        if (activeOnly) where.Add("status IN ('scheduled', 'running')");
        return Operations((where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "") + " ORDER BY created, id", args.ToArray());
    }

    // ------------------------------------------------------------------ policies and options

    public void PutPolicy(RotationPolicy p)
    {
        lock (db)
            db.Exec("INSERT OR REPLACE INTO policies (quorum, every, window, set_by, set_at) VALUES ($q, $e, $w, $b, $t)",
                ("$q", p.Quorum), ("$e", p.Every.Text), ("$w", p.Window.ToString()), ("$b", p.SetBy), ("$t", p.SetAt));
    }

    public bool DeletePolicy(string quorum)
    {
        lock (db) return db.Exec("DELETE FROM policies WHERE quorum = $q", ("$q", quorum)) > 0;
    }

    public IReadOnlyList<RotationPolicy> Policies(string? quorum = null)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT quorum, every, window, set_by, set_at FROM policies" + (quorum is null ? "" : " WHERE quorum = $q") + " ORDER BY quorum",
                quorum is null ? [] : [("$q", quorum)]);
            using var r = cmd.ExecuteReader();
            var list = new List<RotationPolicy>();
            while (r.Read())
                list.Add(new RotationPolicy(r.GetString(0), RotationInterval.Parse(r.GetString(1)), RecurringWindow.Parse(r.GetString(2)), r.GetString(3), r.GetInt64(4)));
            return list;
        }
    }

    /// <summary>The X25519 key (hex) automatic backups of the quorum are sealed to; null when off.</summary>
    public string? AutoBackupRecipient(string quorum)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT auto_backup_recipient FROM quorum_options WHERE quorum = $q", ("$q", quorum));
            return cmd.ExecuteScalar() as string;
        }
    }

    public void SetAutoBackupRecipient(string quorum, string? recipientHex)
    {
        lock (db)
            db.Exec("INSERT OR REPLACE INTO quorum_options (quorum, auto_backup_recipient) VALUES ($q, $r)", ("$q", quorum), ("$r", (object?)recipientHex ?? DBNull.Value));
    }

    // ------------------------------------------------------------------ backups

    public void AddBackup(BackupEntry b)
    {
        lock (db)
            db.Exec("""
                INSERT INTO backups (id, node, shards, created, fingerprint, mode, status, node_path)
                VALUES ($i, $n, $s, $c, $f, $m, $st, $p)
                """, ("$i", b.Id), ("$n", b.Node), ("$s", JsonSerializer.Serialize(b.Shards, Json)), ("$c", b.Created), ("$f", b.Fingerprint),
                ("$m", b.Mode), ("$st", b.Status), ("$p", (object?)b.NodePath ?? DBNull.Value));
    }

    public BackupEntry? FindBackup(string id) => Backups("WHERE id = $i", ("$i", id)).FirstOrDefault();

    public IReadOnlyList<BackupEntry> ListBackups(string? node = null) =>
        node is null ? Backups("ORDER BY created, id") : Backups("WHERE node = $n ORDER BY created, id", ("$n", node));

    /// <summary>Marks a current backup obsolete; false if it already was.</summary>
    public bool MarkObsolete(string id, string cause, long at)
    {
        lock (db)
            return db.Exec("UPDATE backups SET status = $o, obsoleted_by = $c, obsoleted_at = $t WHERE id = $i AND status = $cur",
                ("$o", StoreStatus.Obsolete), ("$c", cause), ("$t", at), ("$i", id), ("$cur", StoreStatus.Current)) == 1;
    }

    /// <summary>Records that the node deleted its kept copy of a backup (the registry entry stays, obsolete).</summary>
    public bool ClearNodePath(string id)
    {
        lock (db)
            return db.Exec("UPDATE backups SET node_path = NULL WHERE id = $i AND node_path IS NOT NULL", ("$i", id)) == 1;
    }

    // ------------------------------------------------------------------ mailbox

    public long AddMail(string operation, string eventId, string node, IReadOnlyList<string> wallets, ulong newEpoch, long created, byte[] payload)
    {
        lock (db)
        {
            db.Exec("INSERT INTO mailbox (operation, event_id, node, wallets, new_epoch, created, status, payload) VALUES ($o, $e, $n, $w, $ne, $c, $s, $p)",
                ("$o", operation), ("$e", eventId), ("$n", node), ("$w", JsonSerializer.Serialize(wallets)), ("$ne", (long)newEpoch), ("$c", created),
                ("$s", StoreStatus.Waiting), ("$p", payload));
            using var cmd = db.Command("SELECT last_insert_rowid()");
            return (long)cmd.ExecuteScalar()!;
        }
    }

    public IReadOnlyList<MailboxEntry> Mail(string? node = null, bool waitingOnly = false)
    {
        lock (db)
        {
            var where = new List<string>();
            var args = new List<(string, object)>();
            if (node is not null) { where.Add("node = $n"); args.Add(("$n", node)); }
            if (waitingOnly) { where.Add("status = $w"); args.Add(("$w", StoreStatus.Waiting)); }
            using var cmd = db.Command("SELECT id, operation, event_id, node, wallets, new_epoch, created, status, payload FROM mailbox "
                + (where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "") + " ORDER BY id", args.ToArray());
            using var r = cmd.ExecuteReader();
            var list = new List<MailboxEntry>();
            while (r.Read())
                list.Add(new MailboxEntry(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), JsonSerializer.Deserialize<string[]>(r.GetString(4))!,
                    (ulong)r.GetInt64(5), r.GetInt64(6), r.GetString(7), (byte[])r[8]));
            return list;
        }
    }

    public void SetMailStatus(long id, string status)
    {
        lock (db) db.Exec("UPDATE mailbox SET status = $s WHERE id = $i", ("$s", status), ("$i", id));
    }

    public void Dispose() => db.Dispose();

    // ------------------------------------------------------------------ internals

    private IReadOnlyList<ReshareOperation> Operations(string where, params (string, object)[] args)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT record FROM operations " + where, args);
            using var r = cmd.ExecuteReader();
            var list = new List<ReshareOperation>();
            while (r.Read()) list.Add(JsonSerializer.Deserialize<OperationRow>(r.GetString(0), Json)!.ToOperation());
            return list;
        }
    }

    private IReadOnlyList<BackupEntry> Backups(string where, params (string, object)[] args)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT id, node, shards, created, fingerprint, mode, status, obsoleted_by, obsoleted_at, node_path FROM backups " + where, args);
            using var r = cmd.ExecuteReader();
            var list = new List<BackupEntry>();
            while (r.Read())
                list.Add(new BackupEntry(r.GetString(0), r.GetString(1), JsonSerializer.Deserialize<WalletAtEpoch[]>(r.GetString(2), Json)!, r.GetInt64(3),
                    r.GetString(4), r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetInt64(8),
                    r.IsDBNull(9) ? null : r.GetString(9)));
            return list;
        }
    }

    /// <summary>The stored form of an operation.</summary>
    private sealed class OperationRow
    {
        public string Id { get; set; } = "";
        public string Quorum { get; set; } = "";
        public List<WalletAtEpoch> Wallets { get; set; } = [];
        public bool AllWallets { get; set; }
        public string Reason { get; set; } = "";
        public string Note { get; set; } = "";
        public string RequestedBy { get; set; } = "";
        public List<string> OldMembers { get; set; } = [];
        public int OldThreshold { get; set; }
        public List<string> NewMembers { get; set; } = [];
        public int NewThreshold { get; set; }
        public List<string> AllowOffline { get; set; } = [];
        public DateTimeOffset? WindowStart { get; set; }
        public DateTimeOffset? WindowEnd { get; set; }
        public string Status { get; set; } = "";
        public long Created { get; set; }
        public long? Started { get; set; }
        public long? Finished { get; set; }
        public string? EventId { get; set; }
        public string? TranscriptHash { get; set; }
        public byte[]? Certificate { get; set; }
        public string? Problem { get; set; }
        public string? Policy { get; set; }

        public static OperationRow From(ReshareOperation o) => new()
        {
            Id = o.Id, Quorum = o.Quorum, Wallets = o.Wallets.ToList(), AllWallets = o.AllWallets, Reason = o.Reason.KindName, Note = o.Reason.Note,
            RequestedBy = o.RequestedBy, OldMembers = o.OldMembers.ToList(), OldThreshold = o.OldThreshold, NewMembers = o.NewMembers.ToList(),
            NewThreshold = o.NewThreshold, AllowOffline = o.AllowOffline.ToList(), WindowStart = o.Window?.Start, WindowEnd = o.Window?.End,
            Status = o.Status.Name(), Created = o.Created, Started = o.Started, Finished = o.Finished, EventId = o.EventId,
            TranscriptHash = o.TranscriptHash, Certificate = o.Certificate, Problem = o.Problem, Policy = o.Policy,
        };

        public ReshareOperation ToOperation() => new()
        {
            Id = Id, Quorum = Quorum, Wallets = Wallets, AllWallets = AllWallets, Reason = ReshareReason.Parse(Reason, Note), RequestedBy = RequestedBy,
            OldMembers = OldMembers, OldThreshold = OldThreshold, NewMembers = NewMembers, NewThreshold = NewThreshold, AllowOffline = AllowOffline,
            Window = WindowStart is { } s && WindowEnd is { } e ? new MaintenanceWindow(s, e) : null,
            Status = OperationStatuses.Parse(Status), Created = Created, Started = Started, Finished = Finished, EventId = EventId,
            TranscriptHash = TranscriptHash, Certificate = Certificate, Problem = Problem, Policy = Policy,
        };
    }
}
