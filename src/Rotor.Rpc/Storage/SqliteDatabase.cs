using Microsoft.Data.Sqlite;
using Rotor.Rpc.Tls;

namespace Rotor.Rpc.Storage;

/// <summary>
/// One SQLite database of a service (the node's vault, the coordinator's registry, operations and audit log): the
/// file is created private to its owner (mode 0600) before SQLite opens it, so its write-ahead log is private too;
/// the log runs with <c>synchronous = FULL</c> (one flush per transaction, durable when it returns); every command
/// joins the transaction that is open. Not thread-safe: callers serialise access (they lock on the database).
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private readonly SqliteConnection connection;
    private SqliteTransaction? current;

    /// <summary>Opens (or creates) the database at <paramref name="path"/> and runs <paramref name="schema"/> (pragmas, CREATE … IF NOT EXISTS).</summary>
    public SqliteDatabase(string path, string schema)
    {
        SecretFiles.CreatePrivate(path);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Exec("PRAGMA journal_mode = WAL;\nPRAGMA synchronous = FULL;\n" + schema);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>A command with named parameters, in the open transaction if there is one.</summary>
    public SqliteCommand Command(string sql, params (string Name, object Value)[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = current;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        return cmd;
    }

    /// <summary>Runs a statement; returns the number of rows it changed.</summary>
    public int Exec(string sql, params (string Name, object Value)[] args)
    {
        using var cmd = Command(sql, args);
        return cmd.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row, or default when there is none or it is NULL.</summary>
    public T? Scalar<T>(string sql, params (string Name, object Value)[] args)
    {
        using var cmd = Command(sql, args);
        var v = cmd.ExecuteScalar();
        return v is null or DBNull ? default : (T)Convert.ChangeType(v, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T));
    }

    /// <summary>Starts a transaction that every command joins until it is committed or disposed (disposed uncommitted: rolled back).</summary>
    public Transaction Begin() => new(this, connection.BeginTransaction());

    public void Dispose() => connection.Dispose();

    /// <summary>The open transaction.</summary>
    public sealed class Transaction : IDisposable
    {
        private readonly SqliteDatabase database;
        private readonly SqliteTransaction inner;

        internal Transaction(SqliteDatabase database, SqliteTransaction inner)
        {
            this.database = database;
            this.inner = inner;
            database.current = inner;
        }

        /// <summary>Commits; commands made afterwards (before disposal) run outside it.</summary>
        public void Commit()
        {
            inner.Commit();
            database.current = null;
        }

        public void Dispose()
        {
            inner.Dispose();
            database.current = null;
        }
    }
}
