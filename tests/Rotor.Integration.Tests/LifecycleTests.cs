namespace Rotor.Integration.Tests;

/// <summary>Keygen, signing, refresh and restructure 2-of-3 → 3-of-4 over real processes.</summary>
public sealed class LifecycleTests(FourNodeCluster cluster) : IClassFixture<FourNodeCluster>
{
    [Fact]
    public async Task Keygen_sign_refresh_and_restructure_keep_every_key()
    {
        var q = await TestQuorum.Create(cluster, "ed25519", "secp256k1", "bip340");
        foreach (var w in q.Wallets)
        {
            Assert.Equal(0ul, w["epoch"]!.GetValue<ulong>());
            Checks.Verifies(await cluster.Ok("sign", "--wallet", TestQuorum.Id(w), "--message", "68656c6c6f"), TestQuorum.Key(w));
        }
        Assert.StartsWith("bc1p", q.Wallets[2]["address"]!.GetValue<string>());

        var refresh = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "scheduled refresh");
        Assert.Equal("committed", refresh["status"]!.GetValue<string>());
        Assert.Equal(1ul, refresh["newEpoch"]!.GetValue<ulong>());
        Assert.All((await q.CheckUsable(cluster, "cs2,cs3")).Values, e => Assert.Equal(1ul, e));
        var refused = await cluster.Fails("sign", "--wallet", TestQuorum.Id(q.Wallets[0]), "--message", "00", "--epoch", "0");
        Assert.Contains("erased", refused);
        await Checks.SettledAsync(cluster, q.Name);

        var restructure = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "add cs4", "--members", "cs1,cs2,cs3,cs4", "--threshold", "3");
        Assert.Equal("committed", restructure["status"]!.GetValue<string>());
        Assert.All((await q.CheckUsable(cluster, "cs2,cs3,cs4")).Values, e => Assert.Equal(2ul, e));
        var tooFew = await cluster.Fails("sign", "--wallet", TestQuorum.Id(q.Wallets[1]), "--message", "00", "--signers", "cs1,cs4");
        Assert.Contains("needs 3", tooFew);
        var status = await Checks.SettledAsync(cluster, q.Name);
        Assert.Equal(3, status["threshold"]!.GetValue<int>());
        Assert.Equal(4, status["members"]!.AsArray().Count);
    }

    [Fact]
    public async Task Reshare_with_a_required_node_offline_is_refused_up_front_naming_it()
    {
        var q = await TestQuorum.Create(cluster, "ed25519");
        cluster.Kill("cs3");
        try
        {
            var error = await cluster.Fails("reshare", "--quorum", q.Name, "--reason", "refresh");
            Assert.Contains("cs3", error);
            Assert.Contains("offline", error);
            var wallets = (await cluster.Ok("wallet", "list", "--quorum", q.Name))["wallets"]!.AsArray();
            Assert.Equal(0ul, wallets[0]!["epoch"]!.GetValue<ulong>());
            Assert.Empty((await cluster.Ok("cluster", "status"))["nodes"]!.AsArray().Where(n => n!["name"]!.GetValue<string>() == "cs3" && n["running"]!.GetValue<bool>()));
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        await Checks.SettledAsync(cluster, q.Name);
        await q.CheckUsable(cluster, "cs1,cs3");
    }
}
