using Microsoft.Data.Sqlite;

namespace Rotor.Integration.Tests;

/// <summary>
/// The invariants every race and fault test checks afterwards (issue 10): every wallet at one epoch, active, on exactly
/// its quorum's members (the last committed set); records and audit entries naming the epochs that changed; no operation
/// non-terminal; the audit log intact; every wallet signs with t members; a removed member holds nothing.
/// </summary>
public static class Invariants
{
    /// <summary>
    /// Every wallet at one epoch, active, on exactly the quorum's members; every committed operation's audit entry
    /// names the epochs its event made; no operation of the quorum non-terminal; the audit log intact; every wallet signs.
    /// </summary>
    public static async Task CheckAsync(ClusterFixture cluster, TestQuorum q)
    {
        var status = await Checks.SettledAsync(cluster.Api, q.Name);
        foreach (var w in status.Wallets)
        {
            Assert.Equal(status.Quorum.Members.Order(), w.Wallet.Members.Order());
            Assert.Equal(status.Quorum.Members.Order(), w.Nodes.Select(n => n.Node).Order());
        }
        var ops = (await cluster.Ok("reshare", "list", "--quorum", q.Name))["operations"]!.AsArray().Select(o => o!.AsObject()).ToList();
        Assert.All(ops, o => Assert.DoesNotContain(o["status"]!.GetValue<string>(), new[] { "scheduled", "running" }));
        var log = (await cluster.Ok("log", "--quorum", q.Name))["entries"]!.AsArray().Select(e => e!.AsObject()).ToList();
        foreach (var op in ops.Where(o => o["status"]!.GetValue<string>() == "committed"))
        {
            var entry = log.Single(e => e["subject"]?.GetValue<string>() == op["id"]!.GetValue<string>() && e["details"]!["to"]?.GetValue<string>() == "committed");
            var logged = entry["details"]!["wallets"]!.AsArray().ToDictionary(x => x!["wallet"]!.GetValue<string>(), x => x!["epoch"]!.GetValue<ulong>());
            foreach (var w in op["wallets"]!.AsArray())
                Assert.Equal(w!["newEpoch"]!.GetValue<ulong>(), logged[w["wallet"]!.GetValue<string>()]);
        }
        // The committed operations form one chain: each starts where the previous one ended (epochs and members).
        var chain = ops.Where(o => o["status"]!.GetValue<string>() == "committed").OrderBy(o => o["finished"]!.GetValue<long>()).ToList();
        for (int i = 1; i < chain.Count; i++)
        {
            Assert.Equal(chain[i - 1]["newMembers"]!.AsArray().Select(m => m!.GetValue<string>()).Order(), chain[i]["oldMembers"]!.AsArray().Select(m => m!.GetValue<string>()).Order());
            var before = chain[i - 1]["wallets"]!.AsArray().ToDictionary(w => w!["wallet"]!.GetValue<string>(), w => w!["newEpoch"]!.GetValue<ulong>());
            foreach (var w in chain[i]["wallets"]!.AsArray())
                if (before.TryGetValue(w!["wallet"]!.GetValue<string>(), out var e)) Assert.Equal(e, w["oldEpoch"]!.GetValue<ulong>());
        }
        var committedEpochs = ops.Count(o => o["status"]!.GetValue<string>() == "committed");
        foreach (var w in status.Wallets.Where(w => q.Wallets.Any(x => x.WalletId == w.Wallet.WalletId && x.Epoch == 0)))
            Assert.True(w.Wallet.Epoch <= (ulong)committedEpochs, $"wallet {w.Wallet.WalletId} at epoch {w.Wallet.Epoch} after {committedEpochs} committed reshares");
        Assert.True((await cluster.Ok("log", "--verify"))["intact"]!.GetValue<bool>());
        var signers = string.Join(",", status.Quorum.Members.Take((int)status.Quorum.Threshold));
        await new TestQuorum(q.Name, status.Wallets.Select(w => w.Wallet).ToList()).CheckUsable(cluster.Api, signers);
    }

    /// <summary>The node's vault keeps no row of the quorum's wallets (settlement may take a heartbeat or two).</summary>
    public static async Task HoldsNothingAsync(ClusterFixture cluster, string node, TestQuorum q)
    {
        var vault = Directory.GetFiles(Path.Combine(cluster.Dir, "nodes", node), "*vault*.db").Single();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long rows;
        while (true)
        {
            using (var c = new SqliteConnection($"Data Source={vault};Mode=ReadOnly;Pooling=False"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"SELECT count(*) FROM shards WHERE key_id IN ({string.Join(",", q.Wallets.Select((_, i) => "$k" + i))})";
                for (int i = 0; i < q.Wallets.Count; i++) cmd.Parameters.AddWithValue("$k" + i, q.Wallets[i].WalletId);
                rows = (long)cmd.ExecuteScalar()!;
            }
            if (rows == 0 || DateTime.UtcNow > deadline) break;
            await Task.Delay(300);
        }
        Assert.True(rows == 0, $"{node} still holds {rows} shard(s) of a wallet it was removed from");
        foreach (var w in q.Wallets)
            await cluster.Fails("sign", "--wallet", w.WalletId, "--message", "00", "--signers", $"cs1,{node}", "--epoch", "0");
    }

}
