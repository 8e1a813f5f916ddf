using Microsoft.Data.Sqlite;
using Rotor.Coordinator.Operations;

namespace Rotor.Coordinator.Tests.Operations;

public sealed class OperationStoreTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("rotor-ops-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private OperationStore Open() => new(Path.Combine(dir, "operations.db"));

    private static ReshareOperation Op(string id, string quorum, OperationStatus status, MaintenanceWindow? window = null) => new()
    {
        Id = id, Quorum = quorum, AllWallets = false, Reason = ReshareReason.Parse("personnel-change", "operator B left"), RequestedBy = "alice",
        Wallets = [new WalletAtEpoch("w1", 2)], OldMembers = ["cs1", "cs2", "cs3"], OldThreshold = 2, NewMembers = ["cs1", "cs2", "cs4"], NewThreshold = 2,
        AllowOffline = ["cs4"], Window = window, Status = status, Created = 10, Certificate = [1, 2, 3], TranscriptHash = "ab", Problem = "p", Policy = null,
    };

    [Fact]
    public void Operations_round_trip_and_list_by_quorum_and_activity()
    {
        var window = new MaintenanceWindow(new DateTimeOffset(2025, 6, 1, 2, 0, 0, TimeSpan.Zero), new DateTimeOffset(2025, 6, 1, 4, 0, 0, TimeSpan.Zero));
        using (var s = Open())
        {
            s.Put(Op("rs-1", "q1", OperationStatus.Scheduled, window));
            s.Put(Op("rs-2", "q1", OperationStatus.Committed));
            s.Put(Op("rs-3", "q2", OperationStatus.Running));
        }
        using var again = Open();
        var op = again.Find("rs-1")!;
        Assert.Equal(window, op.Window);
        Assert.Equal("personnel-change: operator B left", op.Reason.ToString());
        Assert.Equal(["cs1", "cs2", "cs4"], op.NewMembers);
        Assert.Equal(["cs4"], op.AllowOffline);
        Assert.Equal([1, 2, 3], op.Certificate);
        Assert.True(op.IsRestructure);
        Assert.Equal(["rs-1", "rs-2"], again.List("q1").Select(o => o.Id));
        Assert.Equal(["rs-1", "rs-3"], again.List(activeOnly: true).Select(o => o.Id));
        again.Put(op.MoveTo(OperationStatus.Cancelled, 20));
        Assert.Equal(OperationStatus.Cancelled, again.Find("rs-1")!.Status);
        Assert.Null(again.Find("rs-9"));
    }

    [Fact]
    public void Backups_become_obsolete_once()
    {
        using var s = Open();
        s.AddBackup(new BackupEntry("bk-1", "cs1", [new WalletAtEpoch("w1", 0)], 5, "ff", "passphrase", StoreStatus.Current, null, null, null));
        Assert.True(s.MarkObsolete("bk-1", "rs-1", 7));
        Assert.False(s.MarkObsolete("bk-1", "rs-2", 8));
        var b = s.FindBackup("bk-1")!;
        Assert.Equal((StoreStatus.Obsolete, "rs-1", (long?)7), (b.Status, b.ObsoletedBy, b.ObsoletedAt));
        Assert.Equal(0ul, b.Shards[0].Epoch);
        Assert.Empty(s.ListBackups("cs2"));
    }

    [Fact]
    public void Policies_options_and_mail_are_kept()
    {
        using var s = Open();
        s.PutPolicy(new RotationPolicy("q1", RotationInterval.Parse("90d"), RecurringWindow.Parse("Sun 02:00-04:00"), "alice", 3));
        Assert.Equal("Sun 02:00-04:00", s.Policies("q1").Single().Window.ToString());
        Assert.True(s.DeletePolicy("q1"));
        Assert.False(s.DeletePolicy("q1"));
        Assert.Null(s.AutoBackupRecipient("q1"));
        s.SetAutoBackupRecipient("q1", "abcd");
        Assert.Equal("abcd", s.AutoBackupRecipient("q1"));
        s.SetAutoBackupRecipient("q1", null);
        Assert.Null(s.AutoBackupRecipient("q1"));
        var id = s.AddMail("rs-1", "ev-1", "cs3", ["w1", "w2"], 4, 9, [7, 7]);
        Assert.Equal(["w1", "w2"], s.Mail("cs3", waitingOnly: true).Single().Wallets);
        s.SetMailStatus(id, StoreStatus.Delivered);
        Assert.Empty(s.Mail("cs3", waitingOnly: true));
        Assert.Equal(StoreStatus.Delivered, s.Mail().Single().Status);
    }
}
