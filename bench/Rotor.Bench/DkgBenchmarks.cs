using BenchmarkDotNet.Attributes;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;

namespace Rotor.Bench;

/// <summary>A whole DKG (rounds 1 and 2 and the confirmation round) with every member in one process.</summary>
public class DkgBenchmarks
{
    [ParamsSource(typeof(Quorums), nameof(Quorums.Schemes))]
    public Scheme Scheme { get; set; }

    /// <summary>"t-of-n".</summary>
    [ParamsSource(typeof(Quorums), nameof(Quorums.All))]
    public string Quorum { get; set; } = "";

    [Benchmark]
    public int Dkg()
    {
        var (t, n) = Quorums.Parse(Quorum);
        return DkgRunner.RunInProcess(Scheme, "bench-key", t, n).Length;
    }
}
