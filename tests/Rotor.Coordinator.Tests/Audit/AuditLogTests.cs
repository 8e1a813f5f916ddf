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

    /// <summary>The signed genesis (entry 1) and six entries of two quorums (2..7), then the log is closed so the test can edit the file.</summary>
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
        Assert.Equal(7, v.Entries);
        Assert.Equal(Convert.ToHexStringLower(key.PublicKey), v.PublicKey);
        var all = log.Read();
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], all.Select(e => e.Seq));
        Assert.Equal(AuditKinds.Genesis, all[0].Kind);
        Assert.Contains(Convert.ToHexStringLower(key.PublicKey), all[0].Details);
        Assert.Equal(Convert.ToHexStringLower(all[^1].Hash), v.HeadHash);
        Assert.Equal([3L, 4, 6, 7], log.Read("q1").Select(e => e.Seq));
        Assert.Equal("{\"threshold\":2,\"members\":[\"cs1\",\"cs2\",\"cs3\"]}", all[2].Details);
        Assert.Equal(all[1].Hash, all[2].PrevHash);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Time <= p.Second.Time));
    }

    [Fact]
    public void Appending_after_reopening_continues_the_chain()
    {
        Fill();
        using (var log = Open()) log.Append(AuditKinds.PolicySet, "alice", "q1", "q1", new { every = "90d" });
        var v = VerifyFile();
        Assert.True(v.Intact, v.Problem);
        Assert.Equal(8, v.Entries);
    }

    [Fact]
    public void A_new_log_holds_only_its_signed_genesis_and_verifies()
    {
        var v = VerifyFile();
        Assert.True(v.Intact, v.Problem);
        Assert.Equal(1, v.Entries);
    }

    [Fact]
    public void An_emptied_log_does_not_verify()
    {
        Fill();
        Sql("DELETE FROM audit");
        var withHead = AuditLog.Verify([], ReadHead(), key.PublicKey);
        Assert.False(withHead.Intact);
        Assert.Contains("every entry was deleted", withHead.Problem);
        Sql("DELETE FROM head");
        var bare = AuditLog.Verify([], null, key.PublicKey);
        Assert.False(bare.Intact);
        Assert.Contains("no signed genesis", bare.Problem);
    }

    [Fact]
    public void A_log_begun_again_under_another_key_fails_against_the_pinned_key()
    {
        Fill();
        File.Delete(DbPath);
        SqliteConnection.ClearAllPools();
        using var other = AuditKey.CreateEphemeral();
        using var replaced = AuditLog.Open(DbPath, other);
        replaced.Append(AuditKinds.NodeAdded, "mallory", null, "cs1", new { endpoint = "https://127.0.0.1:7001" });
        Assert.True(replaced.Verify().Intact);
        var v = AuditLog.Verify(replaced.Read(), replaced.Head(), key.PublicKey);
        Assert.False(v.Intact);
        Assert.Equal(1, v.FirstBadSeq);
    }

    [Fact]
    public void A_first_entry_that_is_not_the_genesis_is_refused_even_when_signed()
    {
        // A log whose genesis was cut off and whose chain was rebuilt from entry 2 by the key's holder.
        Fill();
        using var log = Open();
        var all = log.Read();
        var v = AuditLog.Verify(all.Skip(1).Select(e => e with { Seq = e.Seq - 1 }).ToList(), null, key.PublicKey);
        Assert.False(v.Intact);
        Assert.Equal(1, v.FirstBadSeq);
    }

    private (long, byte[], byte[])? ReadHead()
    {
        using var log = Open();
        return log.Head();
    }

    [Theory]
    [InlineData("UPDATE audit SET details = '{\"threshold\":1,\"members\":[\"cs1\",\"cs2\",\"cs3\"]}' WHERE seq = 3", 3L, "edited")]
    [InlineData("UPDATE audit SET actor = 'mallory' WHERE seq = 4", 4L, "edited")]
    [InlineData("UPDATE audit SET quorum = 'q9' WHERE seq = 6", 6L, "edited")]
    [InlineData("UPDATE audit SET time = time + 1 WHERE seq = 5", 5L, "edited")]
    [InlineData("UPDATE audit SET kind = 'backup.verified' WHERE seq = 7", 7L, "edited")]
    [InlineData("UPDATE audit SET subject = NULL WHERE seq = 2", 2L, "edited")]
    [InlineData("UPDATE audit SET details = '{\"public_key\":\"00\"}' WHERE seq = 1", 1L, "edited")]
    [InlineData("UPDATE audit SET hash = zeroblob(64) WHERE seq = 4", 4L, "signature that does not verify")]
    [InlineData("UPDATE audit SET signature = zeroblob(64) WHERE seq = 4", 4L, "signature that does not verify")]
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
    [InlineData(4L, "entry 4 is missing")]
    [InlineData(7L, "entry 7 was deleted")]
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
        Sql("DELETE FROM audit WHERE seq >= 6");
        Sql("DELETE FROM head");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Contains("head is missing", v.Problem);
    }

    [Fact]
    public void Swapping_two_rows_is_detected_as_reordering()
    {
        Fill();
        Sql("UPDATE audit SET seq = -4 WHERE seq = 4");
        Sql("UPDATE audit SET seq = 4 WHERE seq = 5");
        Sql("UPDATE audit SET seq = 5 WHERE seq = -4");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Equal(4, v.FirstBadSeq);
        Assert.Contains("reordered", v.Problem);
    }

    [Fact]
    public void Renumbering_rows_to_close_a_gap_is_detected()
    {
        Fill();
        Sql("DELETE FROM audit WHERE seq = 3");
        Sql("UPDATE audit SET seq = seq - 1 WHERE seq > 3");
        var v = VerifyFile();
        Assert.False(v.Intact);
        Assert.Equal(3, v.FirstBadSeq);
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
        Assert.Equal(AuditKinds.Genesis, Assert.Single(log.Read()).Kind);
    }
}
