using BenchmarkDotNet.Attributes;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Ed25519;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Bench;

/// <summary>Single group operations of each group, as the protocols call them.</summary>
[MemoryDiagnoser]
public class GroupBenchmarks
{
    [Params("ed25519", "secp256k1")]
    public string Group { get; set; } = "";

    private Group g = null!;
    private Scalar k;
    private Element p = null!, q = null!;
    private byte[] encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        g = Group == "ed25519" ? Ed25519Group.Instance : Secp256k1Group.Instance;
        k = g.RandomScalar();
        p = g.MulBase(g.RandomScalar()) + g.Generator;  // a computed point, as protocols hold them
        q = g.MulBase(g.RandomScalar()) + g.Generator;
        encoded = p.ToBytes();
    }

    /// <summary>k·G in constant time (libsodium / BouncyCastle's comb), encoding included.</summary>
    [Benchmark] public int MulBase() => g.MulBase(k).Encoding.Length;

    /// <summary>DeserializeElement: canonical, on the curve, in the prime-order subgroup.</summary>
    [Benchmark] public Element Decode() => g.DecodeElement(encoded);

    /// <summary>Decoding and first use in arithmetic (Ed25519 decompresses lazily).</summary>
    [Benchmark] public Element DecodeAndAdd() => g.DecodeElement(encoded) + q;

    [Benchmark] public Element Add() => p + q;

    /// <summary>An addition and the canonical encoding of its result (a field inversion).</summary>
    [Benchmark] public int AddAndEncode() => (p + q).Encoding.Length;

    [Benchmark] public Element MulVartime() => p * k;
}

/// <summary>Σ kᵢ·Pᵢ at the sizes the protocols need: a signature share check (3), one dealer's
/// commitment (34), a 34-of-50 DKG's commitments (1666), a 10,000-wallet batch refresh (40,000).</summary>
public class MultiScalarMulBenchmarks
{
    [Params("ed25519", "secp256k1")]
    public string Group { get; set; } = "";

    [Params(3, 34, 1666, 40000)]
    public int Points { get; set; }

    private Group g = null!;
    private Scalar[] ks = [];
    private Element[] ps = [];

    [GlobalSetup]
    public void Setup()
    {
        g = Group == "ed25519" ? Ed25519Group.Instance : Secp256k1Group.Instance;
        ks = new Scalar[Points];
        ps = new Element[Points];
        var basePoints = Enumerable.Range(0, 64).Select(_ => g.MulBase(g.RandomScalar())).ToArray();
        for (int i = 0; i < Points; i++)
        {
            ks[i] = g.RandomScalar();
            ps[i] = basePoints[i % 64] + basePoints[(i * 7 + 3) % 64];
        }
    }

    [Benchmark] public Element MultiMulVartime() => g.MultiMulVartime(ks, ps);
}

/// <summary>Encoding 1,000 computed elements one by one or with one shared inversion.</summary>
public class EncodeManyBenchmarks
{
    [Params("ed25519", "secp256k1")]
    public string Group { get; set; } = "";

    private Group g = null!;
    private Element[] basePoints = [];

    [GlobalSetup]
    public void Setup()
    {
        g = Group == "ed25519" ? Ed25519Group.Instance : Secp256k1Group.Instance;
        basePoints = Enumerable.Range(0, 1000).Select(_ => g.MulBase(g.RandomScalar())).ToArray();
    }

    private Element[] Fresh() => basePoints.Select(e => e + g.Generator).ToArray();

    [Benchmark(Baseline = true)]
    public int OneByOne()
    {
        int n = 0;
        foreach (var e in Fresh()) n += e.Encoding.Length;
        return n;
    }

    [Benchmark]
    public int EncodeMany()
    {
        var es = Fresh();
        g.EncodeMany(es);
        return es.Sum(e => e.Encoding.Length);
    }
}
