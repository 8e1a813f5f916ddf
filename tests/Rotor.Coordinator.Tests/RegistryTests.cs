namespace Rotor.Coordinator.Tests;

public sealed class RegistryTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"rotor-registry-{Guid.NewGuid():N}.db");
    private readonly Registry registry;

    public RegistryTests() => registry = new Registry(path);

    public void Dispose()
    {
        registry.Dispose();
        File.Delete(path);
    }

    private void Seed()
    {
        registry.AddNode("cs1", "https://127.0.0.1:1", [1], "aa", "bb");
        registry.AddNode("cs2", "https://127.0.0.1:2", [2], "cc", "dd");
        registry.CreateQuorum("q", 1, ["cs1", "cs2"]);
        registry.AddWallets([(new WalletEntry("w", "ed25519", "q", "00", 0), new WalletEpoch("w", 0, 1, ["cs1", "cs2"], new Dictionary<ulong, string> { [1] = "01", [2] = "02" }, null))]);
        registry.AddEvent(new EventEntry("ev", "q", "why", EventStatus.Running, [("w", 0)], ["cs1", "cs2"], ["cs1", "cs2"], 1, 2, null, 0, null));
    }

    [Fact]
    public void Nodes_get_increasing_indexes_and_keep_their_identity()
    {
        Seed();
        Assert.Equal([1ul, 2ul], registry.ListNodes().Select(n => n.Index));
        Assert.Equal("https://127.0.0.1:9", registry.AddNode("cs1", "https://127.0.0.1:9", [1], "aa", "bb").Endpoint);
        Assert.Throws<InvalidOperationException>(() => registry.AddNode("cs1", "https://127.0.0.1:9", [1], "ff", "bb"));
    }

    [Fact]
    public void Commit_moves_wallet_and_quorum_to_the_new_epoch_at_once()
    {
        Seed();
        registry.CommitEvent("ev", [9], [new WalletEpoch("w", 1, 2, ["cs1", "cs2"], new Dictionary<ulong, string> { [1] = "03", [2] = "04" }, "ev")], "q", 2, ["cs1", "cs2"]);
        Assert.Equal(1ul, registry.FindWallet("w")!.Epoch);
        Assert.Equal(2, registry.FindQuorum("q")!.Threshold);
        Assert.Equal(EventStatus.Committed, registry.FindEvent("ev")!.Status);
        Assert.Equal([9], registry.FindEvent("ev")!.Certificate);
        Assert.NotNull(registry.FindEpoch("w", 0));
        Assert.False(registry.FailEvent("ev", "too late"));
        Assert.Equal(EventStatus.Committed, registry.FindEvent("ev")!.Status);
    }

    [Fact]
    public void A_failed_event_cannot_commit_and_changes_nothing()
    {
        Seed();
        Assert.True(registry.FailEvent("ev", "node cs2 unreachable"));
        Assert.Throws<InvalidOperationException>(() =>
            registry.CommitEvent("ev", [9], [new WalletEpoch("w", 1, 1, ["cs1"], new Dictionary<ulong, string> { [1] = "03" }, "ev")], "q", 1, ["cs1"]));
        Assert.Equal(0ul, registry.FindWallet("w")!.Epoch);
        Assert.Null(registry.FindEpoch("w", 1));
        Assert.Equal("node cs2 unreachable", registry.FindEvent("ev")!.Error);
    }
}
