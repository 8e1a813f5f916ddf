using Grpc.Core;

namespace Rotor.Integration.Tests;

/// <summary>
/// Issue 10, faults over real processes: a catch-up cut between storing and committing, a node whose Commit hangs, a
/// node whose reply carries a confirmation that is not hex. After each, the invariants of <see cref="Invariants"/>.
/// </summary>
public sealed class FaultsTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private ClusterApi Api => cluster.Api;

    [Fact]
    public async Task A_catch_up_cut_between_storing_and_committing_is_finished_by_the_next_delivery()
    {
        var q = await TestQuorum.Create(Api, "ed25519", "bip340");
        cluster.Kill("cs3");
        try
        {
            var r = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-policy", "--allow-offline", "cs3");
            Assert.Equal("committed", r["status"]!.GetValue<string>());
            // cs3 returns, receives its mail, stores its new shards as pending and dies before committing them.
            await cluster.Ok("cluster", "start-node", "--name", "cs3", "--test-env", "ROTOR_TEST_CRASH_AT=after-storing-pending");
            Assert.True(cluster.WaitForExit("cs3", TimeSpan.FromSeconds(90)), "cs3 did not crash between storing and committing its catch-up");
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        // The next delivery finds cs3's own pending shards of that event: cs3 verifies the certificate and commits them
        // (no repair, no refusal "already holds pending shards").
        await Invariants.CheckAsync(cluster, q);
        Assert.All((await q.CheckUsable(Api, "cs3,cs1")).Values, e => Assert.Equal(1ul, e));
        var log = (await cluster.Ok("log", "--quorum", q.Name))["entries"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var delivered = log.Where(e => e["kind"]!.GetValue<string>() == "mailbox.delivered").ToList();
        Assert.Contains(delivered, e => e["details"]!["activated"]!.GetValue<bool>());
        Assert.DoesNotContain(log, e => e["kind"]!.GetValue<string>() is "repair.completed" or "repair.failed");
    }

    [Fact]
    public async Task A_node_whose_commit_hangs_holds_up_neither_the_reshare_nor_the_other_nodes()
    {
        var q = await TestQuorum.Create(Api, "secp256k1");
        cluster.Kill("cs1");
        await cluster.Ok("cluster", "start-node", "--name", "cs1", "--test-env", "ROTOR_TEST_FAULT=hang-in-commit");
        try
        {
            // The reply comes within the coordinator's bounded wait (it used to wait for cs1's commit up to 10 minutes,
            // beyond the API's 2-minute deadline), committed.
            Assert.Equal("committed", (await Api.Reshare(q.Name, "refresh with a hanging node")).Status);
            // cs2 and cs3 are settled without waiting for cs1: the new epoch active, nothing older, nothing pending.
            await WaitUntil(async () => (await Api.Status(q.Name)).Wallets.All(w => w.Nodes.Where(n => n.Node != "cs1")
                .All(n => n.PendingEpochs.Count == 0 && n.ActiveEpochs.SequenceEqual([1ul]))), "cs2 and cs3 settled at epoch 1");
            var sig = await Api.Sign(q.Wallets[0].WalletId, "cs2,cs3");
            Checks.Verifies(sig, q.Wallets[0].PublicKey);
            Assert.Equal(1ul, sig.Epoch);
        }
        finally
        {
            cluster.Kill("cs1");
            await cluster.Ok("cluster", "start-node", "--name", "cs1");
        }
        // cs1, restarted without the fault, is settled by the heartbeat.
        await Invariants.CheckAsync(cluster, q);
    }

    [Fact]
    public async Task A_confirmation_that_is_not_hex_ends_the_reshare_in_a_terminal_state_and_the_heartbeat_goes_on()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        cluster.Kill("cs2");
        await cluster.Ok("cluster", "start-node", "--name", "cs2", "--test-env", "ROTOR_TEST_FAULT=non-hex-confirmation");
        try
        {
            // cs2's reply carries a confirmation that is not hex (what it stored is right): the run ends with an error
            // that says so, instead of leaving the event running with pending shards on every node.
            var e = await Assert.ThrowsAsync<RpcException>(() => Api.Reshare(q.Name, "refresh with a malformed reply"));
            Assert.Contains("FormatException", e.Status.Detail);
        }
        finally
        {
            cluster.Kill("cs2");
            await cluster.Ok("cluster", "start-node", "--name", "cs2");
        }
        // Every new member had confirmed (and kept what it confirmed): settlement completes the event from the kept
        // confirmations, and the operation, recorded failed, becomes committed with the epochs it made.
        await Invariants.CheckAsync(cluster, q);
        var ops = (await cluster.Ok("reshare", "list", "--quorum", q.Name))["operations"]!.AsArray().Select(o => o!.AsObject()).ToList();
        Assert.Equal("committed", Assert.Single(ops)["status"]!.GetValue<string>());
        Assert.All((await q.CheckUsable(Api, "cs2,cs3")).Values, e => Assert.Equal(1ul, e));
        // The coordinator's background work went on: a new wallet is made and the quorum reshares again.
        var w = await Api.CreateWallet(q.Name, "bip340");
        Assert.Equal("committed", (await Api.Reshare(q.Name, "refresh after the fault")).Status);
        await Invariants.CheckAsync(cluster, q with { Wallets = [.. q.Wallets, w] });
    }

    [Fact]
    public async Task A_key_generation_whose_member_equivocates_its_confirmation_leaves_no_key_active_anywhere()
    {
        var name = "q-" + Guid.NewGuid().ToString("N")[..8];
        await Api.CreateQuorum(name, 2, "cs1", "cs2", "cs3");
        var before = VaultRows();
        cluster.Kill("cs2");
        await cluster.Ok("cluster", "start-node", "--name", "cs2", "--test-env", "ROTOR_TEST_FAULT=dkg-equivocate-confirmation");
        try
        {
            // cs2 sends cs1 another confirmation than cs3: cs1 refuses, cs2 and cs3 finish. The key generation fails.
            var e = await Assert.ThrowsAsync<RpcException>(() => Api.CreateWallet(name, "ed25519"));
            Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail), "a failed key generation must say why");
        }
        finally
        {
            cluster.Kill("cs2");
            await cluster.Ok("cluster", "start-node", "--name", "cs2");
        }
        Assert.Empty(await Api.Wallets(name));
        // No shard of it ever active on any node (cs2 and cs3 held theirs pending), and the pending ones are discarded on
        // cs1's renunciation: every vault ends as it was.
        await WaitUntil(() =>
        {
            var now = VaultRows();
            foreach (var (node, rows) in now)
                Assert.DoesNotContain(rows.Except(before[node]), r => r.EndsWith(":active", StringComparison.Ordinal));
            return Task.FromResult(now.All(n => n.Value.SetEquals(before[n.Key])));
        }, "the failed key generation's pending shards discarded on every node");
        // The quorum makes a wallet, committed on every member, which signs.
        var w = await Api.CreateWallet(name, "ed25519");
        await Invariants.CheckAsync(cluster, new TestQuorum(name, [w]));
    }

    /// <summary>Every node's shard rows (key@epoch:state), read from its vault file.</summary>
    private Dictionary<string, HashSet<string>> VaultRows()
    {
        var rows = new Dictionary<string, HashSet<string>>();
        foreach (var node in new[] { "cs1", "cs2", "cs3" })
        {
            var vault = Directory.GetFiles(Path.Combine(cluster.Dir, "nodes", node), "*vault*.db").Single();
            using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={vault};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT key_id, epoch, state FROM shards";
            using var r = cmd.ExecuteReader();
            var set = new HashSet<string>();
            while (r.Read()) set.Add($"{r.GetString(0)}@{r.GetInt64(1)}:{r.GetString(2)}");
            rows[node] = set;
        }
        return rows;
    }

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not reached: {what}");
            await Task.Delay(300);
        }
    }
}
