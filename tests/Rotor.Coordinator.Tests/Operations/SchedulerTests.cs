using Rotor.Coordinator.Operations;

namespace Rotor.Coordinator.Tests.Operations;

public sealed class SchedulerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 2, 0, 0, TimeSpan.Zero);

    private static ReshareOperation Op(OperationStatus status = OperationStatus.Scheduled, MaintenanceWindow? window = null, string[]? allowOffline = null,
        string[]? newMembers = null, int newThreshold = 2) => new()
    {
        Id = "rs-1", Quorum = "q1", AllWallets = true, Reason = ReshareReason.Parse("security-policy", "quarterly"), RequestedBy = "alice",
        Wallets = [new WalletAtEpoch("w1", 3), new WalletAtEpoch("w2", 3)],
        OldMembers = ["cs1", "cs2", "cs3"], OldThreshold = 2, NewMembers = newMembers ?? ["cs1", "cs2", "cs3"], NewThreshold = newThreshold,
        AllowOffline = allowOffline ?? [], Window = window ?? new MaintenanceWindow(T0, T0.AddHours(2)), Status = status, Created = 0,
    };

    private static NodeWalletState At(params ulong[] active) => new(active, []);

    private static ClusterView Healthy(Action<Dictionary<string, bool>, Dictionary<string, Dictionary<string, NodeWalletState>>>? change = null)
    {
        var online = new Dictionary<string, bool> { ["cs1"] = true, ["cs2"] = true, ["cs3"] = true };
        var shards = new[] { "cs1", "cs2", "cs3" }.ToDictionary(n => n, _ => new Dictionary<string, NodeWalletState> { ["w1"] = At(3), ["w2"] = At(3) });
        change?.Invoke(online, shards);
        return new ClusterView(["cs1", "cs2", "cs3"], 2, new Dictionary<string, ulong> { ["w1"] = 3, ["w2"] = 3 }, online,
            shards.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, NodeWalletState>)kv.Value));
    }

    [Fact]
    public void Scheduled_operation_waits_starts_inside_and_expires_after_its_window()
    {
        var op = Op();
        Assert.Equal(Decision.Wait, Scheduler.Decide(op, T0.AddSeconds(-1)));
        Assert.Equal(Decision.Start, Scheduler.Decide(op, T0));
        Assert.Equal(Decision.Start, Scheduler.Decide(op, T0.AddHours(2).AddTicks(-1)));
        Assert.Equal(Decision.Expire, Scheduler.Decide(op, T0.AddHours(2)));
        Assert.Equal(Decision.Start, Scheduler.Decide(op with { Window = null }, T0.AddYears(5)));
    }

    [Fact]
    public void Running_operation_is_abandoned_when_its_window_closes_and_final_ones_are_left_alone()
    {
        var running = Op(OperationStatus.Running);
        Assert.Equal(Decision.Wait, Scheduler.Decide(running, T0.AddHours(1)));
        Assert.Equal(Decision.Abandon, Scheduler.Decide(running, T0.AddHours(2)));
        Assert.Equal(Decision.Wait, Scheduler.Decide(running with { Window = null }, T0.AddYears(1)));
        foreach (var s in new[] { OperationStatus.Committed, OperationStatus.Failed, OperationStatus.Cancelled, OperationStatus.Expired, OperationStatus.PreflightFailed })
        {
            Assert.Equal(Decision.Wait, Scheduler.Decide(Op(s), T0.AddHours(1)));
            Assert.Equal(Decision.Wait, Scheduler.Decide(Op(s), T0.AddHours(3)));
        }
    }

    [Fact]
    public void Status_moves_only_along_the_life_cycle_and_records_times()
    {
        var op = Op();
        var running = op.MoveTo(OperationStatus.Running, 1000);
        Assert.Equal((1000L, (long?)null), (running.Started!.Value, running.Finished));
        var committed = running.MoveTo(OperationStatus.Committed, 2000);
        Assert.Equal(2000, committed.Finished);
        Assert.Throws<InvalidOperationException>(() => committed.MoveTo(OperationStatus.Running, 3000));
        Assert.Throws<InvalidOperationException>(() => running.MoveTo(OperationStatus.Cancelled, 3000));
        Assert.Throws<InvalidOperationException>(() => op.MoveTo(OperationStatus.Committed, 3000));
        Assert.Equal("window closed", op.MoveTo(OperationStatus.Expired, 5, "window closed").Problem);
        Assert.All(Enum.GetValues<OperationStatus>(), s => Assert.Equal(s, OperationStatuses.Parse(s.Name())));
        Assert.Equal("preflight-failed", OperationStatus.PreflightFailed.Name());
    }

    [Fact]
    public void Preflight_passes_on_a_healthy_cluster()
    {
        var r = Scheduler.Preflight(Op(), Healthy());
        Assert.True(r.Ok, r.ToString());
    }

    [Fact]
    public void Preflight_blocks_on_an_offline_new_member_unless_allowed()
    {
        var view = Healthy((on, _) => on["cs3"] = false);
        var r = Scheduler.Preflight(Op(), view);
        Assert.False(r.Ok);
        Assert.Empty(r.Invalid);
        Assert.Contains(r.Blocking, b => b.Contains("cs3 offline") && b.Contains("--allow-offline"));
        Assert.True(Scheduler.Preflight(Op(allowOffline: ["cs3"]), view).Ok);
    }

    [Fact]
    public void Preflight_blocks_on_mixed_or_missing_or_pending_epochs_on_a_node()
    {
        var mixed = Scheduler.Preflight(Op(), Healthy((_, s) => s["cs2"]["w1"] = At(2, 3)));
        Assert.Contains(mixed.Blocking, b => b.Contains("cs2 holds wallet 'w1' at epoch 2,3"));
        var behind = Scheduler.Preflight(Op(), Healthy((_, s) => s["cs1"]["w2"] = At(2)));
        Assert.Contains(behind.Blocking, b => b.Contains("cs1 holds wallet 'w2' at epoch 2"));
        var lost = Scheduler.Preflight(Op(), Healthy((_, s) => s["cs1"].Remove("w2")));
        Assert.Contains(lost.Blocking, b => b.Contains("rotor repair --node cs1 --wallet w2"));
        var pending = Scheduler.Preflight(Op(), Healthy((_, s) => s["cs3"]["w1"] = new NodeWalletState([3], [4])));
        Assert.Contains(pending.Blocking, b => b.Contains("pending epoch 4"));
    }

    [Fact]
    public void Preflight_blocks_when_fewer_than_the_old_threshold_can_deal()
    {
        var r = Scheduler.Preflight(Op(allowOffline: ["cs2", "cs3"], newThreshold: 1), Healthy((on, _) => { on["cs2"] = false; on["cs3"] = false; }));
        Assert.Contains(r.Blocking, b => b.Contains("1 of the old members online, 2 needed"));
    }

    [Fact]
    public void Preflight_invalidates_a_plan_the_cluster_has_moved_past()
    {
        var moved = Healthy();
        var epochs = new Dictionary<string, ulong> { ["w1"] = 4, ["w2"] = 3 };
        var r = Scheduler.Preflight(Op(), moved with { WalletEpochs = epochs });
        Assert.Contains(r.Invalid, i => i.Contains("wallet 'w1' is at epoch 4, not the planned 3"));
        Assert.Contains(Scheduler.Preflight(Op(), moved with { QuorumThreshold = 3 }).Invalid, i => i.Contains("not the planned 2-of-"));
        Assert.Contains(Scheduler.Preflight(Op(), moved with { QuorumMembers = null }).Invalid, i => i.Contains("no longer exists"));
        Assert.Contains(Scheduler.Preflight(Op(), moved with { WalletEpochs = new Dictionary<string, ulong> { ["w1"] = 3 } }).Invalid, i => i.Contains("'w2' is no longer"));
        Assert.Contains(Scheduler.Preflight(Op(allowOffline: ["cs2", "cs3"]), moved).Invalid, i => i.Contains("fewer than the new threshold 2"));
    }
}
