using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rotor.Rpc.Storage;

namespace Rotor.Coordinator;

/// <summary>A registered signer node. Public data only.</summary>
public sealed record NodeEntry(string Name, string Endpoint, ulong Index, byte[] Certificate, string SigningKey, string AgreementKey, long LastSeen);

/// <summary>A quorum: its members and threshold (those of its newest committed epoch).</summary>
public sealed record QuorumEntry(string Name, int Threshold, IReadOnlyList<string> Members);

/// <summary>A wallet and its current epoch.</summary>
/// <param name="ChainCode">The key's HD chain code (hex), fixed at key generation and kept by every reshare; null for a
/// wallet created before HD support (no derived addresses).</param>
/// <param name="InternalKey">bip340 with a chain code: the BIP-341 internal key (hex, 33-byte compressed); null otherwise.</param>
public sealed record WalletEntry(string Id, string Scheme, string Quorum, string PublicKey, ulong Epoch, string? ChainCode = null, string? InternalKey = null);

/// <summary>One epoch of a wallet: who holds shares, the threshold and each member's verification share (hex, by member index).</summary>
/// <param name="MemberKeys">Member index → that member's node identity key (Ed25519, hex), as the key's package records it
/// (certified at key generation and reshare); null for an epoch recorded before packages bound identities.</param>
public sealed record WalletEpoch(string WalletId, ulong Epoch, int Threshold, IReadOnlyList<string> Members, IReadOnlyDictionary<ulong, string> VerifyingShares, string? EventId,
    IReadOnlyDictionary<ulong, string>? MemberKeys = null);

/// <summary>Where a reshare event stands.</summary>
public static class EventStatus
{
    public const string Running = "running", Committed = "committed", Failed = "failed";
}

/// <summary>A reshare event: what was asked, why, and how it ended. A committed event keeps its commit certificate.</summary>
public sealed record EventEntry(string Id, string Quorum, string Reason, string Status, IReadOnlyList<(string Wallet, ulong OldEpoch)> Wallets,
    IReadOnlyList<string> OldMembers, IReadOnlyList<string> NewMembers, int OldThreshold, int NewThreshold, byte[]? Certificate, long Created, string? Error);

/// <summary>
/// The coordinator's database (SQLite): nodes, quorums, wallets with every epoch's public data, and reshare events
/// with their commit certificates. It holds no secret: no shard, no identity private key.
/// </summary>
public sealed class Registry : IDisposable
{
    private readonly SqliteDatabase db;

    public Registry(string path)
    {
        db = new SqliteDatabase(path, """
            CREATE TABLE IF NOT EXISTS nodes (name TEXT PRIMARY KEY, endpoint TEXT NOT NULL, idx INTEGER NOT NULL UNIQUE,
                certificate BLOB NOT NULL, signing_key TEXT NOT NULL, agreement_key TEXT NOT NULL, last_seen INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS quorums (name TEXT PRIMARY KEY, threshold INTEGER NOT NULL, members TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS wallets (id TEXT PRIMARY KEY, scheme TEXT NOT NULL, quorum TEXT NOT NULL, public_key TEXT NOT NULL,
                epoch INTEGER NOT NULL, created INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS wallet_epochs (wallet TEXT NOT NULL, epoch INTEGER NOT NULL, threshold INTEGER NOT NULL,
                members TEXT NOT NULL, verifying_shares TEXT NOT NULL, event_id TEXT, PRIMARY KEY (wallet, epoch));
            CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, quorum TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
                wallets TEXT NOT NULL, old_members TEXT NOT NULL, new_members TEXT NOT NULL, old_threshold INTEGER NOT NULL,
                new_threshold INTEGER NOT NULL, certificate BLOB, created INTEGER NOT NULL, error TEXT);
            """);
        AddColumn("wallet_epochs", "member_keys TEXT");
        AddColumn("events", "start BLOB");
        AddColumn("wallets", "chain_code TEXT");
        AddColumn("wallets", "internal_key TEXT");
    }

    /// <summary>Adds a column to a table made by an earlier version (no-op when it is there).</summary>
    private void AddColumn(string table, string column)
    {
        try { db.Exec($"ALTER TABLE {table} ADD COLUMN {column}"); }
        catch (SqliteException e) when (e.Message.Contains("duplicate column")) { }
    }

    /// <summary>Keeps the request that started a reshare event (public): settlement rebuilds the event from it.</summary>
    public void SetEventStart(string eventId, byte[] start)
    {
        lock (db) db.Exec("UPDATE events SET start = $s WHERE id = $i", ("$s", start), ("$i", eventId));
    }

    /// <summary>The request that started a reshare event, or null.</summary>
    public byte[]? EventStart(string eventId)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT start FROM events WHERE id = $i", ("$i", eventId));
            return cmd.ExecuteScalar() as byte[];
        }
    }

    // ------------------------------------------------------------------ nodes

    /// <summary>Adds a node with the next free index, or updates the endpoint of a node whose certificate is unchanged.</summary>
    public NodeEntry AddNode(string name, string endpoint, byte[] certificate, string signingKey, string agreementKey)
    {
        lock (db)
        {
            if (FindNode(name) is { } existing)
            {
                if (existing.SigningKey != signingKey || existing.AgreementKey != agreementKey)
                    throw new InvalidOperationException($"node '{name}' is already registered with other identity keys");
                db.Exec("UPDATE nodes SET endpoint = $e, certificate = $c WHERE name = $n", ("$e", endpoint), ("$c", certificate), ("$n", name));
                return FindNode(name)!;
            }
            var index = db.Scalar<long?>("SELECT MAX(idx) FROM nodes") is { } max ? (ulong)max + 1 : 1;
            db.Exec("INSERT INTO nodes (name, endpoint, idx, certificate, signing_key, agreement_key) VALUES ($n, $e, $i, $c, $s, $a)",
                ("$n", name), ("$e", endpoint), ("$i", (long)index), ("$c", certificate), ("$s", signingKey), ("$a", agreementKey));
            return FindNode(name)!;
        }
    }

    public NodeEntry? FindNode(string name) => Nodes("WHERE name = $n", ("$n", name)).FirstOrDefault();

    public IReadOnlyList<NodeEntry> ListNodes() => Nodes("ORDER BY idx");

    public void Seen(string name, long unixMillis)
    {
        lock (db) db.Exec("UPDATE nodes SET last_seen = $t WHERE name = $n", ("$t", unixMillis), ("$n", name));
    }

    // ------------------------------------------------------------------ quorums

    public QuorumEntry CreateQuorum(string name, int threshold, IReadOnlyList<string> members)
    {
        lock (db)
        {
            if (FindQuorum(name) is not null) throw new InvalidOperationException($"quorum '{name}' already exists");
            db.Exec("INSERT INTO quorums (name, threshold, members) VALUES ($n, $t, $m)", ("$n", name), ("$t", threshold), ("$m", JsonSerializer.Serialize(members)));
            return FindQuorum(name)!;
        }
    }

    public QuorumEntry? FindQuorum(string name)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT name, threshold, members FROM quorums WHERE name = $n", ("$n", name));
            using var r = cmd.ExecuteReader();
            return r.Read() ? new QuorumEntry(r.GetString(0), r.GetInt32(1), JsonSerializer.Deserialize<string[]>(r.GetString(2))!) : null;
        }
    }

    // ------------------------------------------------------------------ wallets

    /// <summary>Records new wallets at epoch 0, with their public data, in one transaction.</summary>
    /// <param name="keyGeneration">The key generation's committed event (its commit certificate and start request), recorded in
    /// the same transaction: settlement sends the certificate to a member that has not activated its shards yet.</param>
    public void AddWallets(IEnumerable<(WalletEntry Wallet, WalletEpoch Epoch)> wallets, (EventEntry Event, byte[] Start)? keyGeneration = null)
    {
        lock (db)
        {
            using var tx = db.Begin();
            if (keyGeneration is { } kg)
            {
                AddEvent(kg.Event);
                db.Exec("UPDATE events SET certificate = $c, start = $s WHERE id = $i", ("$c", (object?)kg.Event.Certificate ?? DBNull.Value), ("$s", kg.Start), ("$i", kg.Event.Id));
            }
            foreach (var (w, e) in wallets)
            {
                // Recorded only with the members and threshold the quorum has now (one writer per quorum, asserted).
                var q = FindQuorum(w.Quorum) ?? throw new InvalidOperationException($"quorum '{w.Quorum}' no longer exists");
                if (q.Threshold != e.Threshold || !q.Members.Order().SequenceEqual(e.Members.Order()))
                    throw new InvalidOperationException($"quorum '{w.Quorum}' is now {q.Threshold}-of-[{string.Join(", ", q.Members)}], not {e.Threshold}-of-[{string.Join(", ", e.Members)}] as when wallet '{w.Id}' was generated");
                db.Exec("INSERT INTO wallets (id, scheme, quorum, public_key, epoch, created, chain_code, internal_key) VALUES ($i, $s, $q, $p, $e, $c, $cc, $ik)",
                    ("$i", w.Id), ("$s", w.Scheme), ("$q", w.Quorum), ("$p", w.PublicKey), ("$e", (long)w.Epoch), ("$c", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
                    ("$cc", (object?)w.ChainCode ?? DBNull.Value), ("$ik", (object?)w.InternalKey ?? DBNull.Value));
                InsertEpoch(e);
            }
            tx.Commit();
        }
    }

    public WalletEntry? FindWallet(string id) => Wallets("WHERE id = $i", ("$i", id)).FirstOrDefault();

    public IReadOnlyList<WalletEntry> ListWallets(string? quorum = null) =>
        quorum is null ? Wallets("ORDER BY created, id") : Wallets("WHERE quorum = $q ORDER BY created, id", ("$q", quorum));

    public WalletEpoch? FindEpoch(string wallet, ulong epoch)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT wallet, epoch, threshold, members, verifying_shares, event_id, member_keys FROM wallet_epochs WHERE wallet = $w AND epoch = $e",
                ("$w", wallet), ("$e", (long)epoch));
            using var r = cmd.ExecuteReader();
            return r.Read()
                ? new WalletEpoch(r.GetString(0), (ulong)r.GetInt64(1), r.GetInt32(2), JsonSerializer.Deserialize<string[]>(r.GetString(3))!,
                    JsonSerializer.Deserialize<Dictionary<ulong, string>>(r.GetString(4))!, r.IsDBNull(5) ? null : r.GetString(5),
                    r.IsDBNull(6) ? null : JsonSerializer.Deserialize<Dictionary<ulong, string>>(r.GetString(6)))
                : null;
        }
    }

    // ------------------------------------------------------------------ events

    public void AddEvent(EventEntry e)
    {
        lock (db)
            db.Exec("""
                INSERT INTO events (id, quorum, reason, status, wallets, old_members, new_members, old_threshold, new_threshold, created)
                VALUES ($i, $q, $r, $s, $w, $om, $nm, $ot, $nt, $c)
                """,
                ("$i", e.Id), ("$q", e.Quorum), ("$r", e.Reason), ("$s", e.Status),
                ("$w", JsonSerializer.Serialize(e.Wallets.Select(w => new WalletRef(w.Wallet, w.OldEpoch)))),
                ("$om", JsonSerializer.Serialize(e.OldMembers)), ("$nm", JsonSerializer.Serialize(e.NewMembers)),
                ("$ot", e.OldThreshold), ("$nt", e.NewThreshold), ("$c", e.Created));
    }

    /// <summary>
    /// The commit point of a reshare: in one transaction, records the commit certificate, every wallet's new epoch
    /// (public data) and the quorum's new members and threshold. Only a running event can commit.
    /// </summary>
    /// <param name="completing">
    /// Settlement completing an event marked failed whose every required new member had confirmed (the coordinator
    /// stopped before its commit point): a failed event may then commit too, with the certificate rebuilt from the
    /// confirmations the members kept. Never a committed one.
    /// </param>
    public void CommitEvent(string eventId, byte[] certificate, IReadOnlyList<WalletEpoch> newEpochs, string quorum, int threshold, IReadOnlyList<string> members,
        bool completing = false)
    {
        lock (db)
        {
            using var tx = db.Begin();
            var ev = FindEvent(eventId) ?? throw new InvalidOperationException($"no event {eventId}");
            if (ev.Status != EventStatus.Running && !(completing && ev.Status == EventStatus.Failed))
                throw new InvalidOperationException($"event {eventId} is {ev.Status}, not running");
            // One writer per quorum, asserted where it counts: the event's base must still be the registry's state.
            var q = FindQuorum(ev.Quorum) ?? throw new InvalidOperationException($"quorum '{ev.Quorum}' no longer exists");
            if (q.Threshold != ev.OldThreshold || !q.Members.Order().SequenceEqual(ev.OldMembers.Order()))
                throw new InvalidOperationException($"quorum '{ev.Quorum}' is now {q.Threshold}-of-[{string.Join(", ", q.Members)}], not {ev.OldThreshold}-of-[{string.Join(", ", ev.OldMembers)}] as when event {eventId} started");
            var inEvent = ev.Wallets.ToDictionary(w => w.Wallet, w => w.OldEpoch);
            foreach (var w in ListWallets(ev.Quorum))
            {
                if (inEvent.TryGetValue(w.Id, out var old))
                {
                    if (w.Epoch != old) throw new InvalidOperationException($"wallet '{w.Id}' is now at epoch {w.Epoch}, not {old} as when event {eventId} started");
                }
                else if (q.Threshold != threshold || !q.Members.Order().SequenceEqual(members.Order()))
                    throw new InvalidOperationException($"wallet '{w.Id}' of quorum '{ev.Quorum}' was created after event {eventId} started, which changes the quorum's members or threshold");
            }
            foreach (var e in newEpochs)
            {
                InsertEpoch(e);
                db.Exec("UPDATE wallets SET epoch = $e WHERE id = $w", ("$e", (long)e.Epoch), ("$w", e.WalletId));
            }
            db.Exec("UPDATE quorums SET threshold = $t, members = $m WHERE name = $q", ("$t", threshold), ("$m", JsonSerializer.Serialize(members)), ("$q", quorum));
            db.Exec("UPDATE events SET status = $s, certificate = $c WHERE id = $i", ("$s", EventStatus.Committed), ("$c", certificate), ("$i", eventId));
            tx.Commit();
        }
    }

    /// <summary>Marks a running event failed with its reason; a committed event is never failed.</summary>
    public bool FailEvent(string eventId, string error)
    {
        lock (db)
        {
            using var cmd = db.Command("UPDATE events SET status = $s, error = $e WHERE id = $i AND status = $r",
                ("$s", EventStatus.Failed), ("$e", error), ("$i", eventId), ("$r", EventStatus.Running));
            return cmd.ExecuteNonQuery() == 1;
        }
    }

    public EventEntry? FindEvent(string id) => Events("WHERE id = $i", ("$i", id)).FirstOrDefault();

    public IReadOnlyList<EventEntry> ListEvents(string? status = null) =>
        status is null ? Events("ORDER BY created") : Events("WHERE status = $s ORDER BY created", ("$s", status));

    public void Dispose() => db.Dispose();

    // ------------------------------------------------------------------ internals

    private sealed record WalletRef(string Wallet, ulong OldEpoch);

    private void InsertEpoch(WalletEpoch e) =>
        db.Exec("INSERT INTO wallet_epochs (wallet, epoch, threshold, members, verifying_shares, event_id, member_keys) VALUES ($w, $e, $t, $m, $v, $ev, $k)",
            ("$w", e.WalletId), ("$e", (long)e.Epoch), ("$t", e.Threshold), ("$m", JsonSerializer.Serialize(e.Members)),
            ("$v", JsonSerializer.Serialize(e.VerifyingShares)), ("$ev", (object?)e.EventId ?? DBNull.Value),
            ("$k", e.MemberKeys is { Count: > 0 } k ? JsonSerializer.Serialize(k) : DBNull.Value));

    private IReadOnlyList<NodeEntry> Nodes(string where, params (string, object)[] args)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT name, endpoint, idx, certificate, signing_key, agreement_key, last_seen FROM nodes " + where, args);
            using var r = cmd.ExecuteReader();
            var list = new List<NodeEntry>();
            while (r.Read())
                list.Add(new NodeEntry(r.GetString(0), r.GetString(1), (ulong)r.GetInt64(2), (byte[])r[3], r.GetString(4), r.GetString(5), r.GetInt64(6)));
            return list;
        }
    }

    private IReadOnlyList<WalletEntry> Wallets(string where, params (string, object)[] args)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT id, scheme, quorum, public_key, epoch, chain_code, internal_key FROM wallets " + where, args);
            using var r = cmd.ExecuteReader();
            var list = new List<WalletEntry>();
            while (r.Read()) list.Add(new WalletEntry(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), (ulong)r.GetInt64(4),
                r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6)));
            return list;
        }
    }

    private IReadOnlyList<EventEntry> Events(string where, params (string, object)[] args)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT id, quorum, reason, status, wallets, old_members, new_members, old_threshold, new_threshold, certificate, created, error FROM events " + where, args);
            using var r = cmd.ExecuteReader();
            var list = new List<EventEntry>();
            while (r.Read())
                list.Add(new EventEntry(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
                    JsonSerializer.Deserialize<WalletRef[]>(r.GetString(4))!.Select(w => (w.Wallet, w.OldEpoch)).ToArray(),
                    JsonSerializer.Deserialize<string[]>(r.GetString(5))!, JsonSerializer.Deserialize<string[]>(r.GetString(6))!,
                    r.GetInt32(7), r.GetInt32(8), r.IsDBNull(9) ? null : (byte[])r[9], r.GetInt64(10), r.IsDBNull(11) ? null : r.GetString(11)));
            return list;
        }
    }
}
