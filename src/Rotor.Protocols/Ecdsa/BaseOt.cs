using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// The base-OT sender's side of κ parallel Verified Simplest OTs (DKLs18's "VSOT": Chou–Orlandi
/// simplest OT with a proof of knowledge of the sender's secret and the challenge–response verification).
/// Messages: (1) S→R: A = a·G and a Schnorr proof of a; (2) R→S: B_i = b_i·G + ω_i·A; (3) S→R: challenges
/// ξ_i = H(h0_i) ⊕ H(h1_i) where h_k = H(ρ_k) and ρ0_i = H(a·B_i), ρ1_i = H(a·(B_i − A));
/// (4) R→S: responses H(h_ω) ⊕ ω·ξ_i, which the sender checks against H(h0_i); (5) S→R: openings (h0_i, h1_i),
/// which the receiver checks against its own key and the challenge. Every failure blames the counterparty.
/// </summary>
internal sealed class BaseOtSender
{
    private readonly Group group;
    private readonly byte[] sid;
    private readonly Identifier peer;
    private Scalar a;
    private byte[][]? rho0, rho1, h0, h1;

    public BaseOtSender(Group group, byte[] sid, Identifier peer)
    {
        this.group = group;
        this.sid = sid;
        this.peer = peer;
        a = group.RandomScalar();
        A = group.MulBase(a);
        var k = group.RandomScalar();
        var kG = group.MulBase(k);
        var c = Challenge(group, sid, A, kG);
        Proof = (kG, k + c * a);
    }

    public Element A { get; }

    public (Element Commitment, Scalar Response) Proof { get; }

    internal static Scalar Challenge(Group group, byte[] sid, Element a, Element commitment) =>
        group.ReduceWide(OtHash.Hash("vsot/pok", sid, a.ToBytes(), commitment.ToBytes()));

    /// <summary>Step 3: the challenges for the receiver's B_i.</summary>
    public byte[][] Challenges(IReadOnlyList<Element> b)
    {
        if (b.Count != OtParams.Kappa)
            throw new ProtocolException(Fault.MalformedMessage, $"base OT: {b.Count} receiver points from {peer}, expected {OtParams.Kappa}", peer);
        // a·A = a²·G: the fixed-base multiplication, cheaper than a variable-base one
        var aA = group.MulBase(a * a);
        rho0 = new byte[OtParams.Kappa][];
        rho1 = new byte[OtParams.Kappa][];
        h0 = new byte[OtParams.Kappa][];
        h1 = new byte[OtParams.Kappa][];
        var xi = new byte[OtParams.Kappa][];
        var aBs = group.MulMany(b.ToArray(), a);
        for (int i = 0; i < OtParams.Kappa; i++)
        {
            var aB = aBs[i];
            rho0[i] = Key(sid, i, aB);
            rho1[i] = Key(sid, i, aB - aA);
            h0[i] = H1(sid, i, rho0[i]);
            h1[i] = H1(sid, i, rho1[i]);
            xi[i] = Xor(H2(sid, i, h0[i]), H2(sid, i, h1[i]));
        }
        a = group.Zero;
        return xi;
    }

    /// <summary>Step 5: checks the receiver's responses (blaming it) and returns the openings and both seeds of every OT.</summary>
    public (byte[][] Open0, byte[][] Open1, byte[][] Seeds0, byte[][] Seeds1) Verify(IReadOnlyList<byte[]> responses)
    {
        if (rho0 is null) throw new ProtocolException(Fault.InvalidUsage, "base OT: responses before challenges");
        if (responses.Count != OtParams.Kappa)
            throw new ProtocolException(Fault.MalformedMessage, $"base OT: {responses.Count} responses from {peer}, expected {OtParams.Kappa}", peer);
        int bad = 0;
        for (int i = 0; i < OtParams.Kappa; i++)
            bad |= CryptographicOperations.FixedTimeEquals(responses[i], H2(sid, i, h0![i])) ? 0 : 1;
        if (bad != 0)
            throw new ProtocolException(Fault.InvalidProof, $"base OT verification failed: member {peer}'s responses to the VSOT challenges are wrong", peer);
        return (h0!, h1!, rho0, rho1!);
    }

    internal static byte[] Key(byte[] sid, int i, Element p) => OtHash.Hash("vsot/key", sid, BitConverter.GetBytes(i), p.ToBytes());
    internal static byte[] H1(byte[] sid, int i, byte[] rho) => OtHash.Hash("vsot/h1", sid, BitConverter.GetBytes(i), rho)[..32];
    internal static byte[] H2(byte[] sid, int i, byte[] h) => OtHash.Hash("vsot/h2", sid, BitConverter.GetBytes(i), h)[..32];

    internal static byte[] Xor(byte[] x, byte[] y)
    {
        var r = new byte[x.Length];
        for (int i = 0; i < r.Length; i++) r[i] = (byte)(x[i] ^ y[i]);
        return r;
    }
}

/// <summary>The base-OT receiver's side of κ parallel VSOTs with choice bits ω (the OT-extension sender's Δ).</summary>
internal sealed class BaseOtReceiver
{
    private readonly Group group;
    private readonly byte[] sid;
    private readonly Identifier peer;
    private readonly byte[] choices; // one byte (0/1) per OT
    private byte[][]? rho;
    private byte[][]? challenges;

    public BaseOtReceiver(Group group, byte[] sid, Identifier peer, byte[] choices)
    {
        if (choices.Length != OtParams.Kappa) throw new ArgumentException("one choice per base OT");
        this.group = group;
        this.sid = sid;
        this.peer = peer;
        this.choices = choices;
    }

    /// <summary>
    /// Step 2: verifies the sender's proof of knowledge of a (blaming it) and returns the encodings of the B_i
    /// (b_i·G or b_i·G + A, chosen by a mask over the two encodings, not by a branch on the choice bit).
    /// </summary>
    public byte[][] Choose(Element a, (Element Commitment, Scalar Response) proof)
    {
        var c = BaseOtSender.Challenge(group, sid, a, proof.Commitment);
        // public values only: the variable-time multi-multiplication
        if (!group.MultiMulVartime([proof.Response, -c], [group.Generator, a]).Equals(proof.Commitment))
            throw new ProtocolException(Fault.InvalidProof, $"base OT verification failed: member {peer}'s proof of knowledge of its VSOT secret does not verify", peer);
        var bs = new Scalar[OtParams.Kappa];
        for (int i = 0; i < bs.Length; i++) bs[i] = group.RandomScalar();
        var p0s = group.MulBaseMany(bs);   // b_i·G
        var keys = group.MulMany(a, bs);   // b_i·A, one table for A
        Array.Clear(bs);
        // b_i·G + A: b_i·G is no secret once B_i is sent (B_i or B_i − A), only which of the two is sent is
        var p1s = new Element[OtParams.Kappa];
        for (int i = 0; i < p1s.Length; i++) p1s[i] = p0s[i] + a;
        group.EncodeMany(p1s);
        var b = new byte[OtParams.Kappa][];
        rho = new byte[OtParams.Kappa][];
        for (int i = 0; i < OtParams.Kappa; i++)
        {
            var e = new byte[group.ElementLength];
            SelectByChoice(p0s[i].Encoding, p1s[i].Encoding, choices[i], e);
            b[i] = e;
            rho[i] = BaseOtSender.Key(sid, i, keys[i]);
        }
        return b;
    }

    /// <summary>dest = choice ? enc1 : enc0, by a mask over the bytes (choice is 0 or 1).</summary>
    internal static void SelectByChoice(ReadOnlySpan<byte> enc0, ReadOnlySpan<byte> enc1, byte choice, Span<byte> dest)
    {
        byte mask = (byte)(0 - choice);
        for (int k = 0; k < dest.Length; k++) dest[k] = (byte)((enc0[k] & ~mask) | (enc1[k] & mask));
    }

    /// <summary>One response H2(H1(ρ_ω)) ⊕ ω·ξ (ω is 0 or 1, applied by a mask).</summary>
    internal static byte[] Response(byte[] sid, int i, byte[] rho, byte[] xi, byte choice)
    {
        var hw = BaseOtSender.H2(sid, i, BaseOtSender.H1(sid, i, rho));
        byte mask = (byte)(0 - choice);
        var r = new byte[32];
        for (int k = 0; k < 32; k++) r[k] = (byte)(hw[k] ^ (xi[k] & mask));
        return r;
    }

    /// <summary>Step 4: the responses H(h_ω) ⊕ ω·ξ_i to the sender's challenges.</summary>
    public byte[][] Respond(IReadOnlyList<byte[]> xi)
    {
        if (rho is null) throw new ProtocolException(Fault.InvalidUsage, "base OT: challenges before choices");
        if (xi.Count != OtParams.Kappa || xi.Any(x => x.Length != 32))
            throw new ProtocolException(Fault.MalformedMessage, $"base OT: malformed challenges from {peer}", peer);
        challenges = xi.ToArray();
        var r = new byte[OtParams.Kappa][];
        for (int i = 0; i < OtParams.Kappa; i++) r[i] = Response(sid, i, rho[i], xi[i], choices[i]);
        return r;
    }

    /// <summary>Step 5 checked: each opening h_ω must be the hash of this receiver's key, and the two openings must explain the challenge; else the sender is blamed. Returns the chosen seeds ρ_ω.</summary>
    public byte[][] Finish(IReadOnlyList<byte[]> open0, IReadOnlyList<byte[]> open1)
    {
        if (rho is null || challenges is null) throw new ProtocolException(Fault.InvalidUsage, "base OT: openings before responses");
        if (open0.Count != OtParams.Kappa || open1.Count != OtParams.Kappa || open0.Concat(open1).Any(x => x.Length != 32))
            throw new ProtocolException(Fault.MalformedMessage, $"base OT: malformed openings from {peer}", peer);
        int bad = 0;
        Span<byte> chosen = stackalloc byte[32];
        for (int i = 0; i < OtParams.Kappa; i++)
        {
            byte mask = (byte)(0 - choices[i]);
            for (int k = 0; k < 32; k++) chosen[k] = (byte)((open0[i][k] & ~mask) | (open1[i][k] & mask));
            bad |= CryptographicOperations.FixedTimeEquals(chosen, BaseOtSender.H1(sid, i, rho[i])) ? 0 : 1;
            var expect = BaseOtSender.Xor(BaseOtSender.H2(sid, i, open0[i]), BaseOtSender.H2(sid, i, open1[i]));
            bad |= CryptographicOperations.FixedTimeEquals(expect, challenges[i]) ? 0 : 1;
        }
        if (bad != 0)
            throw new ProtocolException(Fault.InvalidProof, $"base OT verification failed: member {peer}'s VSOT openings do not match its challenges", peer);
        return rho;
    }
}
