using BenchmarkDotNet.Attributes;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.TestSupport;

namespace Rotor.Bench;

/// <summary>
/// One refresh (same members and threshold, epoch e → e+1), every party's work in one process: plan, t dealers,
/// every new member's verification and combination, signed confirmations, certificate and commit. The members'
/// node identities are long-term keys that exist before any reshare, so they are made in the setup.
/// </summary>
public class ReshareBenchmarks
{
    [ParamsSource(typeof(Quorums), nameof(Quorums.Schemes))]
    public Scheme Scheme { get; set; }

    /// <summary>"t-of-n".</summary>
    [ParamsSource(typeof(Quorums), nameof(Quorums.All))]
    public string Quorum { get; set; } = "";

    private KeyShare[] dealers = [];
    private Identifier[] members = [];
    private int threshold;
    private Dictionary<Identifier, NodeIdentity> identities = [];

    [GlobalSetup]
    public void Setup()
    {
        (threshold, var n) = Quorums.Parse(Quorum);
        var shares = TestKeys.Deal(Scheme, threshold, n).Shares;
        dealers = shares.Take(threshold).ToArray();
        members = shares.Select(s => s.Identifier).ToArray();
        identities = members.ToDictionary(m => m, _ => NodeIdentity.Create());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var id in identities.Values) id.Dispose();
    }

    [Benchmark] public KeyShare[] Refresh() => Reshare.RunInProcess(dealers, members, threshold, identities);
}

/// <summary>
/// The services' bulk refresh: 10,000 Ed25519 wallets of one 2-of-3 quorum in one event, every party in one
/// process (each new member verifies all wallets with one batch and confirms the event once). Target ≤ 5 s.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class ReshareBatchBenchmarks
{
    [Params(10_000)]
    public int Wallets { get; set; }

    private IReadOnlyList<KeyShare>[] wallets = [];
    private Identifier[] members = [];
    private Dictionary<Identifier, NodeIdentity> identities = [];

    [GlobalSetup]
    public void Setup()
    {
        wallets = Enumerable.Range(0, Wallets)
            .Select(i => (IReadOnlyList<KeyShare>)TestKeys.Deal(Scheme.Ed25519, 2, 3, $"wallet-{i:D5}").Shares.Take(2).ToArray())
            .ToArray();
        members = TestKeys.Ids(Scheme.Ed25519.Group(), 3);
        identities = members.ToDictionary(m => m, _ => NodeIdentity.Create());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var id in identities.Values) id.Dispose();
    }

    [Benchmark] public KeyShare[][] RefreshBatch() => Reshare.RunInProcessBatch(wallets, members, 2, identities);
}
