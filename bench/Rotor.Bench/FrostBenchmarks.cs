using BenchmarkDotNet.Attributes;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Bench;

/// <summary>
/// FROST signing (RFC 9591), every signer's and the coordinator's work in one process: round 1 commitments,
/// the signing package, every signature share, every share's check and the aggregate signature's check.
/// </summary>
public class FrostSigningBenchmarks
{
    [Params(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340)]
    public Scheme Scheme { get; set; }

    /// <summary>"t-of-n".</summary>
    [Params("2-of-3", "3-of-5", "7-of-10", "34-of-50")]
    public string Quorum { get; set; } = "";

    private KeyShare[] signers = [];
    private readonly byte[] message = "benchmark message"u8.ToArray();

    [GlobalSetup]
    public void Setup()
    {
        var (t, n) = Quorums.Parse(Quorum);
        signers = TestKeys.Deal(Scheme, t, n).Shares.Take(t).ToArray();
    }

    [Benchmark] public byte[] Sign() => FrostCoordinator.SignInProcess(signers, message);
}

internal static class Quorums
{
    public static (int T, int N) Parse(string quorum)
    {
        var parts = quorum.Split("-of-");
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }
}
