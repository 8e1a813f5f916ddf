using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Protocols.Ecdsa;
using Rotor.TestSupport.Timing;

namespace Rotor.Protocols.Tests.Timing;

/// <summary>
/// Short dudect-style runs (<see cref="Dudect"/>, judged at <see cref="Dudect.ShortRunThreshold"/> with a
/// confirmation run) over threshold ECDSA's secret steps as the protocol code calls them: the hedged instance key
/// and R_i = r_i·G, both sides of a base OT (the sender's H(a·B_i), the receiver's choice of B_i and response), the
/// OT extension's PRG, transpose and consistency-check values, the random-OT row hash, a row of the multiplication on
/// each side, the gadget sum, and the signature share; fixed secret against random ones, public inputs fixed. The
/// group layer's paths (k·G, k·P, inversion) are in tests/Rotor.Crypto.Tests/Timing; the long runs are
/// <c>dotnet run -c Release --project bench/Rotor.Bench -- timing --filter ecdsa</c>.
/// </summary>
[Collection(TimingCollection.Name)]
public class EcdsaTimingTests(ITestOutputHelper output)
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static readonly DudectOptions Short = new(Samples: 40_000, Repetitions: 1, TimeLimit: TimeSpan.FromSeconds(2.2));
    private static readonly byte[] Session = RandomNumberGenerator.GetBytes(64);

    private void AssertNoGrossLeak<TIn, TOut>(string name, Func<Func<TIn>> fixedSource, Func<TIn> randomInput, Func<TIn, TOut> operation, DudectOptions options) =>
        Dudect.RequireNoGrossLeak(name, fixedSource, randomInput, operation, options, output.WriteLine);

    private static Func<Func<T>> Fixed<T>(Func<T> make, Func<T, T> copy) => () => { var v = make(); return () => copy(v); };

    private static Scalar[] Scalars(int n) => Enumerable.Range(0, n).Select(_ => G.RandomScalar()).ToArray();

    private static Gf128 RandomGf() => Gf128.Read(RandomNumberGenerator.GetBytes(16));

    /// <summary>Nonce generation: r_i = SHA-512(random, share, session) mod n and the commitment point R_i = r_i·G.</summary>
    [Fact]
    public void InstanceKey() =>
        AssertNoGrossLeak("ecdsa instance key (hedged r, r·G)",
            Fixed(() => (RandomNumberGenerator.GetBytes(32), G.RandomScalar().ToBytes()), v => (v.Item1.ToArray(), v.Item2.ToArray())),
            () => (RandomNumberGenerator.GetBytes(32), G.RandomScalar().ToBytes()),
            x => G.MulBase(EcdsaSigner.Hedge(G, x.Item1, x.Item2, Session, "instance-key")).Encoding.Length,
            Short with { Samples = 20_000 });

    /// <summary>The base-OT sender's key ρ = H(a·B_i) under its secret a (the constant-time k·P of the batch form, as the sender computes it).</summary>
    [Fact]
    public void BaseOtSenderKey()
    {
        var b = G.MulBase(G.RandomScalar());
        AssertNoGrossLeak("ecdsa base OT sender key H(a·B)", Fixed(G.RandomScalar, a => a), G.RandomScalar,
            a => BaseOtSender.Key(Session, 3, G.MulMany([b], a)[0]), Short with { Samples = 20_000 });
    }

    /// <summary>The base-OT receiver's key ρ = H(b_i·A) under its secret b_i (the batch form, as the receiver computes it).</summary>
    [Fact]
    public void BaseOtReceiverKey()
    {
        var a = G.MulBase(G.RandomScalar());
        AssertNoGrossLeak("ecdsa base OT receiver key H(b·A)", Fixed(G.RandomScalar, b => b), G.RandomScalar,
            b => BaseOtSender.Key(Session, 3, G.MulMany(a, [b])[0]), Short with { Samples = 20_000 });
    }

    /// <summary>The base-OT receiver's choice of B_i (b·G or b·G + A, by a mask) and its response, under its secret choice bit.</summary>
    [Fact]
    public void BaseOtReceiverChoiceAndResponse()
    {
        var enc0 = G.MulBase(G.RandomScalar()).ToBytes();
        var enc1 = G.MulBase(G.RandomScalar()).ToBytes();
        var xi = RandomNumberGenerator.GetBytes(32);
        AssertNoGrossLeak("ecdsa base OT receiver choice and response",
            Fixed(() => ((byte)1, RandomNumberGenerator.GetBytes(64)), v => (v.Item1, v.Item2.ToArray())),
            () => ((byte)RandomNumberGenerator.GetInt32(2), RandomNumberGenerator.GetBytes(64)),
            x =>
            {
                var dest = new byte[33];
                BaseOtReceiver.SelectByChoice(enc0, enc1, x.Item1, dest);
                return BaseOtReceiver.Response(Session, 3, x.Item2, xi, x.Item1)[0] ^ dest[5];
            }, Short);
    }

    /// <summary>The OT extension's PRG of a secret base-OT seed.</summary>
    [Fact]
    public void OtExtensionPrg() =>
        AssertNoGrossLeak("ecdsa OT extension PRG", Fixed(() => RandomNumberGenerator.GetBytes(32), v => v.ToArray()), () => RandomNumberGenerator.GetBytes(32),
            seed => { var c = new byte[OtParams.ColumnBytes]; OtHash.Expand("kos/prg", seed, Session, c); return c[0]; }, Short with { Repetitions = 2 });

    /// <summary>The transpose of the secret extension matrix.</summary>
    [Fact]
    public void OtExtensionTranspose()
    {
        byte[][] Cols() => Enumerable.Range(0, OtParams.Kappa).Select(_ => RandomNumberGenerator.GetBytes(OtParams.ColumnBytes)).ToArray();
        AssertNoGrossLeak("ecdsa OT extension transpose", Fixed(Cols, v => v.Select(c => c.ToArray()).ToArray()), Cols,
            cols => Rvole.Transpose(cols).Length, Short with { Samples = 20_000 });
    }

    /// <summary>The OT-extension receiver's consistency-check values over its secret choice bits and rows (public challenges).</summary>
    [Fact]
    public void OtExtensionCheckValues()
    {
        var chi = Enumerable.Range(0, OtParams.ExtendedRows).Select(_ => RandomGf()).ToArray();
        (byte[], Gf128[]) Make() => (RandomNumberGenerator.GetBytes(OtParams.ColumnBytes), Enumerable.Range(0, OtParams.ExtendedRows).Select(_ => RandomGf()).ToArray());
        AssertNoGrossLeak("ecdsa OT extension check values", Fixed(Make, v => (v.Item1.ToArray(), v.Item2.ToArray())), Make,
            x => Rvole.KosCheckValues(x.Item1, x.Item2, chi).X.Lo, Short with { Samples = 20_000 });
    }

    /// <summary>The random-OT output of a secret row value (SHAKE256 and four wide reductions).</summary>
    [Fact]
    public void RandomOtRowHash() =>
        AssertNoGrossLeak("ecdsa random-OT row hash", Fixed(RandomGf, v => v), RandomGf,
            v => { var o = new Scalar[4]; OtHash.RowScalars(G, Session, 7, v, o); return o[3]; }, Short with { Repetitions = 2 });

    /// <summary>
    /// n random scalars in one array, the input's only allocation, as the fixed input's copy is: inputs made with
    /// other allocations around them (garbage between the random class's arrays) land differently in memory than
    /// the fixed class's, and at this size that alone is measurable (first versions read |t| = 35 to 70 for it).
    /// </summary>
    private static Scalar[] Flat(int n)
    {
        var v = new Scalar[n];
        for (int i = 0; i < n; i++) v[i] = G.RandomScalar();
        return v;
    }

    /// <summary>A row of Alice's correction τ with her secret inputs and pads (p0, p1, a, â in one array).</summary>
    [Fact]
    public void MultiplicationRowAlice() =>
        AssertNoGrossLeak("ecdsa multiplication row (Alice)", Fixed(() => Flat(12), v => v.ToArray()), () => Flat(12),
            x => { var tau = new Scalar[4]; var z = new Scalar[4]; Rvole.AliceRow(x.AsSpan(0, 4), x.AsSpan(4, 4), x.AsSpan(8, 4), tau, z); return tau[3]; },
            Short with { Repetitions = 4 });

    /// <summary>A row of Bob's output and multiplication check with his secret choice bit and pads (public τ, r, challenges, Σu).</summary>
    [Fact]
    public void MultiplicationRowBob()
    {
        var tau = Scalars(4);
        var r = G.RandomScalar();
        var chal = Scalars(4).Select(G.Prepare).ToArray();
        var usum = G.RandomScalar();
        AssertNoGrossLeak("ecdsa multiplication row and check (Bob)", Fixed(() => (1UL, Flat(4)), v => (v.Item1, v.Item2.ToArray())),
            () => ((ulong)RandomNumberGenerator.GetInt32(2), Flat(4)),
            x => { var z = new Scalar[4]; return Rvole.BobRow(x.Item1, tau, x.Item2, r, chal, usum, z); }, Short with { Repetitions = 4 });
    }

    /// <summary>The gadget sum ⟨g, z⟩ that gives a multiplication share.</summary>
    [Fact]
    public void MultiplicationGadgetSum() =>
        AssertNoGrossLeak("ecdsa multiplication gadget sum", Fixed(() => Flat(OtParams.Xi), v => v.ToArray()), () => Flat(OtParams.Xi),
            z => Rvole.GadgetSum(G, z, 1, 0), Short with { Samples = 20_000 });

    /// <summary>The signature share u_i, w_i from r_i, φ_i, sk_i and the multiplication shares (public x(R), H(m)).</summary>
    [Fact]
    public void SignatureShare()
    {
        var x = G.RandomScalar();
        var e = G.RandomScalar();
        AssertNoGrossLeak("ecdsa signature share (u_i, w_i)", Fixed(() => Flat(6), v => v.ToArray()), () => Flat(6),
            s => EcdsaSigner.ShareValues(s[0], s[1], s[2], s[3], s[4], s[5], x, e).W, Short with { Repetitions = 4 });
    }
}
