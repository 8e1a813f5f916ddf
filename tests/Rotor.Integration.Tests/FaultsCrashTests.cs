using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Rotor.Integration.Tests;

/// <summary>
/// Issue 10, crash points with real processes (the node or the coordinator killed abruptly, ROTOR_TEST_CRASH_AT) for
/// key generation, repair, backup restore and the scheduled run, several in sequence on one cluster; after each sequence the
/// invariants of <see cref="Invariants"/>. (Reshare crash points: <see cref="CrashTests"/>; a catch-up's:
/// <see cref="FaultsTests"/>.)
/// </summary>
public sealed class FaultsCrashTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private ClusterApi Api => cluster.Api;

    [Fact]
    public async Task Key_generation_killed_on_a_node_or_the_coordinator_records_no_wallet_and_the_quorum_goes_on()
    {
        var name = "q-" + Guid.NewGuid().ToString("N")[..8];
        await Api.CreateQuorum(name, 2, "cs1", "cs2", "cs3");
        foreach (var phase in new[] { "dkg-before-storing", "dkg-after-storing" })
        {
            await RestartNode("cs2", phase);
            await Assert.ThrowsAsync<RpcException>(() => Api.CreateWallet(name, "ed25519"));
            Assert.True(cluster.WaitForExit("cs2", TimeSpan.FromSeconds(60)), $"cs2 did not crash at {phase}");
            await RestartNode("cs2");
            Assert.Empty(await Api.Wallets(name));
        }
        await RestartCoordinator("coordinator-before-recording-wallets");
        await Assert.ThrowsAsync<RpcException>(() => Api.CreateWallet(name, "secp256k1"));
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(60)), "the coordinator did not crash before recording the wallets");
        await RestartCoordinator();
        Assert.Empty(await Api.Wallets(name));
        // No request is left running; the quorum makes a wallet and it signs with any two members.
        await AssertNoRequestOpen();
        var w = await Api.CreateWallet(name, "bip340");
        var q = new TestQuorum(name, [w]);
        await Invariants.CheckAsync(cluster, q);
        await q.CheckUsable(Api, "cs2,cs3");
    }

    [Fact]
    public async Task Repair_killed_on_the_target_or_the_coordinator_leaves_the_target_repairable()
    {
        var q = await TestQuorum.Create(Api, "secp256k1");
        var wallet = q.Wallets[0].WalletId;
        foreach (var phase in new[] { "repair-before-storing", "repair-after-storing" })
        {
            await WipeShards("cs3", wallet, phase);
            var (code, _, _) = await cluster.Run("repair", "--node", "cs3", "--wallet", wallet);
            Assert.NotEqual(0, code);
            Assert.True(cluster.WaitForExit("cs3", TimeSpan.FromSeconds(60)), $"cs3 did not crash at {phase}");
            await RestartNode("cs3");
            // Before storing: cs3 holds nothing and is repaired again. After storing: it holds the share, which signs.
            if (phase == "repair-before-storing") await cluster.Ok("repair", "--node", "cs3", "--wallet", wallet);
            await Invariants.CheckAsync(cluster, q);
            await q.CheckUsable(Api, "cs3,cs1");
        }
        await WipeShards("cs3", wallet, null);
        await RestartCoordinator("coordinator-after-repairing");
        var (c, _, _) = await cluster.Run("repair", "--node", "cs3", "--wallet", wallet);
        Assert.NotEqual(0, c);
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(60)), "the coordinator did not crash after the repair");
        await RestartCoordinator();
        await AssertNoRequestOpen();
        await Invariants.CheckAsync(cluster, q);
        await q.CheckUsable(Api, "cs3,cs2");
    }

    [Fact]
    public async Task A_restore_killed_before_or_after_storing_leaves_the_node_restorable_and_signing()
    {
        var q = await TestQuorum.Create(Api, "bip340");
        var wallet = q.Wallets[0].WalletId;
        var recipient = File.ReadAllText(Path.Combine(cluster.Dir, "backup-recipient.pub")).Trim();
        var keyFile = Path.Combine(cluster.Dir, "backup-recipient.key");
        var file = Path.Combine(cluster.Dir, $"{q.Name}-cs2.rotorbak");
        await cluster.Ok("backup", "create", "--node", "cs2", "--wallets", wallet, "--out", file, "--recipient", Convert.ToBase64String(Convert.FromHexString(recipient)));
        foreach (var phase in new[] { "restore-before-storing", "restore-after-storing" })
        {
            await WipeShards("cs2", wallet, phase);
            var (code, _, _) = await cluster.Run("backup", "restore", "--node", "cs2", file, "--key-file", keyFile);
            Assert.NotEqual(0, code);
            Assert.True(cluster.WaitForExit("cs2", TimeSpan.FromSeconds(60)), $"cs2 did not crash at {phase}");
            await RestartNode("cs2");
            // Before storing: cs2 holds nothing and the backup restores again. After storing: it holds the shard.
            if (phase == "restore-before-storing") await cluster.Ok("backup", "restore", "--node", "cs2", file, "--key-file", keyFile);
            await Invariants.CheckAsync(cluster, q);
            await q.CheckUsable(Api, "cs2,cs3");
        }
        // The coordinator killed after the node restored, before it recorded the restore: the node holds the shard,
        // the restarted coordinator sees it, and a second restore of the same file finds it already held.
        await WipeShards("cs2", wallet, null);
        await RestartCoordinator("coordinator-after-restoring");
        var (died, _, _) = await cluster.Run("backup", "restore", "--node", "cs2", file, "--key-file", keyFile);
        Assert.NotEqual(0, died);
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(60)), "the coordinator did not crash after the restore");
        await RestartCoordinator();
        await Invariants.CheckAsync(cluster, q);
        await q.CheckUsable(Api, "cs2,cs3");
        var again = await cluster.Ok("backup", "restore", "--node", "cs2", file, "--key-file", keyFile);
        Assert.Contains(wallet, again["alreadyHeld"]!.AsArray().Select(w => w!.GetValue<string>()));
    }

    [Fact]
    public async Task A_catch_up_whose_coordinator_dies_after_the_node_activated_is_settled_after_the_restart()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        cluster.Kill("cs3");
        var r = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-policy", "--allow-offline", "cs3");
        Assert.Equal("committed", r["status"]!.GetValue<string>());
        // cs3 returns (cluster up starts it with the armed coordinator); the mailbox delivers, cs3 verifies and
        // activates, and the coordinator dies before recording it.
        await RestartCoordinator("coordinator-after-delivering");
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(120)), "the coordinator did not crash after delivering the mail");
        await RestartCoordinator();
        // The restarted coordinator delivers again; cs3 already holds the epoch: nothing stuck, nothing lost.
        await Invariants.CheckAsync(cluster, q);
        Assert.All((await q.CheckUsable(Api, "cs3,cs1")).Values, e => Assert.Equal(1ul, e));
    }

    [Fact]
    public async Task A_scheduled_run_whose_coordinator_dies_before_the_commit_ends_in_a_terminal_state()
    {
        var q = await TestQuorum.Create(Api, "ed25519", "secp256k1");
        await RestartCoordinator("coordinator-before-commit");
        var start = DateTimeOffset.UtcNow.AddSeconds(3);
        var scheduled = await cluster.Ok("reshare", "schedule", "--quorum", q.Name, "--reason", "security-policy",
            "--window-start", Iso(start), "--window-end", Iso(start.AddMinutes(5)));
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(120)), "the coordinator did not crash in the scheduled run");
        await RestartCoordinator();
        // Every new member had confirmed: the restarted coordinator completes the event from their kept confirmations,
        // and the operation ends committed (never left running, never failed while its wallets moved).
        var op = await WaitForFinal(scheduled["id"]!.GetValue<string>());
        Assert.Equal("committed", op["status"]!.GetValue<string>());
        await Invariants.CheckAsync(cluster, q);
        Assert.All((await q.CheckUsable(Api, "cs1,cs3")).Values, e => Assert.Equal(1ul, e));
    }

    // ------------------------------------------------------------------ helpers

    private async Task RestartNode(string node, string? crashAt = null)
    {
        cluster.Kill(node);
        if (crashAt is null) await cluster.Ok("cluster", "start-node", "--name", node);
        else await cluster.Ok("cluster", "start-node", "--name", node, "--test-env", $"ROTOR_TEST_CRASH_AT={crashAt}");
    }

    private async Task RestartCoordinator(string? crashAt = null)
    {
        cluster.Kill("coordinator");
        if (crashAt is null) await cluster.Ok("cluster", "up");
        else await cluster.Ok("cluster", "up", "--test-coordinator-env", $"ROTOR_TEST_CRASH_AT={crashAt}");
        cluster.Reconnect();
    }

    /// <summary>Stops the node, deletes its shards of the wallet from its vault (a lost disk), starts it again (armed at <paramref name="crashAt"/>).</summary>
    private async Task WipeShards(string node, string wallet, string? crashAt)
    {
        cluster.Kill(node);
        var vault = Directory.GetFiles(Path.Combine(cluster.Dir, "nodes", node), "*vault*.db").Single();
        using (var c = new SqliteConnection($"Data Source={vault};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DELETE FROM shards WHERE key_id = $k";
            cmd.Parameters.AddWithValue("$k", wallet);
            Assert.True(cmd.ExecuteNonQuery() > 0, $"{node} held no shard of {wallet}");
        }
        await RestartNode(node, crashAt);
    }

    private async Task AssertNoRequestOpen()
    {
        var requests = (await cluster.Ok("requests", "list"))["requests"]!.AsArray().Select(r => r!["status"]!.GetValue<string>());
        Assert.DoesNotContain("running", requests);
    }

    private async Task<JsonObject> WaitForFinal(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonObject op;
        do
        {
            op = await cluster.Ok("reshare", "show", id);
            var status = op["status"]!.GetValue<string>();
            if (status is not ("scheduled" or "running") && (status != "failed" || DateTime.UtcNow > deadline.AddSeconds(-60))) return op;
            await Task.Delay(500);
        } while (DateTime.UtcNow < deadline);
        return op;
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
}
