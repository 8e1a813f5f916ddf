using BenchmarkDotNet.Attributes;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;

namespace Rotor.Bench;

/// <summary>A whole DKG (rounds 1 and 2 and the confirmation round) with every member in one process.</summary>
public class DkgBenchmarks
{
    [Params(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340)]
    public Scheme Scheme { get; set; }

    [Params("2-of-3", "3-of-5", "7-of-10", "34-of-50")]
    public string Quorum { get; set; } = "";

    [Benchmark]
    public int Dkg()
    {
        var (t, n) = Quorums.Parse(Quorum);
        return DkgRunner.RunInProcess(Scheme, "bench-key", t, n).Length;
    }
}
