using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Protocols.Ecdsa;
using Rotor.TestSupport.Timing;

namespace Rotor.Bench;

/// <summary>
/// The secret steps of threshold ECDSA (DKLs23) as the protocol code calls them, for the dudect-style runs
/// (<see cref="TimingRunner"/>; the short versions are tests/Rotor.Protocols.Tests/Timing/EcdsaTimingTests.cs):
/// the hedged instance key and its commitment point, both sides of a base OT, the OT extension's PRG, transpose
/// and consistency check, the random-OT row hash, a row of the multiplication on each side (Alice's correction,
/// Bob's output and check), the gadget sum that gives the multiplication shares, and the signature share. Each
/// is measured on one fixed secret against fresh random ones; public inputs are fixed for both classes.
/// </summary>
internal static class EcdsaTimingPaths
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;

    public sealed record Spec(string Name, Func<DudectOptions, DudectResult> Run, int Repetitions = 1);

    private static Spec P<TIn, TOut>(string name, Func<TIn> fixedInput, Func<TIn> randomInput, Func<TIn, TOut> op, int repetitions = 1) =>
        new(name, o => Dudect.Run(name, fixedInput, randomInput, op, o with { Repetitions = repetitions }), repetitions);

    private static Scalar[] Scalars(int n) => Enumerable.Range(0, n).Select(_ => G.RandomScalar()).ToArray();

    private static Scalar[] Flat(int n)
    {
        var v = new Scalar[n];
        for (int i = 0; i < n; i++) v[i] = G.RandomScalar();
        return v;
    }

    private static Gf128 RandomGf() => Gf128.Read(RandomNumberGenerator.GetBytes(16));

    /// <summary>The check values' input (x, rows), from the given bytes or, when null, fresh random ones: the same allocations either way.</summary>
    private static (byte[], Gf128[]) CheckInput(byte[]? x, byte[]? rowBytes)
    {
        var xs = new byte[OtParams.ColumnBytes];
        var bytes = new byte[16 * OtParams.ExtendedRows];
        var rows = new Gf128[OtParams.ExtendedRows];
        if (x is null) RandomNumberGenerator.Fill(xs); else x.CopyTo(xs, 0);
        if (rowBytes is null) RandomNumberGenerator.Fill(bytes); else rowBytes.CopyTo(bytes, 0);
        for (int j = 0; j < rows.Length; j++) rows[j] = Gf128.Read(bytes.AsSpan(16 * j, 16));
        return (xs, rows);
    }

    public static IEnumerable<Spec> All()
    {
        var session = RandomNumberGenerator.GetBytes(64);
        // nonce generation: r = SHA-512(random, share, session) mod n and R = r·G
        var random = RandomNumberGenerator.GetBytes(32);
        var share = G.RandomScalar().ToBytes();
        yield return P("ecdsa instance key (hedged r, r·G)", () => (random.ToArray(), share.ToArray()), () => (RandomNumberGenerator.GetBytes(32), G.RandomScalar().ToBytes()),
            x => G.MulBase(EcdsaSigner.Hedge(G, x.Item1, x.Item2, session, "instance-key")).Encoding.Length);

        // base OT sender: ρ = H(a·B_i) with the sender's secret a
        var b = G.MulBase(G.RandomScalar());
        var fixedA = G.RandomScalar();
        // as the sender computes it: one product of the batch form (G.MulMany), which is not blinded as G.Mul is
        yield return P("ecdsa base OT sender key H(a·B)", () => fixedA, G.RandomScalar, a => BaseOtSender.Key(session, 3, G.MulMany([b], a)[0]));
        // base OT receiver: ρ = H(b_i·A) with the receiver's secret b_i, one product of the batch form as well
        var fixedB = G.RandomScalar();
        yield return P("ecdsa base OT receiver key H(b·A)", () => fixedB, G.RandomScalar, bi => BaseOtSender.Key(session, 3, G.MulMany(b, [bi])[0]));

        // base OT receiver: B_i chosen by the choice bit, and the response to the challenge
        var enc0 = G.MulBase(G.RandomScalar()).ToBytes();
        var enc1 = G.MulBase(G.RandomScalar()).ToBytes();
        var xi = RandomNumberGenerator.GetBytes(32);
        var fixedRho = RandomNumberGenerator.GetBytes(64);
        yield return P("ecdsa base OT receiver choice and response", () => ((byte)1, fixedRho.ToArray()), () => ((byte)RandomNumberGenerator.GetInt32(2), RandomNumberGenerator.GetBytes(64)),
            x =>
            {
                var dest = new byte[33];
                BaseOtReceiver.SelectByChoice(enc0, enc1, x.Item1, dest);
                return BaseOtReceiver.Response(session, 3, x.Item2, xi, x.Item1)[0] ^ dest[5];
            });

        // OT extension: the PRG of a base-OT seed
        var fixedSeed = RandomNumberGenerator.GetBytes(32);
        yield return P("ecdsa OT extension PRG", () => fixedSeed.ToArray(), () => RandomNumberGenerator.GetBytes(32),
            seed => { var c = new byte[OtParams.ColumnBytes]; OtHash.Expand("kos/prg", seed, session, c); return c[0]; }, 2);

        // OT extension: transpose of the secret matrix
        var fixedCols = Enumerable.Range(0, OtParams.Kappa).Select(_ => RandomNumberGenerator.GetBytes(OtParams.ColumnBytes)).ToArray();
        yield return P("ecdsa OT extension transpose", () => fixedCols.Select(c => c.ToArray()).ToArray(),
            () => Enumerable.Range(0, OtParams.Kappa).Select(_ => RandomNumberGenerator.GetBytes(OtParams.ColumnBytes)).ToArray(),
            cols => Rvole.Transpose(cols).Length);

        // OT extension: the receiver's consistency-check values over its secret bits and rows (public χ)
        var chi = Enumerable.Range(0, OtParams.ExtendedRows).Select(_ => RandomGf()).ToArray();
        var fixedX = RandomNumberGenerator.GetBytes(OtParams.ColumnBytes);
        // Both classes' inputs are made by the same allocations in the same order (CheckInput), the random class's
        // from fresh random bytes: made element by element (a 16-byte array per row), the random rows landed in memory
        // unlike the fixed class's one copy, and the session-7 run read |t| = 23.5 here, fixed slower at the 89 % crop
        // but faster uncropped (-4.8): the shape of a layout effect.
        var fixedRowBytes = RandomNumberGenerator.GetBytes(16 * OtParams.ExtendedRows);
        yield return P("ecdsa OT extension check values", () => CheckInput(fixedX, fixedRowBytes), () => CheckInput(null, null),
            x => Rvole.KosCheckValues(x.Item1, x.Item2, chi).X.Lo);

        // random OT: the row hash of a secret row value
        var fixedRow = RandomGf();
        yield return P("ecdsa random-OT row hash", () => fixedRow, RandomGf,
            v => { var o = new Scalar[4]; OtHash.RowScalars(G, session, 7, v, o); return o[3]; }, 2);

        // multiplication: a row of Alice's correction τ with her secret inputs and pads (p0, p1, a, â in one array:
        // inputs spread over several arrays land differently in memory in the two classes, which is measurable here)
        var fixedAlice = Flat(12);
        yield return P("ecdsa multiplication row (Alice)", () => fixedAlice.ToArray(), () => Flat(12),
            x => { var tau = new Scalar[4]; var z = new Scalar[4]; Rvole.AliceRow(x.AsSpan(0, 4), x.AsSpan(4, 4), x.AsSpan(8, 4), tau, z); return tau[3]; }, 4);

        // multiplication: a row of Bob's output and check with his secret choice bit and pads (public τ, r, challenges, Σu)
        var tauPub = Scalars(4);
        var rPub = G.RandomScalar();
        var chalPub = Scalars(4);
        var usumPub = G.RandomScalar();
        var chalF = chalPub.Select(G.Prepare).ToArray();
        var fixedPads = Flat(4);
        // the fixed class's pads are made as the random class's are (Flat, with its allocations) and then overwritten, so
        // that both classes' arrays land alike in memory (a copy made by ToArray read |t| = 12.4 and 9.9, session 7)
        yield return P("ecdsa multiplication row and check (Bob)", () => { var p = Flat(4); fixedPads.CopyTo(p, 0); return (1UL, p); },
            () => ((ulong)RandomNumberGenerator.GetInt32(2), Flat(4)),
            x => { var z = new Scalar[4]; return Rvole.BobRow(x.Item1, tauPub, x.Item2, rPub, chalF, usumPub, z); }, 4);

        // multiplication: the gadget sum that gives a share
        var fixedZ = Flat(OtParams.Xi);
        yield return P("ecdsa multiplication gadget sum", () => fixedZ.ToArray(), () => Flat(OtParams.Xi), z => Rvole.GadgetSum(G, z, 1, 0));

        // signing: u_i and w_i from r_i, φ_i, sk_i and the shares (public x(R), H(m))
        var xPub = G.RandomScalar();
        var ePub = G.RandomScalar();
        var fixedShare = Flat(6);
        yield return P("ecdsa signature share (u_i, w_i)", () => fixedShare.ToArray(), () => Flat(6),
            s => EcdsaSigner.ShareValues(s[0], s[1], s[2], s[3], s[4], s[5], xPub, ePub).W, 4);
    }
}
