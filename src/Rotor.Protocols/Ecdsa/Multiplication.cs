using System.Buffers.Binary;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// Bob's first message of one random-VOLE multiplication: a KOS15 random-OT extension (receiver side) of
/// m' = ξ + κ + s rows, with its consistency-check values. <see cref="BobNonce"/> is Bob's fresh randomness:
/// it keys the PRG expansion of the base-OT seeds, so no two extensions ever reuse pads.
/// </summary>
internal sealed record KosMessage(byte[] BobNonce, byte[] Columns, byte[] XCheck, byte[] TCheck)
{
    public const int NonceLength = 32;
    public static int Length => NonceLength + OtParams.Kappa * OtParams.ColumnBytes + 32;
}

/// <summary>Alice's reply: her nonce, the correlation corrections τ_j (ξ × 2ℓ scalars), the check values r_j (ξ) and u (ℓ).</summary>
internal sealed record RvoleMessage(byte[] AliceNonce, Scalar[] Tau, Scalar[] R, Scalar[] U)
{
    public const int NonceLength = 32;
    public static int ScalarCount => OtParams.Xi * 2 * OtParams.Ell + OtParams.Xi + OtParams.Ell;
}

/// <summary>
/// Two-party random vector OLE from OT (DKLs23's F_RVOLE, Functionality 3.5, built on DKLs19's multiplication): Bob's input χ is
/// random, encoded as ⟨g, β⟩ over ξ random choice bits β with the public gadget g (powers of two, then 2s
/// random elements); Alice multiplies her vector a ∈ Z_q^ℓ by it. Outputs c (Alice) and d (Bob) with
/// c + d = χ·a. Two messages: Bob → Alice (<see cref="KosMessage"/>), Alice → Bob (<see cref="RvoleMessage"/>).
/// Checks: Alice verifies the KOS correlation check (a cheating Bob is blamed); Bob verifies DKLs19's
/// multiplication check over the random challenge (χ̃, χ̂) against u and r (a cheating Alice is blamed).
/// </summary>
internal static class Rvole
{
    private static readonly Lazy<Scalar[]> gadget = new(() =>
    {
        var g = Crypto.Groups.Secp256k1.Secp256k1Group.Instance;
        var v = new Scalar[OtParams.Xi];
        var p = g.One;
        for (int j = 0; j < 256; j++) { v[j] = p; p += p; }
        for (int j = 256; j < OtParams.Xi; j++) v[j] = g.ReduceWide(OtHash.Hash("gadget", BitConverter.GetBytes(j)));
        return v;
    });

    /// <summary>The public gadget vector g (secp256k1).</summary>
    public static Scalar[] Gadget => gadget.Value;

    private static readonly Lazy<ScalarFactor[]> gadgetFactors = new(() => gadget.Value.Select(v => v.Group.Prepare(v)).ToArray());

    /// <summary>The context of one multiplication: session, pair material, direction and Bob's nonce.</summary>
    internal static byte[] Context(byte[] session, EcdsaPairMaterial material, Identifier alice, Identifier bob, byte[] bobNonce) =>
        OtHash.Hash("rvole/ctx", session, material.PairId, alice.ToBytes(), bob.ToBytes(), bobNonce);

    /// <summary>
    /// The rows of the κ × m' extension matrix given by its columns (bit j of column i, least significant bit of
    /// byte j/8 first, is bit i of row j): 64 × 64 bit blocks transposed with word operations (six rounds of masked
    /// swaps), the same work whatever the bits.
    /// </summary>
    internal static Gf128[] Transpose(byte[][] columns)
    {
        const int rows = OtParams.ExtendedRows;
        const int blocks = (rows + 63) / 64;
        var result = new Gf128[rows];
        var lo = new ulong[rows];
        var hi = new ulong[rows];
        Span<ulong> m = stackalloc ulong[64];
        Span<byte> word = stackalloc byte[8];
        for (int half = 0; half < 2; half++)
        {
            var dest = half == 0 ? lo : hi;
            for (int rb = 0; rb < blocks; rb++)
            {
                int from = rb * 8, take = Math.Min(8, OtParams.ColumnBytes - from);
                for (int i = 0; i < 64; i++)
                {
                    word.Clear();
                    columns[half * 64 + i].AsSpan(from, take).CopyTo(word);
                    m[i] = BinaryPrimitives.ReadUInt64LittleEndian(word);
                }
                Transpose64(m);
                for (int r = 0; r < 64 && rb * 64 + r < rows; r++) dest[rb * 64 + r] = m[r];
            }
        }
        m.Clear();
        for (int j = 0; j < rows; j++) result[j] = new Gf128(lo[j], hi[j]);
        Array.Clear(lo);
        Array.Clear(hi);
        return result;
    }

    /// <summary>In-place transpose of a 64 × 64 bit matrix: afterwards bit i of m[r] is what bit r of m[i] was.</summary>
    internal static void Transpose64(Span<ulong> m)
    {
        ulong mask = 0x00000000FFFFFFFFUL;
        for (int j = 32; j != 0; j >>= 1, mask ^= mask << j)
        {
            for (int k = 0; k < 64; k = ((k | j) + 1) & ~j)
            {
                ulong t = ((m[k] >> j) ^ m[k | j]) & mask;
                m[k] ^= t << j;
                m[k | j] ^= t;
            }
        }
    }

    /// <summary>Bob's KOS check values x̃ = Σ x_j·χ_j (masks on the secret bits x_j) and t̃ = Σ t_j·χ_j (carry-less products). Constant time.</summary>
    internal static (Gf128 X, Gf128 T) KosCheckValues(ReadOnlySpan<byte> x, ReadOnlySpan<Gf128> rows, ReadOnlySpan<Gf128> chi)
    {
        Gf128 xt = default;
        for (int j = 0; j < rows.Length; j++)
        {
            ulong bit = (ulong)((x[j >> 3] >> (j & 7)) & 1);
            xt ^= chi[j].Mask(bit);
        }
        return (xt, Gf128.InnerProduct(rows, chi));
    }

    /// <summary>One row of Alice's correction: τ_k = p1_k − p0_k + input_k (the inputs a, then â), z_k = p0_k. Constant time.</summary>
    internal static void AliceRow(ReadOnlySpan<Scalar> p0, ReadOnlySpan<Scalar> p1, ReadOnlySpan<Scalar> inputs, Span<Scalar> tau, Span<Scalar> z)
    {
        p0[0].Group.SubAdd(p1, p0, inputs, tau);
        p0.CopyTo(z);
    }

    /// <summary>
    /// One row of Bob's output and multiplication check: z_k = β·τ_k − p_k, and whether r + Σ challenge_k·z_k = β·Σu
    /// (0 when it holds, 1 when not). β·x is a masked select on the bit β (no multiplication, no branch); every other
    /// step is constant-time scalar arithmetic (the batch operations of <see cref="Group"/>).
    /// </summary>
    internal static int BobRow(ulong beta, ReadOnlySpan<Scalar> tau, ReadOnlySpan<Scalar> pb, Scalar r, ReadOnlySpan<ScalarFactor> challenges, Scalar usum, Span<Scalar> z)
    {
        var g = r.Group;
        g.SelectSub(beta, tau, pb, z);
        var acc = r + g.SumOfProducts(challenges, z);
        return acc == Scalar.Select(g.Zero, usum, beta) ? 0 : 1;
    }

    /// <summary>
    /// ⟨g, (v[k], v[w + k], v[2w + k], …)⟩: the first 256 gadget entries are the powers of two, summed by Horner's
    /// rule (a doubling and an addition each), the 2s random ones by multiplication. Constant time.
    /// </summary>
    internal static Scalar GadgetSum(Group g, ReadOnlySpan<Scalar> v, int stride, int offset) =>
        g.GadgetSum(v, stride, offset, 256, gadgetFactors.Value.AsSpan(256));

    internal static Gf128[] CheckChallenges(byte[] ctx, byte[] columns)
    {
        var bytes = new byte[OtParams.ExtendedRows * 16];
        OtHash.Expand("kos/chi", ctx, SHA512.HashData(columns), bytes);
        var chi = new Gf128[OtParams.ExtendedRows];
        for (int j = 0; j < chi.Length; j++) chi[j] = Gf128.Read(bytes.AsSpan(j * 16, 16));
        return chi;
    }

    /// <summary>The multiplication check's challenges (χ̃, χ̂) from the context and every τ (hashed as one string of their encodings).</summary>
    internal static (Scalar[] ChiTilde, Scalar[] ChiHat) MulChallenges(Group g, byte[] ctx2, Scalar[] tau)
    {
        var bytes = new byte[tau.Length * g.ScalarLength];
        for (int i = 0; i < tau.Length; i++) tau[i].WriteTo(bytes.AsSpan(i * g.ScalarLength, g.ScalarLength));
        using var t = new Crypto.Hashing.Transcript("rotor/ecdsa/rvole/check");
        t.Append("ctx", ctx2).Append("tau", bytes);
        var tilde = new Scalar[OtParams.Ell];
        var hat = new Scalar[OtParams.Ell];
        for (int k = 0; k < OtParams.Ell; k++)
        {
            tilde[k] = t.ChallengeScalar(g, "tilde" + k);
            hat[k] = t.ChallengeScalar(g, "hat" + k);
        }
        return (tilde, hat);
    }

    /// <summary>
    /// Alice's side: checks Bob's extension (blaming Bob), then answers with her inputs <paramref name="a"/>; returns
    /// her shares c. <paramref name="session"/> is what Bob's extension was bound to (a signing's presign digest);
    /// <paramref name="bind"/> is bound into the reply's row pads and check challenges as well (the signing's full
    /// digest, with its message), so that a reply belongs to one signing only.
    /// </summary>
    public static (Scalar[] C, RvoleMessage Message) Respond(EcdsaPairMaterial m, byte[] session, KosMessage kos, Scalar[] a, byte[] bind)
    {
        var g = a[0].Group;
        var bob = m.Peer;
        if (a.Length != OtParams.Ell) throw new ArgumentException($"Alice multiplies {OtParams.Ell} scalars");
        var ctx = Context(session, m, m.Me, bob, kos.BobNonce);
        var q = OtExtension.ExtendAsSender(m.SenderSeeds, m.DeltaBits, m.Delta, ctx, kos, bob);
        var deltaF = m.Delta;

        var aliceNonce = RandomNumberGenerator.GetBytes(RvoleMessage.NonceLength);
        var ctx2 = OtHash.Hash("rvole/ctx2", ctx, aliceNonce, bind);
        int w = 2 * OtParams.Ell;
        var ahat = new Scalar[OtParams.Ell];
        for (int k = 0; k < ahat.Length; k++) ahat[k] = g.RandomScalar();
        var tau = new Scalar[OtParams.Xi * w];
        var z = new Scalar[OtParams.Xi * w];
        Span<Scalar> p0 = new Scalar[w], p1 = new Scalar[w];
        var inputs = new Scalar[w];
        a.CopyTo(inputs, 0);
        ahat.CopyTo(inputs, OtParams.Ell);
        for (int j = 0; j < OtParams.Xi; j++)
        {
            OtHash.RowScalars(g, ctx2, j, q[j], p0);
            OtHash.RowScalars(g, ctx2, j, q[j] ^ deltaF, p1);
            AliceRow(p0, p1, inputs, tau.AsSpan(j * w, w), z.AsSpan(j * w, w));
        }
        Array.Clear(inputs);
        p0.Clear();
        p1.Clear();
        var (tilde, hat) = MulChallenges(g, ctx2, tau);
        var r = new Scalar[OtParams.Xi];
        // the check's factors in the order of a row's z: χ̃ for the inputs a, then χ̂ for â
        var factors = tilde.Concat(hat).Select(g.Prepare).ToArray();
        for (int j = 0; j < OtParams.Xi; j++) r[j] = g.SumOfProducts(factors, z.AsSpan(j * w, w));
        var uvec = new Scalar[OtParams.Ell];
        for (int k = 0; k < OtParams.Ell; k++) uvec[k] = tilde[k] * a[k] + hat[k] * ahat[k];
        var cOut = new Scalar[OtParams.Ell];
        for (int k = 0; k < OtParams.Ell; k++) cOut[k] = GadgetSum(g, z, w, k);
        Array.Clear(z);
        Array.Clear(q);
        return (cOut, new RvoleMessage(aliceNonce, tau, r, uvec));
    }
}

/// <summary>Bob's side of one random-VOLE multiplication: single use.</summary>
internal sealed class RvoleReceiver
{
    private readonly EcdsaPairMaterial material;
    private readonly byte[] ctx;
    private byte[]? choices;   // m' bits, the first ξ are β
    private Gf128[]? rows;     // t_j
    private Scalar chi;

    private RvoleReceiver(EcdsaPairMaterial material, byte[] ctx)
    {
        this.material = material;
        this.ctx = ctx;
    }

    /// <summary>Bob's random input χ = ⟨g, β⟩ (secret).</summary>
    public Scalar Chi => chi;

    /// <summary>Forgets everything secret (an aborted or finished signing).</summary>
    public void Wipe()
    {
        if (choices is not null) CryptographicOperations.ZeroMemory(choices);
        if (rows is not null) Array.Clear(rows);
        choices = null;
        rows = null;
        chi = default;
    }

    public static (RvoleReceiver Receiver, KosMessage Message) Start(EcdsaPairMaterial m, byte[] session, Group g)
    {
        var nonce = RandomNumberGenerator.GetBytes(KosMessage.NonceLength);
        var ctx = Rvole.Context(session, m, m.Peer, m.Me, nonce);
        var x = RandomNumberGenerator.GetBytes(OtParams.ColumnBytes);
        var (rows, kos) = OtExtension.ExtendAsReceiver(m.ReceiverSeeds0, m.ReceiverSeeds1, ctx, x, nonce);
        var bits = new Scalar[OtParams.Xi];
        for (int j = 0; j < OtParams.Xi; j++) bits[j] = g.ScalarFromUInt64((ulong)((x[j >> 3] >> (j & 7)) & 1));
        var chi = Rvole.GadgetSum(g, bits, 1, 0);
        Array.Clear(bits);
        var r = new RvoleReceiver(m, ctx) { choices = x, rows = rows, chi = chi };
        return (r, kos);
    }

    /// <summary>Checks Alice's reply (DKLs19 multiplication check, blaming Alice) and returns Bob's shares d with c + d = χ·a.</summary>
    public Scalar[] Finish(RvoleMessage msg, byte[] bind)
    {
        var x = choices ?? throw new ProtocolException(Fault.InvalidUsage, "this multiplication was already finished");
        var t = rows!;
        choices = null;
        rows = null;
        var g = chi.Group;
        var alice = material.Peer;
        if (msg.Tau.Length != OtParams.Xi * 2 * OtParams.Ell || msg.R.Length != OtParams.Xi || msg.U.Length != OtParams.Ell)
            throw new ProtocolException(Fault.MalformedMessage, $"multiplication message from {alice} has the wrong size", alice);
        var ctx2 = OtHash.Hash("rvole/ctx2", ctx, msg.AliceNonce, bind);
        int w = 2 * OtParams.Ell;
        var (tilde, hat) = Rvole.MulChallenges(g, ctx2, msg.Tau);
        var challenges = new ScalarFactor[w];
        for (int k = 0; k < w; k++) challenges[k] = g.Prepare(k < OtParams.Ell ? tilde[k] : hat[k - OtParams.Ell]);
        var usum = g.Zero;
        foreach (var uk in msg.U) usum += uk;
        var z = new Scalar[OtParams.Xi * w];
        Span<Scalar> pb = new Scalar[w];
        int bad = 0;
        for (int j = 0; j < OtParams.Xi; j++)
        {
            var beta = (ulong)((x[j >> 3] >> (j & 7)) & 1);
            OtHash.RowScalars(g, ctx2, j, t[j], pb);
            bad |= Rvole.BobRow(beta, msg.Tau.AsSpan(j * w, w), pb, msg.R[j], challenges, usum, z.AsSpan(j * w, w));
        }
        CryptographicOperations.ZeroMemory(x);
        Array.Clear(t);
        if (bad != 0)
            throw new ProtocolException(Fault.InvalidProof, $"multiplication consistency check failed: member {alice}'s OT-multiplication reply is not consistent", alice);
        var d = new Scalar[OtParams.Ell];
        for (int k = 0; k < OtParams.Ell; k++) d[k] = Rvole.GadgetSum(g, z, w, k);
        Array.Clear(z);
        return d;
    }
}
