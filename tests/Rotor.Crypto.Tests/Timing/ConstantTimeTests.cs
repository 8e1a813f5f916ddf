using System.Security.Cryptography;
using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Ed25519;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.TestSupport.Timing;

namespace Rotor.Crypto.Tests.Timing;

/// <summary>The timing tests run alone: nothing else of this test run competes with them for the 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}

/// <summary>
/// Short dudect-style runs (fixed secret against random secrets, <see cref="Dudect"/>) over every secret path of
/// the group layer: k·G and k·P on both curves, scalar inversion, scalar multiplication, the reduction that makes
/// nonces and random scalars, and nonce derivation (H3). Each run takes at most about 3 s and fails above
/// <see cref="Dudect.ShortRunThreshold"/>: it catches a gross leak (the positive controls show that the harness
/// flags one), not a small one; the long runs (bench: <c>dotnet run -c Release --project bench/Rotor.Bench -- timing</c>,
/// ≥ 1,000,000 samples, judged at 4.5) are for those. Every run's figures are in the test output.
/// </summary>
[Collection(TimingCollection.Name)]
public class ConstantTimeTests(ITestOutputHelper output)
{
    private static readonly Secp256k1Group K1 = Secp256k1Group.Instance;
    private static readonly Ed25519Group Ed = Ed25519Group.Instance;

    /// <summary>Stop a run after this long, whatever its sample count (a very loaded machine); warm-up comes on top.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2.2);

    internal static Group Get(string name) => name == "ed25519" ? Ed : K1;

    private static DudectOptions Options(int samples, int repetitions) => new(samples, repetitions, TimeLimit: Budget);

    private string Report(DudectResult[] runs) => string.Join("; ", runs.Select(r => { output.WriteLine(r.ToString()); return r.ToString(); }));

    /// <summary>Fails when the run, and its confirmation run, are above <see cref="Dudect.ShortRunThreshold"/>.</summary>
    private void AssertNoGrossLeak<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput, Func<TIn, TOut> operation, int samples, int repetitions = 1) =>
        Dudect.RequireNoGrossLeak(name, fixedSource, randomInput, operation, Options(samples, repetitions), output.WriteLine);

    /// <summary>Fails unless the harness flags the (deliberately leaking) function above <see cref="Dudect.ShortRunThreshold"/>.</summary>
    private void AssertFlagged<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput, Func<TIn, TOut> operation, int samples, int repetitions = 1)
    {
        var (flagged, runs) = Dudect.RunControl(name, fixedSource, randomInput, operation, Options(samples, repetitions), Dudect.ShortRunThreshold);
        Assert.True(flagged, $"the harness missed a deliberate leak: {Report(runs)}");
        Report(runs);
    }

    // ------------------------------------------------------------------ k·G and k·P

    /// <summary>k·G for a fixed k against random k: the path every nonce commitment takes (issue 12).</summary>
    [Theory]
    [InlineData("secp256k1", "random")] [InlineData("secp256k1", "short")]
    [InlineData("ed25519", "random")] [InlineData("ed25519", "short")]
    public void MulBase(string group, string fixedKind)
    {
        var g = Get(group);
        // "short": a scalar below 2^128, the kind of value (leading zero windows) a digit-skipping multiplication is fastest on
        Func<Func<Scalar>> fixedK = () =>
        {
            var k = fixedKind == "short" ? g.ReduceWide(RandomNumberGenerator.GetBytes(16)) : g.RandomScalar();
            return () => k;
        };
        AssertNoGrossLeak($"{group} k·G, fixed {fixedKind} k", fixedK, g.RandomScalar, s => g.MulBase(s).Encoding.Length, group == "ed25519" ? 40_000 : 20_000);
    }

    /// <summary>
    /// k·P for a secret k and a fixed public P: the constant-time <see cref="Group.Mul"/> (blinded), and
    /// <see cref="Group.MulSingleUse"/> for a secret used once (constant time, not blinded on secp256k1).
    /// </summary>
    [Theory]
    [InlineData("secp256k1", false)] [InlineData("ed25519", false)]
    [InlineData("secp256k1", true)] [InlineData("ed25519", true)]
    public void MulSecretScalar(string group, bool singleUse)
    {
        var g = Get(group);
        var p = g.MulBase(g.RandomScalar()) + g.Generator;
        Func<Scalar, int> mul = singleUse ? s => g.MulSingleUse(p, s).Encoding.Length : s => g.Mul(p, s).Encoding.Length;
        AssertNoGrossLeak($"{group} k·P{(singleUse ? " single use" : "")}", () => Fixed(g.RandomScalar()), g.RandomScalar, mul, 10_000);
    }

    // ------------------------------------------------------------------ scalar field

    /// <summary>a^-1 (blinded: a·r inverted in variable time for a fresh random r), e.g. ECDSA's k^-1.</summary>
    [Theory]
    [InlineData("secp256k1")] [InlineData("ed25519")]
    public void ScalarInversion(string group)
    {
        var g = Get(group);
        AssertNoGrossLeak($"{group} a^-1", () => Fixed(g.RandomScalar()), g.RandomScalar, s => s.Invert(), 40_000);
    }

    /// <summary>a·b with both secret (our Montgomery field, modulo n on secp256k1 and L on Ed25519), 16 products a measurement.</summary>
    [Theory]
    [InlineData("secp256k1")] [InlineData("ed25519")]
    public void ScalarMultiplication(string group)
    {
        var g = Get(group);
        AssertNoGrossLeak($"{group} a·b", () => Fixed((g.RandomScalar(), g.RandomScalar())), () => (g.RandomScalar(), g.RandomScalar()),
            ab => ab.Item1 * ab.Item2, 100_000, repetitions: 16);
    }

    /// <summary>a + b and −a (shares and nonces are summed and negated), 16 of each a measurement.</summary>
    [Theory]
    [InlineData("secp256k1")] [InlineData("ed25519")]
    public void ScalarAdditionAndNegation(string group)
    {
        var g = Get(group);
        AssertNoGrossLeak($"{group} a+b, -a", () => Fixed((g.RandomScalar(), g.RandomScalar())), () => (g.RandomScalar(), g.RandomScalar()),
            ab => -(ab.Item1 + ab.Item2), 100_000, repetitions: 16);
    }

    /// <summary>The reduction of 64 secret bytes to a scalar: how <see cref="Group.RandomScalar"/> and hashed nonces are made.</summary>
    [Theory]
    [InlineData("secp256k1")] [InlineData("ed25519")]
    public void WideReduction(string group)
    {
        var g = Get(group);
        AssertNoGrossLeak($"{group} reduce 64 bytes", () => FixedBytes(RandomNumberGenerator.GetBytes(64)), () => RandomNumberGenerator.GetBytes(64),
            b => g.ReduceWide(b), 60_000, repetitions: 4);
    }

    /// <summary>
    /// RFC 9591 nonce_generate's hash: H3(random ‖ SerializeScalar(secret)) for every ciphersuite, the 32 random
    /// bytes and the share fixed against both random.
    /// </summary>
    [Theory]
    [InlineData("FROST-ED25519-SHA512-v1")] [InlineData("FROST-secp256k1-SHA256-v1")] [InlineData("FROST-secp256k1-SHA256-TR")]
    public void NonceDerivation(string suiteName)
    {
        Ciphersuite suite = suiteName switch
        {
            "FROST-ED25519-SHA512-v1" => Ed25519Sha512.Instance,
            "FROST-secp256k1-SHA256-v1" => Secp256k1Sha256.Instance,
            _ => Secp256k1Sha256Tr.Instance,
        };
        var g = suite.Group;
        byte[] Input()
        {
            var b = new byte[32 + g.ScalarLength];
            RandomNumberGenerator.Fill(b.AsSpan(0, 32));
            g.RandomScalar().WriteTo(b.AsSpan(32));
            return b;
        }
        AssertNoGrossLeak($"{suiteName} H3 (nonce)", () => FixedBytes(Input()), Input, b => suite.H3(b), 40_000, repetitions: 2);
    }

    // ------------------------------------------------------------------ positive controls: the harness must flag these

    /// <summary>
    /// An early-exit comparison of a 64-byte secret with a reference (the textbook leak): the fixed input equals the
    /// reference and is compared to the end, random ones differ at the first byte. Must be flagged, far above the line.
    /// </summary>
    [Fact]
    public void ControlEarlyExitComparisonIsFlagged()
    {
        var reference = RandomNumberGenerator.GetBytes(64);
        AssertFlagged("control: early-exit comparison", () => FixedBytes(reference), () => RandomNumberGenerator.GetBytes(64),
            b => LeakyEquals(b, reference), 40_000, repetitions: 8);
    }

    /// <summary>
    /// A Minerva-like leak: k·G by the variable-time multiplication, whose time grows with the bit length of k
    /// (what lattice attacks on ECDSA nonces exploit), for a fixed k of 128 bits against random 253-bit ones.
    /// It is also what <c>k * P</c> would leak if a secret were passed to it. Must be flagged.
    /// </summary>
    [Fact]
    public void ControlVariableTimeMultiplicationIsFlagged()
    {
        var p = Ed.MulBase(Ed.RandomScalar());
        AssertFlagged("control: variable-time k·P on a short k", () => Fixed(Ed.ReduceWide(RandomNumberGenerator.GetBytes(16))), Ed.RandomScalar, s => Ed.MulVartime(p, s), 10_000);
    }

    /// <summary>
    /// The leak of issue 12 itself: Rotor's former secp256k1 k·G over BouncyCastle's field arithmetic (kept in
    /// TestSupport as <see cref="LegacySecp256k1BaseMul"/>), which a short run flags at |t| of about 18 to 30 even on the
    /// loaded machine. Must be flagged.
    /// </summary>
    [Theory]
    [InlineData("random")] [InlineData("short")]
    public void ControlFormerSecp256k1MulBaseIsFlagged(string fixedKind)
    {
        var legacy = LegacySecp256k1BaseMul.Instance;
        Func<Func<byte[]>> fixedK = () =>
        {
            var k = fixedKind == "short" ? K1.ReduceWide(RandomNumberGenerator.GetBytes(16)) : K1.RandomScalar();
            return () => k.ToBytes();
        };
        AssertFlagged($"control: Rotor's former BouncyCastle k·G, fixed {fixedKind} k", fixedK, () => K1.RandomScalar().ToBytes(),
            b => legacy.MultiplyEncoded(b), 20_000);
    }

    /// <summary>A function whose time does not depend on its input at all is not flagged (the harness adds no bias of its own).</summary>
    [Fact]
    public void ControlInputIndependentWorkIsNotFlagged()
    {
        AssertNoGrossLeak("control: input-independent work", () => FixedBytes(RandomNumberGenerator.GetBytes(64)), () => RandomNumberGenerator.GetBytes(64),
            b => SHA256.HashData(Constant), 40_000, repetitions: 2);
    }

    private static readonly byte[] Constant = new byte[64];

    /// <summary>A run's fixed input: the same value every time.</summary>
    private static Func<T> Fixed<T>(T value) where T : struct => () => value;

    /// <summary>A run's fixed bytes, as a fresh copy each time (one array used over and over would stay in the cache).</summary>
    private static Func<byte[]> FixedBytes(byte[] value) => () => value.ToArray();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool LeakyEquals(byte[] a, byte[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) return false;
        return true;
    }
}
