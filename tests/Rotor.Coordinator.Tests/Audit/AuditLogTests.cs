using Microsoft.Data.Sqlite;
using Rotor.Coordinator.Audit;

namespace Rotor.Coordinator.Tests.Audit;

public sealed class AuditLogTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("rotor-audit-").FullName;
    private readonly AuditKey key = AuditKey.CreateEphemeral();
    private DateTimeOffset now = new(2025, 5, 1, 9, 0, 0, TimeSpan.Zero);

    public void Dispose()
    {
        key.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private string DbPath => Path.Combine(dir, "audit.db");

    private AuditLog Open() => AuditLog.Open(DbPath, key, () => now);

    /// <summary>Six entries of two quorums, then the log is closed so the test can edit the file.</summary>
    private void Fill()
    {
        using var log = Open();
        log.Append(AuditKinds.NodeAdded, "alice", null, "cs1", new { endpoint = "https://127.0.0.1:7001" });
        log.Append(AuditKinds.QuorumCreated, "alice", "q1", "q1", new { threshold = 2, members = new[] { "cs1", "cs2", "cs3" } });
        now = now.AddMinutes(1);
        log.Append(AuditKinds.WalletsCreated, "alice", "q1", "ed25519-aa", new { scheme = "ed25519", epoch = 0 });
        log.Append(AuditKinds.QuorumCreated, "bob", "q2", "q2", new { threshold = 1, members = new[] { "cs4" } });
        log.Append(AuditKinds.ReshareStatus, "coordinator", "q1", "ev-1", new { from = "running", to = "committed" });
        log.Append(AuditKinds.BackupObsolete, "coordinator", "q1", "bk-0011223344556677", new { wallet = "ed25519-aa", epoch = 0 });
    }

    private void Sql(string sql)
    {
        using var db = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        Assert.True(cmd.ExecuteNonQuery() > 0, $"no row changed by: {sql}");
    }

    private AuditVerification VerifyFile()
    {
        using var log = Open();
        return log.Verify();
    }

    [Fact]
    public void Untouched_log_verifies_and_reads_in_order()
    {
        Fill();
        using var log = Open();
        var v = log.Verify();
        Assert.True(v.Intact, v.Problem);
        Assert.Equal(6, v.Entries);
        Assert.Equal(Convert.ToHexStringLower(key.PublicKey), v.PublicKey);
        var all = log.Read();
        Assert.Equal([1L, 2, 3, 4, 5, 6], all.Select(e => e.Seq));
        Assert.Equal(Convert.ToHexStringLower(all[^1].Hash), v.HeadHash);
        Assert.Equal([2L, 3, 5, 6], log.Read("q1").Select(e => e.Seq));
        Assert.Equal("{\"threshold\":2,\"members\":[\"cs1\",\"cs2\",\"cs3\"]}", all[1].Details);
        Assert.Equal(all[0].Hash, all[1].PrevHash);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Time <= p.Second.Time));
    }

    [Fact]
    public void Appending_after_reopening_continues_the_chain()
    {
        Fill();
        using (var log = Open()) log.Append(AuditKinds.PolicySet, "alice", "q1", "q1", new { every = "90d" });
        var v = VerifyFile();
        Assert.True(v.Intact, v.Problem);
        Assert.Equal(7, v.Entries);
    }

    [Fact]
    public void Empty_log_verifies()
    {
        var v = VerifyFile();
        Assert.True(v.Intact);
        Assert.Equal(0, v.Entries);
    }

    [Theory]
    [InlineData("UPDATE audit SET details = '{\"threshold\":1,\"members\":[\"cs1\",\"cs2\",\"cs3\"]}' WHERE seq = 2", 2L, "edited")]
    [InlineData("UPDATE audit SET actor = 'mallory' WHERE seq = 3", 3L, "edited")]
    [InlineData("UPDATE audit SET quorum = 'q9' WHERE seq = 5", 5L, "edited")]
    [InlineData("UPDATE audit SET time = time + 1 WHERE seq = 4", 4L, "edited")]
    [InlineData("UPDATE audit SET kind = 'backup.verified' WHERE seq = 6", 6L, "edited")]
    [InlineData("UPDATE audit SET subject = NULL WHERE seq = 1", 1L, "edited")]
    [InlineData("UPDATE audit SET hash = zeroblob(64) WHERE seq = 3", 3L, "signature that does not verify")]
    [InlineData("UPDATE audit SET signature = zeroblob(64) WHERE seq = 3", 3L, "signature that does not verify")]
    public void Editing_one_row_is_detected_and_the_row_named(string sql, long seq, string why)
    {
        Fill();
        Sql(sql);
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Equal(seq, v.FirstBadSeq);
        Assert.Contains($"entry {seq}", v.Problem);
        Assert.Contains(why, v.Problem);
    }

    [Theory]
    [InlineData(1L, "entry 1 is missing")]
    [InlineData(3L, "entry 3 is missing")]
    [InlineData(6L, "entry 6 was deleted")]
    public void Deleting_one_row_is_detected_wherever_it_was(long seq, string why)
    {
        Fill();
        Sql($"DELETE FROM audit WHERE seq = {seq}");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Equal(seq, v.FirstBadSeq);
        Assert.Contains(why, v.Problem);
    }

    [Fact]
    public void Deleting_the_last_rows_and_the_head_is_detected()
    {
        Fill();
        Sql("DELETE FROM audit WHERE seq >= 5");
        Sql("DELETE FROM head");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Contains("head is missing", v.Problem);
    }

    [Fact]
    public void Swapping_two_rows_is_detected_as_reordering()
    {
        Fill();
        Sql("UPDATE audit SET seq = -3 WHERE seq = 3");
        Sql("UPDATE audit SET seq = 3 WHERE seq = 4");
        Sql("UPDATE audit SET seq = 4 WHERE seq = -3");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Equal(3, v.FirstBadSeq);
        Assert.Contains("reordered", v.Problem);
    }

    [Fact]
    public void Renumbering_rows_to_close_a_gap_is_detected()
    {
        Fill();
        Sql("DELETE FROM audit WHERE seq = 2");
        Sql("UPDATE audit SET seq = seq - 1 WHERE seq > 2");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Equal(2, v.FirstBadSeq);
    }

    [Fact]
    public void A_log_signed_by_another_key_does_not_verify()
    {
        Fill();
        using var other = AuditKey.CreateEphemeral();
        using var log = AuditLog.Open(DbPath, other);
        var v = log.Verify();
        Assert.False(v.Intact);
        Assert.Equal(1, v.FirstBadSeq);
        Assert.Contains("signature that does not verify", v.Problem);
    }

    [Fact]
    public void Key_file_is_created_once_with_owner_only_access_and_reloaded()
    {
        var path = Path.Combine(dir, "audit.key");
        byte[] pub;
        using (var k = AuditKey.LoadOrCreate(path)) pub = k.PublicKey;
        using (var again = AuditKey.LoadOrCreate(path)) Assert.Equal(pub, again.PublicKey);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Bad_entries_are_refused()
    {
        using var log = Open();
        Assert.Throws<ArgumentException>(() => log.Append("", "alice", null, null, new { }));
        Assert.Throws<ArgumentException>(() => log.Append(AuditKinds.NodeAdded, " ", null, null, new { }));
        Assert.Throws<ArgumentException>(() => log.Append(AuditKinds.NodeAdded, "alice", null, null, new[] { 1 }));
        Assert.Empty(log.Read());
    }
}
