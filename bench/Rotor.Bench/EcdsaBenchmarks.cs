using BenchmarkDotNet.Attributes;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Ecdsa;

namespace Rotor.Bench;

/// <summary>
/// Threshold ECDSA (DKLs23) with every party's work in one process, messages through their wire encodings:
/// key generation (Rotor's DKG plus the pairwise OT setup), a signing by t members, and a refresh (reshare to
/// the same members and threshold plus fresh OT material). Quorums: ROTOR_BENCH_ECDSA_QUORUMS, default
/// 2-of-3, 3-of-5, 7-of-10. Run e.g. <c>dotnet run -c Release --project bench/Rotor.Bench -- --filter '*Ecdsa*' --job short</c>.
/// </summary>
public class EcdsaBenchmarks
{
    public static IEnumerable<string> Quorums() =>
        (Environment.GetEnvironmentVariable("ROTOR_BENCH_ECDSA_QUORUMS") is { Length: > 0 } v ? v : "2-of-3,3-of-5,7-of-10")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>"t-of-n".</summary>
    [ParamsSource(nameof(Quorums))]
    public string Quorum { get; set; } = "";

    private EcdsaKeyShare[] keys = [];
    private EcdsaKeyShare[] signers = [];
    private Identifier[] members = [];
    private int threshold, count;
    private readonly byte[] digest = System.Security.Cryptography.SHA256.HashData("benchmark transaction"u8);

    [GlobalSetup]
    public void Setup()
    {
        (threshold, count) = Rotor.Bench.Quorums.Parse(Quorum);
        keys = EcdsaRunner.Keygen("bench-ecdsa", threshold, count);
        signers = keys.Take(Math.Max(2, threshold)).ToArray();
        members = keys.Select(k => k.Identifier).ToArray();
    }

    /// <summary>DKG and the OT setup between every pair (base OTs both ways).</summary>
    [Benchmark] public EcdsaKeyShare[] Keygen() => EcdsaRunner.Keygen("bench-ecdsa", threshold, count);

    /// <summary>The OT setup alone, for an existing epoch's shares.</summary>
    [Benchmark] public EcdsaKeyShare[] OtSetup() => EcdsaRunner.Setup(keys.Select(k => k.Share).ToArray());

    /// <summary>Three rounds among t signers, combination and the final verification.</summary>
    [Benchmark] public EcdsaSignature Sign() => EcdsaRunner.Sign(signers, digest);

    /// <summary>Reshare to the same members and threshold, then fresh OT material.</summary>
    [Benchmark] public EcdsaKeyShare[] Refresh() => EcdsaRunner.Reshare(signers.Length >= threshold ? keys.Take(threshold).ToArray() : keys, members, threshold);
}
