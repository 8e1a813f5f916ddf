using Google.Protobuf;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Storage;

namespace Rotor.Coordinator.Governance;

/// <summary>Statuses of a request.</summary>
public static class RequestStatus
{
    public const string Awaiting = "awaiting-approval", Running = "running", Done = "done", Failed = "failed", Expired = "expired";

    public static readonly IReadOnlyList<string> All = [Awaiting, Running, Done, Failed, Expired];
}

/// <summary>A stored request: its record (what the API shows) and the approvals collected (what nodes verify).</summary>
public sealed record StoredRequest(RequestRecord Record, Rotor.Rpc.Node.Authorization Authorization, string? Quorum, string? Operation);

/// <summary>
/// The request database (SQLite, <c>requests.db</c> next to the registry): every request with its canonical
/// description, the approvals collected, its status and outcome. Public data only: descriptions, public keys and
/// signatures, results (a backup file is sealed to its recipient or passphrase).
/// </summary>
public sealed class RequestStore : IDisposable
{
    public const string FileName = "requests.db";

    private readonly SqliteDatabase db;

    public RequestStore(string path)
    {
        db = new SqliteDatabase(path, """
            CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, action TEXT NOT NULL, status TEXT NOT NULL, created INTEGER NOT NULL,
                quorum TEXT, operation TEXT, record BLOB NOT NULL, authorization BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS requests_operation ON requests (operation);
            """);
    }

    public void Put(StoredRequest r)
    {
        lock (db)
            db.Exec("""
                INSERT OR REPLACE INTO requests (id, action, status, created, quorum, operation, record, authorization)
                VALUES ($i, $a, $s, $c, $q, $o, $r, $z)
                """,
                ("$i", r.Record.Id), ("$a", r.Record.Action), ("$s", r.Record.Status), ("$c", r.Record.Created), ("$q", (object?)r.Quorum ?? DBNull.Value),
                ("$o", (object?)r.Operation ?? DBNull.Value), ("$r", r.Record.ToByteArray()), ("$z", r.Authorization.ToByteArray()));
    }

    public StoredRequest? Find(string id) => Query("WHERE id = $i", ("$i", id)).FirstOrDefault();

    /// <summary>Requests oldest first, optionally of one status.</summary>
    public IReadOnlyList<StoredRequest> List(string? status = null) =>
        status is null ? Query("ORDER BY created, id") : Query("WHERE status = $s ORDER BY created, id", ("$s", status));

    /// <summary>The request that scheduled reshare operation <paramref name="operation"/>.</summary>
    public StoredRequest? ForOperation(string operation) => Query("WHERE operation = $o", ("$o", operation)).FirstOrDefault();

    /// <summary>The done requests of one action for one quorum, newest first.</summary>
    public IReadOnlyList<StoredRequest> Done(string action, string quorum) =>
        Query("WHERE action = $a AND quorum = $q AND status = 'done' ORDER BY created DESC, id DESC", ("$a", action), ("$q", quorum));

    private List<StoredRequest> Query(string where, params (string, object)[] args)
    {
        lock (db)
        {
            using var cmd = db.Command("SELECT record, authorization, quorum, operation FROM requests " + where, args);
            using var reader = cmd.ExecuteReader();
            var list = new List<StoredRequest>();
            while (reader.Read())
                list.Add(new StoredRequest(RequestRecord.Parser.ParseFrom((byte[])reader[0]), Rotor.Rpc.Node.Authorization.Parser.ParseFrom((byte[])reader[1]),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            return list;
        }
    }

    public void Dispose() => db.Dispose();
}
