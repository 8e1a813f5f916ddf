using System.Text.Json.Nodes;

namespace Rotor.Integration.Tests;

/// <summary>A quorum with wallets made for one test.</summary>
public sealed record TestQuorum(string Name, IReadOnlyList<JsonObject> Wallets)
{
    /// <summary>Creates a 2-of-3 quorum over cs1..cs3 with one wallet per scheme.</summary>
    public static async Task<TestQuorum> Create(ClusterFixture cluster, params string[] schemes)
    {
        var name = "q-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.Ok("quorum", "create", "--name", name, "--threshold", "2", "--members", "cs1,cs2,cs3");
        var wallets = new List<JsonObject>();
        foreach (var scheme in schemes) wallets.Add(await cluster.Ok("wallet", "create", "--quorum", name, "--scheme", scheme));
        return new TestQuorum(name, wallets);
    }

    public static string Id(JsonObject wallet) => wallet["walletId"]!.GetValue<string>();

    public static string Key(JsonObject wallet) => wallet["publicKey"]!.GetValue<string>();

    /// <summary>Checks that every wallet kept its public key and address, and signs with each (through the given signers) under that key.</summary>
    public async Task<IReadOnlyDictionary<string, ulong>> CheckUsable(ClusterFixture cluster, string signers)
    {
        var now = (await cluster.Ok("wallet", "list", "--quorum", Name))["wallets"]!.AsArray().ToDictionary(w => Id(w!.AsObject()), w => w!.AsObject());
        var epochs = new Dictionary<string, ulong>();
        foreach (var w in Wallets)
        {
            var current = now[Id(w)];
            Assert.Equal(Key(w), Key(current));
            Assert.Equal(w["address"]!.GetValue<string>(), current["address"]!.GetValue<string>());
            var sig = await cluster.Ok("sign", "--wallet", Id(w), "--message", "c0ffee", "--signers", signers);
            Checks.Verifies(sig, Key(w));
            Assert.Equal(current["epoch"]!.GetValue<ulong>(), sig["epoch"]!.GetValue<ulong>());
            epochs[Id(w)] = current["epoch"]!.GetValue<ulong>();
        }
        return epochs;
    }
}
