namespace Rotor.Integration.Tests;

/// <summary>
/// Signing stays available while reshares commit back to back, and a coordinator crash during a reshare's preflight
/// leaves no operation non-terminal and no heartbeat stuck.
/// </summary>
public sealed class AvailabilityTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private ClusterApi Api => cluster.Api;

    [Fact]
    public async Task A_hundred_signatures_while_twenty_reshares_commit_back_to_back_all_succeed()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        var w = q.Wallets[0];
        using var stop = new CancellationTokenSource();
        var reshares = Task.Run(async () =>
        {
            for (int i = 0; i < 20; i++) Assert.Equal("committed", (await Api.Reshare(q.Name, $"back to back {i}")).Status);
        });
        // Four signing streams of 25 each, spread over the reshares.
        var failures = new List<string>();
        var epochs = new List<ulong>();
        var signers = Enumerable.Range(0, 4).Select(stream => Task.Run(async () =>
        {
            for (int i = 0; i < 25; i++)
            {
                try
                {
                    var s = await Api.Sign(w.WalletId, message: [(byte)stream, (byte)i]);
                    Checks.Verifies(s, w.PublicKey);
                    lock (epochs) epochs.Add(s.Epoch);
                }
                catch (Grpc.Core.RpcException e) { lock (failures) failures.Add(e.Status.Detail); }
                if (!reshares.IsCompleted) await Task.Delay(40);
            }
        })).ToList();
        await Task.WhenAll(signers);
        await reshares;
        Assert.True(failures.Count == 0, $"{failures.Count} of 100 signatures failed: {string.Join(" | ", failures.Distinct())}");
        Assert.Equal(100, epochs.Count);
        Assert.True(epochs.Distinct().Count() > 1, "the signatures did not overlap the reshares");
        var status = await Checks.SettledAsync(Api, q.Name);
        Assert.Equal(20ul, status.Wallets.Single().Wallet.Epoch);
    }

    [Fact]
    public async Task A_coordinator_crash_during_preflight_leaves_no_operation_scheduled_and_the_heartbeat_goes_on()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        cluster.Kill("coordinator");
        await cluster.Ok("cluster", "up", "--test-coordinator-env", "ROTOR_TEST_CRASH_AT=coordinator-during-preflight");
        cluster.Reconnect();
        var (code, json, _) = await cluster.Run("reshare", "--quorum", q.Name, "--reason", "security-policy");
        Assert.NotEqual(0, code);
        Assert.Contains("rotor reshare list", json["error"]!.GetValue<string>());
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(30)), "the coordinator did not crash during the preflight");
        await cluster.Ok("cluster", "up");
        cluster.Reconnect();

        // Within a few heartbeats the interrupted operation is failed (it never started), and the others' work goes on.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<System.Text.Json.Nodes.JsonObject> ops;
        while (true)
        {
            ops = (await cluster.Ok("reshare", "list", "--quorum", q.Name))["operations"]!.AsArray().Select(o => o!.AsObject()).ToList();
            if (ops.Count > 0 && ops.All(o => o["status"]!.GetValue<string>() is not ("scheduled" or "running")) || DateTime.UtcNow > deadline) break;
            await Task.Delay(300);
        }
        var op = Assert.Single(ops);
        Assert.Equal("failed", op["status"]!.GetValue<string>());
        Assert.Contains("nothing changed", op["problem"]!.GetValue<string>());
        var start = DateTimeOffset.UtcNow.AddSeconds(1);
        var scheduled = await cluster.Ok("reshare", "schedule", "--quorum", q.Name, "--reason", "security-policy",
            "--window-start", start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), "--window-end", start.AddMinutes(2).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"));
        deadline = DateTime.UtcNow.AddSeconds(60);
        string status;
        do
        {
            status = (await cluster.Ok("reshare", "show", scheduled["id"]!.GetValue<string>()))["status"]!.GetValue<string>();
            if (status == "committed") break;
            await Task.Delay(300);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal("committed", status);
        await Checks.SettledAsync(Api, q.Name);
        Assert.True((await cluster.Ok("log", "--verify"))["intact"]!.GetValue<bool>());
    }
}
