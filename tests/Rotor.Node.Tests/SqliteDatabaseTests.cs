using Rotor.Rpc.Storage;

namespace Rotor.Node.Tests;

public sealed class SqliteDatabaseTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void A_new_database_is_private_to_its_owner_and_logs_ahead()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes");
        var path = dir.File("store.db");
        using var db = new SqliteDatabase(path, "CREATE TABLE t (x INTEGER);");
        db.Exec("INSERT INTO t (x) VALUES (1)");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal("wal", db.Scalar<string>("PRAGMA journal_mode"));
        Assert.Equal(2L, db.Scalar<long>("PRAGMA synchronous")); // FULL
    }

    [Fact]
    public void Commands_join_the_open_transaction_and_run_outside_it_once_committed_or_rolled_back()
    {
        using var db = new SqliteDatabase(dir.File("store.db"), "CREATE TABLE t (x INTEGER);");
        using (var tx = db.Begin())
        {
            db.Exec("INSERT INTO t (x) VALUES ($x)", ("$x", 1));
            // disposed without commit: rolled back
        }
        Assert.Equal(0L, db.Scalar<long>("SELECT COUNT(*) FROM t"));
        using (var tx = db.Begin())
        {
            Assert.Equal(1, db.Exec("INSERT INTO t (x) VALUES ($x)", ("$x", 2)));
            tx.Commit();
            db.Exec("INSERT INTO t (x) VALUES ($x)", ("$x", 3));
        }
        Assert.Equal(5L, db.Scalar<long>("SELECT SUM(x) FROM t"));
    }
}
