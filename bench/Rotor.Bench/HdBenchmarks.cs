using BenchmarkDotNet.Attributes;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;

namespace Rotor.Bench;

/// <summary>
/// HD wallets: deriving a child key from the root's public data (one CKDpub step per path element; bip340 also the
/// two BIP-341 tweaks), and FROST signing with a derived key against the root key. The derived case includes what
/// derivation adds to a signature: every signer derives its child share (and the child package, ±Y_j + offset·G for
/// every member), the coordinator the child package. Targets: a child key in ≤ 50 µs, signing ≤ 5 % over the root.
/// </summary>
public class HdBenchmarks
{
    [ParamsSource(typeof(Quorums), nameof(Quorums.Schemes))]
    public Scheme Scheme { get; set; }

    [Params("m/0/7", "m/44/0/0/1/5")]
    public string Path { get; set; } = "";

    private KeyShare[] all = [];
    private KeyShare[] signers = [];
    private DerivationPath path = DerivationPath.Root;
    private readonly byte[] message = "benchmark message"u8.ToArray();

    [GlobalSetup]
    public void Setup()
    {
        all = DkgRunner.RunInProcess(Scheme, "bench-hd", 2, 3);
        signers = all.Take(2).ToArray();
        path = DerivationPath.Parse(Path);
    }

    /// <summary>The child public key at the path, from the root package (what `rotor wallet address` computes).</summary>
    [Benchmark] public byte[] DeriveChildKey() => HdDerivation.ChildPublicKey(all[0].Public, path);

    /// <summary>Signing with the root key (the baseline of <see cref="SignDerived"/>).</summary>
    [Benchmark(Baseline = true)] public byte[] SignRoot() => FrostCoordinator.SignInProcess(signers, message);

    /// <summary>Signing with the child key: each signer derives its child share, then the same FROST run.</summary>
    [Benchmark] public byte[] SignDerived() => FrostCoordinator.SignInProcess(signers.Select(s => HdDerivation.DeriveShare(s, path)).ToArray(), message);
}
