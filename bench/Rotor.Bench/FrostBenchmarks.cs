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
    [ParamsSource(typeof(Quorums), nameof(Quorums.Schemes))]
    public Scheme Scheme { get; set; }

    /// <summary>"t-of-n".</summary>
    [ParamsSource(typeof(Quorums), nameof(Quorums.All))]
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

/// <summary>
/// The cases of the protocol benchmarks: every scheme and quorum, or those named in the environment variables
/// <c>ROTOR_BENCH_SCHEMES</c> (e.g. <c>secp256k1,bip340</c>) and <c>ROTOR_BENCH_QUORUMS</c> (e.g. <c>2-of-3,3-of-5</c>).
/// </summary>
public static class Quorums
{
    public static IEnumerable<Scheme> Schemes() =>
        Selected("ROTOR_BENCH_SCHEMES", "ed25519,secp256k1,bip340").Select(Rotor.Protocols.Schemes.Parse);

    public static IEnumerable<string> All() => Selected("ROTOR_BENCH_QUORUMS", "2-of-3,3-of-5,7-of-10,34-of-50");

    private static string[] Selected(string variable, string all) =>
        (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v ? v : all)
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public static (int T, int N) Parse(string quorum)
    {
        var parts = quorum.Split("-of-");
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }
}
