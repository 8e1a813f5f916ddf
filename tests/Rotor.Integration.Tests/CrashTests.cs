using System.Text.Json.Nodes;

namespace Rotor.Integration.Tests;

/// <summary>
/// A process killed at each phase of a reshare and restarted: afterwards every wallet is usable at exactly one
/// epoch on every node with its public key unchanged. Signing requests during a reshare succeed or fail cleanly.
/// </summary>
public sealed class CrashTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [Theory]
    [InlineData("before-dealing", "ed25519", 0ul)]
    [InlineData("after-dealing", "bip340", 0ul)]
    [InlineData("after-storing-pending", "secp256k1", 0ul)]
    [InlineData("after-confirming", "ed25519", null)] // dies as its confirmation leaves: the coordinator may or may not have it
    [InlineData("before-activating", "bip340", 1ul)]
    public async Task Node_killed_during_a_reshare_recovers_at_one_epoch(string phase, string scheme, ulong? expectedEpoch)
    {
        var q = await TestQuorum.Create(cluster, scheme);
        cluster.Kill("cs2");
        await cluster.Ok("cluster", "start-node", "--name", "cs2", "--test-env", $"ROTOR_TEST_CRASH_AT={phase}");
        var (code, result, _) = await cluster.Run("reshare", "--quorum", q.Name, "--reason", $"crash test {phase}");
        Assert.True(code == 0 || result["error"] is not null);
        Assert.True(cluster.WaitForExit("cs2", TimeSpan.FromSeconds(30)), $"cs2 did not crash at {phase}");
        await cluster.Ok("cluster", "start-node", "--name", "cs2");
        await Checks.SettledAsync(cluster, q.Name);
        var epochs = await q.CheckUsable(cluster, "cs2,cs3");
        Assert.All(epochs.Values, e => Assert.Equal(expectedEpoch ?? e, e));
        Assert.All(epochs.Values, e => Assert.InRange(e, 0ul, 1ul));
    }

    [Theory]
    [InlineData("coordinator-before-commit", 0ul)]
    [InlineData("coordinator-after-commit", 1ul)]
    public async Task Coordinator_killed_during_a_reshare_recovers_at_one_epoch(string phase, ulong expectedEpoch)
    {
        var q = await TestQuorum.Create(cluster, "secp256k1");
        cluster.Kill("coordinator");
        await cluster.Ok("cluster", "up", "--test-coordinator-env", $"ROTOR_TEST_CRASH_AT={phase}");
        var (code, _, _) = await cluster.Run("reshare", "--quorum", q.Name, "--reason", $"crash test {phase}");
        Assert.NotEqual(0, code);
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(30)), $"the coordinator did not crash at {phase}");
        await cluster.Ok("cluster", "up");
        await Checks.SettledAsync(cluster, q.Name);
        var epochs = await q.CheckUsable(cluster, "cs1,cs3");
        Assert.All(epochs.Values, e => Assert.Equal(expectedEpoch, e));
        var events = await cluster.Ok("cluster", "status");
        Assert.NotNull(events["coordinator"]);
    }

    [Fact]
    public async Task Signing_during_a_reshare_succeeds_or_fails_cleanly()
    {
        var q = await TestQuorum.Create(cluster, "ed25519");
        var id = TestQuorum.Id(q.Wallets[0]);
        var key = TestQuorum.Key(q.Wallets[0]);
        var reshare = cluster.Run("reshare", "--quorum", q.Name, "--reason", "refresh under load");
        var signs = Enumerable.Range(0, 6).Select(async i =>
        {
            await Task.Delay(150 * i);
            return await cluster.Run("sign", "--wallet", id, "--message", $"{i:x2}");
        }).ToList();
        var (code, result, stderr) = await reshare;
        Assert.True(code == 0, $"reshare failed ({code}): {result.ToJsonString()} {stderr}");
        Assert.Equal("committed", result["status"]!.GetValue<string>());
        foreach (var (signCode, sig, _) in await Task.WhenAll(signs))
        {
            if (signCode == 0)
            {
                Checks.Verifies(sig, key);
                Assert.Contains(sig["epoch"]!.GetValue<ulong>(), new[] { 0ul, 1ul });
            }
            else Assert.False(string.IsNullOrWhiteSpace(sig["error"]?.GetValue<string>()), "a failed signing request must say why");
        }
        await Checks.SettledAsync(cluster, q.Name);
        await q.CheckUsable(cluster, "cs1,cs2");
    }
}
