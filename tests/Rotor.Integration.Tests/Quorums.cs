using Rotor.Rpc.Coordinator;

namespace Rotor.Integration.Tests;

/// <summary>A quorum with wallets made for one test.</summary>
public sealed record TestQuorum(string Name, IReadOnlyList<WalletRecord> Wallets)
{
    /// <summary>Creates a 2-of-3 quorum over cs1..cs3 with one wallet per scheme.</summary>
    public static async Task<TestQuorum> Create(ClusterApi api, params string[] schemes)
    {
        var name = "q-" + Guid.NewGuid().ToString("N")[..8];
        await api.CreateQuorum(name, 2, "cs1", "cs2", "cs3");
        var wallets = new List<WalletRecord>();
        foreach (var scheme in schemes) wallets.Add(await api.CreateWallet(name, scheme));
        return new TestQuorum(name, wallets);
    }

    /// <summary>Checks that every wallet kept its public key and address, and signs with each (through the given signers) under that key.</summary>
    public async Task<IReadOnlyDictionary<string, ulong>> CheckUsable(ClusterApi api, string signers)
    {
        var now = (await api.Wallets(Name)).ToDictionary(w => w.WalletId);
        var epochs = new Dictionary<string, ulong>();
        foreach (var w in Wallets)
        {
            var current = now[w.WalletId];
            Assert.Equal(w.PublicKey, current.PublicKey);
            Assert.Equal(w.Address, current.Address);
            var sig = await api.Sign(w.WalletId, signers);
            Checks.Verifies(sig, w.PublicKey);
            Assert.Equal(current.Epoch, sig.Epoch);
            epochs[w.WalletId] = current.Epoch;
        }
        return epochs;
    }
}
