namespace Rotor.Integration.Tests;

/// <summary>
/// A process killed at each phase of a reshare and restarted: afterwards every wallet is usable at exactly one
/// epoch on every node with its public key unchanged. Signing requests during a reshare succeed or fail cleanly.
/// </summary>
public sealed class CrashTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private ClusterApi Api => cluster.Api;

    [Theory]
    [InlineData("before-dealing", "ed25519", 0ul)]
    [InlineData("after-dealing", "bip340", 0ul)]
    // Stored its pending shards (and the record that it confirmed) before dying: every new member has confirmed, so no
    // renunciation can make the event discardable; settlement completes it from the members' kept confirmations.
    [InlineData("after-storing-pending", "secp256k1", 1ul)]
    [InlineData("after-confirming", "ed25519", null)] // dies as its confirmation leaves: the coordinator may or may not have it
    [InlineData("before-activating", "bip340", 1ul)]
    public async Task Node_killed_during_a_reshare_recovers_at_one_epoch(string phase, string scheme, ulong? expectedEpoch)
    {
        var q = await TestQuorum.Create(Api, scheme);
        cluster.Kill("cs2");
        await cluster.Ok("cluster", "start-node", "--name", "cs2", "--test-env", $"ROTOR_TEST_CRASH_AT={phase}");
        // A refusal before anything starts (the reshare gate held a moment by a background settlement of an earlier
        // test, or cs2 not answering its first poll yet) is retried as an operator would; any other outcome is kept.
        string outcome = "";
        for (int attempt = 1; ; attempt++)
        {
            try { outcome = "reshare returned " + (await Api.Reshare(q.Name, $"crash test {phase}")).Status; }
            catch (Grpc.Core.RpcException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail));
                outcome = $"reshare failed ({e.StatusCode}): {e.Status.Detail}";
                if (attempt < 5 && (e.Status.Detail.Contains("another reshare is running") || e.Status.Detail.Contains("cannot complete")))
                {
                    await Task.Delay(2000);
                    continue;
                }
            }
            break;
        }
        Assert.True(cluster.WaitForExit("cs2", TimeSpan.FromSeconds(60)), $"cs2 did not crash at {phase}; {outcome}");
        await cluster.Ok("cluster", "start-node", "--name", "cs2");
        await Checks.SettledAsync(Api, q.Name);
        var epochs = await q.CheckUsable(Api, "cs2,cs3");
        Assert.All(epochs.Values, e => Assert.Equal(expectedEpoch ?? e, e));
        Assert.All(epochs.Values, e => Assert.InRange(e, 0ul, 1ul));
    }

    [Theory]
    // Every new member had confirmed: nobody can renounce, and the restarted coordinator completes the event from the
    // confirmations the members kept (a node never discards pending shards without proof that the event cannot commit).
    [InlineData("coordinator-before-commit", 1ul)]
    [InlineData("coordinator-after-commit", 1ul)]
    public async Task Coordinator_killed_during_a_reshare_recovers_at_one_epoch(string phase, ulong expectedEpoch)
    {
        var q = await TestQuorum.Create(Api, "secp256k1");
        cluster.Kill("coordinator");
        await cluster.Ok("cluster", "up", "--test-coordinator-env", $"ROTOR_TEST_CRASH_AT={phase}");
        cluster.Reconnect();
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => Api.Reshare(q.Name, $"crash test {phase}"));
        Assert.True(cluster.WaitForExit("coordinator", TimeSpan.FromSeconds(30)), $"the coordinator did not crash at {phase}");
        await cluster.Ok("cluster", "up");
        cluster.Reconnect();
        await Checks.SettledAsync(Api, q.Name);
        var epochs = await q.CheckUsable(Api, "cs1,cs3");
        Assert.All(epochs.Values, e => Assert.Equal(expectedEpoch, e));
    }

    [Fact]
    public async Task A_signer_restarted_with_its_advance_nonces_lost_still_signs()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        var w = q.Wallets[0];
        // The first signature takes two rounds and leaves commitments made in advance; the second uses them.
        for (int i = 0; i < 2; i++) Checks.Verifies(await Api.Sign(w.WalletId, "cs1,cs2", message: [(byte)i]), w.PublicKey);
        cluster.Kill("cs2");
        await cluster.Ok("cluster", "start-node", "--name", "cs2");
        // The coordinator still holds cs2's commitments, whose nonces died with the process: it falls back to two rounds.
        for (int i = 2; i < 4; i++) Checks.Verifies(await Api.Sign(w.WalletId, "cs1,cs2", message: [(byte)i]), w.PublicKey);
    }

    [Fact]
    public async Task Signing_during_a_reshare_succeeds_or_fails_cleanly()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        var w = q.Wallets[0];
        var reshare = Api.Reshare(q.Name, "refresh under load");
        var signs = Enumerable.Range(0, 8).Select(async i =>
        {
            await Task.Delay(100 * i);
            try { return (Reply: await Api.Sign(w.WalletId, message: [(byte)i]), Error: (string?)null); }
            catch (Grpc.Core.RpcException e) { return (Reply: (Rotor.Rpc.Coordinator.SignReply?)null, Error: e.Status.Detail); }
        }).ToList();
        Assert.Equal("committed", (await reshare).Status);
        var results = await Task.WhenAll(signs);
        foreach (var (reply, error) in results)
        {
            if (reply is not null)
            {
                Checks.Verifies(reply, w.PublicKey);
                Assert.InRange(reply.Epoch, 0ul, 1ul);
            }
            else Assert.False(string.IsNullOrWhiteSpace(error), "a failed signing request must say why");
        }
        Assert.Contains(results, r => r.Reply is not null);
        await Checks.SettledAsync(Api, q.Name);
        await q.CheckUsable(Api, "cs1,cs2");
    }
}
