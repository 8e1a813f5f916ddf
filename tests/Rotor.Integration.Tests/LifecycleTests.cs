namespace Rotor.Integration.Tests;

/// <summary>Keygen, signing, refresh and restructure 2-of-3 → 3-of-4 over real processes; the CLI's JSON contract.</summary>
public sealed class LifecycleTests(FourNodeCluster cluster) : IClassFixture<FourNodeCluster>
{
    private ClusterApi Api => cluster.Api;

    [Fact]
    public async Task Keygen_sign_refresh_and_restructure_keep_every_key()
    {
        var q = await TestQuorum.Create(Api, "ed25519", "secp256k1", "bip340");
        foreach (var w in q.Wallets)
        {
            Assert.Equal(0ul, w.Epoch);
            Checks.Verifies(await Api.Sign(w.WalletId), w.PublicKey);
        }
        Assert.StartsWith("bc1p", q.Wallets[2].Address);

        var refresh = await Api.Reshare(q.Name, "scheduled refresh");
        Assert.Equal("committed", refresh.Status);
        Assert.Equal(1ul, refresh.NewEpoch);
        Assert.All((await q.CheckUsable(Api, "cs2,cs3")).Values, e => Assert.Equal(1ul, e));
        Assert.Contains("erased", await ClusterApi.Refused(() => Api.Sign(q.Wallets[0].WalletId, epoch: 0)));
        await Checks.SettledAsync(Api, q.Name);

        var restructure = await Api.Reshare(q.Name, "add cs4", "cs1,cs2,cs3,cs4", 3);
        Assert.Equal("committed", restructure.Status);
        Assert.All((await q.CheckUsable(Api, "cs2,cs3,cs4")).Values, e => Assert.Equal(2ul, e));
        Assert.Contains("needs 3", await ClusterApi.Refused(() => Api.Sign(q.Wallets[1].WalletId, "cs1,cs4")));
        var status = await Checks.SettledAsync(Api, q.Name);
        Assert.Equal(3u, status.Quorum.Threshold);
        Assert.Equal(4, status.Members.Count);
    }

    [Fact]
    public async Task Reshare_with_a_required_node_offline_is_refused_up_front_naming_it()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        cluster.Kill("cs3");
        try
        {
            var error = await ClusterApi.Refused(() => Api.Reshare(q.Name, "refresh"));
            Assert.Contains("cs3", error);
            Assert.Contains("offline", error);
            Assert.Equal(0ul, (await Api.Wallets(q.Name))[0].Epoch);
            Checks.Verifies(await Api.Sign(q.Wallets[0].WalletId, "cs1,cs2"), q.Wallets[0].PublicKey);
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        await Checks.SettledAsync(Api, q.Name);
        await q.CheckUsable(Api, "cs1,cs3");
    }

    [Fact]
    public async Task Cli_prints_one_json_object_per_command_and_names_errors()
    {
        await cluster.Ok("quorum", "create", "--name", "cli", "--threshold", "2", "--members", "cs1,cs2,cs3");
        var w = await cluster.Ok("wallet", "create", "--quorum", "cli", "--scheme", "bip340");
        foreach (var field in new[] { "walletId", "scheme", "publicKey", "address", "epoch" }) Assert.NotNull(w[field]);
        var s = await cluster.Ok("sign", "--wallet", w["walletId"]!.GetValue<string>(), "--message", "68656c6c6f", "--signers", "cs1,cs3");
        foreach (var field in new[] { "walletId", "scheme", "epoch", "signers", "message", "signature", "publicKey" }) Assert.NotNull(s[field]);
        var r = await cluster.Ok("reshare", "--quorum", "cli", "--reason", "compliance", "--note", "cli check");
        foreach (var field in new[] { "eventId", "wallets", "oldEpoch", "newEpoch", "status" }) Assert.NotNull(r[field]);
        Assert.Contains("must be hex", await cluster.Fails("sign", "--wallet", "x", "--message", "zz"));
        Assert.Contains("no wallet 'nope'", await cluster.Fails("sign", "--wallet", "nope", "--message", "00"));
        var status = await cluster.Ok("quorum", "status", "cli");
        Assert.Equal(3, status["members"]!.AsArray().Count);
        Assert.Contains("invalid quorum name 'bad[x]'", await cluster.Fails("quorum", "create", "--name", "bad[x]", "--threshold", "1", "--members", "cs1"));
    }

    [Fact]
    public async Task Readable_output_shows_names_and_plans_as_plain_text()
    {
        await cluster.Ok("quorum", "create", "--name", "readable", "--threshold", "2", "--members", "cs1,cs2,cs3");
        var w = (await cluster.Ok("wallet", "create", "--quorum", "readable", "--scheme", "ed25519"))["walletId"]!.GetValue<string>();
        var (code, output, error) = await cluster.RunText("reshare", "plan", "--quorum", "readable", "--reason", "compliance", "--note", "[not markup]");
        Assert.True(code == 0, $"reshare plan failed ({code}): {error}");
        Assert.Contains("[not markup]", output);
        Assert.Contains("2-of-{cs1, cs2, cs3}", output);
        Assert.Contains(w, output);
        Assert.Contains("backups made obsolete by the commit", output);
        Assert.Empty(error);
    }
}
