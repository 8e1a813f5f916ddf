using System.Security.Cryptography;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// KOS15 random-OT extension (Keller, Orsini, Scholl, "Actively Secure OT Extension with Optimal Overhead", CRYPTO
/// 2015, eprint 2015/546, Protocol 9 with its correlation check) of m' = <see cref="OtParams.ExtendedRows"/> rows from κ
/// base OTs: the part every use shares. The multiplication (<see cref="Rvole"/>) hashes the rows into scalars; the
/// pairwise setup (<see cref="EcdsaSetup"/>) hashes its first κ rows into the base OTs of the other direction.
/// The receiver of the extension holds both seeds of every base OT and picks the m' choice bits x; the sender holds
/// Δ (its base-OT choices) and the chosen seeds, and gets q_j = t_j ⊕ x_j·Δ after the check.
/// </summary>
internal static class OtExtension
{
    /// <summary>
    /// The receiver's side: expands both seeds of each base OT under <paramref name="ctx"/>, u_i = G(k_i^0) ⊕ G(k_i^1) ⊕ x,
    /// transposes the t matrix into rows t_j and makes the KOS check values x̃ = Σ x_j·χ_j and t̃ = Σ t_j·χ_j (the last
    /// κ + s rows are padding that hides x in them). Constant time in the secret bits x.
    /// </summary>
    public static (Gf128[] Rows, KosMessage Message) ExtendAsReceiver(ReadOnlySpan<byte> seeds0, ReadOnlySpan<byte> seeds1, byte[] ctx, byte[] x, byte[] nonce)
    {
        if (x.Length != OtParams.ColumnBytes) throw new ArgumentException($"the extension's choice bits are {OtParams.ColumnBytes} bytes");
        var t0 = new byte[OtParams.Kappa][];
        var u = new byte[OtParams.Kappa * OtParams.ColumnBytes];
        var t1 = new byte[OtParams.ColumnBytes];
        for (int i = 0; i < OtParams.Kappa; i++)
        {
            t0[i] = new byte[OtParams.ColumnBytes];
            OtHash.Expand("kos/prg", seeds0.Slice(i * OtParams.SeedLength, OtParams.SeedLength), ctx, t0[i]);
            OtHash.Expand("kos/prg", seeds1.Slice(i * OtParams.SeedLength, OtParams.SeedLength), ctx, t1);
            var ui = u.AsSpan(i * OtParams.ColumnBytes, OtParams.ColumnBytes);
            for (int k = 0; k < ui.Length; k++) ui[k] = (byte)(t0[i][k] ^ t1[k] ^ x[k]);
        }
        CryptographicOperations.ZeroMemory(t1);
        var rows = Rvole.Transpose(t0);
        foreach (var c in t0) CryptographicOperations.ZeroMemory(c);
        var chi = Rvole.CheckChallenges(ctx, u);
        var (xt, tt) = Rvole.KosCheckValues(x, rows, chi);
        var xb = new byte[16];
        var tb = new byte[16];
        xt.Write(xb);
        tt.Write(tb);
        return (rows, new KosMessage(nonce, u, xb, tb));
    }

    /// <summary>
    /// The sender's side: q_i = G(k_i^{Δ_i}) ⊕ Δ_i·u_i, transposed into rows q_j, and KOS's correlation check
    /// Σ q_j·χ_j = t̃ ⊕ x̃·Δ. A failed check throws <see cref="Fault.InvalidProof"/> naming the receiver
    /// (<paramref name="receiver"/>): its columns are not consistent with one choice vector.
    /// </summary>
    public static Gf128[] ExtendAsSender(ReadOnlySpan<byte> chosenSeeds, byte[] deltaBits, Gf128 delta, byte[] ctx, KosMessage kos, Identifier receiver)
    {
        if (kos.Columns.Length != OtParams.Kappa * OtParams.ColumnBytes || kos.XCheck.Length != 16 || kos.TCheck.Length != 16)
            throw new ProtocolException(Fault.MalformedMessage, $"OT extension from {receiver} has the wrong size", receiver);
        var cols = new byte[OtParams.Kappa][];
        for (int i = 0; i < OtParams.Kappa; i++)
        {
            var c = new byte[OtParams.ColumnBytes];
            OtHash.Expand("kos/prg", chosenSeeds.Slice(i * OtParams.SeedLength, OtParams.SeedLength), ctx, c);
            byte mask = (byte)(0 - deltaBits[i]);
            var u = kos.Columns.AsSpan(i * OtParams.ColumnBytes, OtParams.ColumnBytes);
            for (int k = 0; k < c.Length; k++) c[k] ^= (byte)(u[k] & mask);
            cols[i] = c;
        }
        var q = Rvole.Transpose(cols);
        foreach (var c in cols) CryptographicOperations.ZeroMemory(c);
        var chi = Rvole.CheckChallenges(ctx, kos.Columns);
        var qt = Gf128.InnerProduct(q, chi);
        var expect = Gf128.Read(kos.TCheck) ^ Gf128.Multiply(Gf128.Read(kos.XCheck), delta);
        if (qt != expect)
        {
            Array.Clear(q);
            throw new ProtocolException(Fault.InvalidProof, $"OT extension consistency check failed: member {receiver}'s KOS extension is not consistent", receiver);
        }
        return q;
    }
}
