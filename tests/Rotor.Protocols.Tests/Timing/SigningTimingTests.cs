using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Protocols.Frost;
using Rotor.TestSupport.Timing;

namespace Rotor.Protocols.Tests.Timing;

/// <summary>The timing tests run alone: nothing else of this test run competes with them for the cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}

/// <summary>
/// Short dudect-style runs (<see cref="Dudect"/>; see tests/Rotor.Crypto.Tests/Timing for the group layer and the
/// positive controls) over FROST's secret steps as the protocol calls them: nonce_generate (H3 over fresh
/// randomness and the signing share, then k·G for the commitment) and compute_signature_share
/// (z_i = d_i + e_i·ρ_i + λ_i·s_i·c), fixed secrets against random ones, every scheme.
/// </summary>
[Collection(TimingCollection.Name)]
public class SigningTimingTests(ITestOutputHelper output)
{
    private static readonly DudectOptions Short = new(Samples: 60_000, Repetitions: 4, TimeLimit: TimeSpan.FromSeconds(2.2));

    /// <summary>The FROST schemes (named, not enumerated: other schemes have no FROST ciphersuite).</summary>
    public static TheoryData<Scheme> Schemes => new(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340);

    private void AssertNoGrossLeak<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput, Func<TIn, TOut> operation, DudectOptions options) =>
        Dudect.RequireNoGrossLeak(name, fixedSource, randomInput, operation, options, output.WriteLine);

    /// <summary>A run's fixed 32 random bytes (a fresh copy each time) and signing share.</summary>
    private static Func<Func<(byte[], Scalar)>> FixedNonceInput(Group g) => () =>
    {
        var random = RandomNumberGenerator.GetBytes(32);
        var share = g.RandomScalar();
        return () => (random.ToArray(), share);
    };

    /// <summary>compute_signature_share with the nonces and the signing share secret; ρ_i, λ_i and c public and fixed.</summary>
    [Theory, MemberData(nameof(Schemes))]
    public void SignatureShare(Scheme scheme)
    {
        var g = scheme.Group();
        Scalar rho = g.RandomScalar(), lambda = g.RandomScalar(), challenge = g.RandomScalar();
        AssertNoGrossLeak($"{scheme} signature share", () => { var secrets = (g.RandomScalar(), g.RandomScalar(), g.RandomScalar()); return () => secrets; }, () => (g.RandomScalar(), g.RandomScalar(), g.RandomScalar()),
            s => FrostCore.SignatureShare(s.Item1, s.Item2, rho, lambda, s.Item3, challenge), Short);
    }

    /// <summary>nonce_generate: H3(random ‖ SerializeScalar(share)), the randomness and the share fixed against both random.</summary>
    [Theory, MemberData(nameof(Schemes))]
    public void NonceGenerate(Scheme scheme)
    {
        var suite = scheme.Ciphersuite();
        var g = suite.Group;
        AssertNoGrossLeak($"{scheme} nonce_generate", FixedNonceInput(g), () => (RandomNumberGenerator.GetBytes(32), g.RandomScalar()),
            x => FrostCore.NonceGenerate(suite, x.Item1, x.Item2), Short with { Samples = 40_000, Repetitions = 2 });
    }

    /// <summary>A whole round-1 nonce: nonce_generate and its commitment k·G, as <see cref="FrostSigner.Commit(Keys.KeyShare)"/> makes it.</summary>
    [Theory, MemberData(nameof(Schemes))]
    public void NonceAndCommitment(Scheme scheme)
    {
        var suite = scheme.Ciphersuite();
        var g = suite.Group;
        AssertNoGrossLeak($"{scheme} nonce and commitment", FixedNonceInput(g), () => (RandomNumberGenerator.GetBytes(32), g.RandomScalar()),
            x => g.MulBase(FrostCore.NonceGenerate(suite, x.Item1, x.Item2)).Encoding.Length,
            Short with { Samples = g.Name == "secp256k1" ? 20_000 : 40_000, Repetitions = 1 });
    }
}
