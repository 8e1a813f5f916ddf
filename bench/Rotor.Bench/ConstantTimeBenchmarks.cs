using BenchmarkDotNet.Attributes;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.TestSupport.Timing;

namespace Rotor.Bench;

/// <summary>
/// secp256k1 k·G before and after the move to constant time (issue 12): Rotor's former fixed-window k·G over
/// BouncyCastle's (branching) field arithmetic, kept as <see cref="LegacySecp256k1BaseMul"/>, against the
/// current <see cref="Group.MulBase"/> (NBitcoin.Secp256k1's ecmult_gen), each with the compressed encoding of the
/// result; and k·P in constant time (<see cref="Group.Mul"/>, NBitcoin's ecmult_const) against the variable-time
/// <see cref="Group.MulVartime"/> that public data keeps using.
/// <c>dotnet run -c Release --project bench/Rotor.Bench -- --filter '*Secp256k1ConstantTime*' --job short --inProcess</c>
/// </summary>
[MemoryDiagnoser]
public class Secp256k1ConstantTimeBenchmarks
{
    private static readonly Secp256k1Group K1 = Secp256k1Group.Instance;
    private Scalar k;
    private byte[] kBytes = [];
    private Element p = null!;

    [GlobalSetup]
    public void Setup()
    {
        k = K1.RandomScalar();
        kBytes = k.ToBytes();
        p = K1.MulBase(K1.RandomScalar()) + K1.Generator;
        _ = LegacySecp256k1BaseMul.Instance;
    }

    [Benchmark(Baseline = true, Description = "k·G before: BouncyCastle fixed windows (leaks)")]
    public int MulBaseBefore() => LegacySecp256k1BaseMul.Instance.MultiplyEncoded(kBytes).Length;

    [Benchmark(Description = "k·G after: NBitcoin.Secp256k1 ecmult_gen")]
    public int MulBaseAfter() => K1.MulBase(k).Encoding.Length;

    [Benchmark(Description = "k·P constant time: NBitcoin.Secp256k1 ecmult_const")]
    public int MulConstantTime() => K1.Mul(p, k).Encoding.Length;

    [Benchmark(Description = "k·P variable time (public data only)")]
    public int MulVartime() => K1.MulVartime(p, k).Encoding.Length;
}
