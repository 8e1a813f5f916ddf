using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Dkg;

/// <summary>
/// A Schnorr proof that a dealer knows the discrete logarithm a₀ of its committed constant term C₀ = a₀·G
/// (FROST KeyGen, round 1, step 2): R = k·G, μ = k + a₀·c with c = HDKG(id ‖ C₀ ‖ R), the ciphersuite's
/// encodings of the dealer's identifier, C₀ and R — the ZcashFoundation frost challenge. It stops a dealer
/// from choosing C₀ as a function of the others' (rogue-key attack). Public. Encoded as R ‖ μ.
/// </summary>
public sealed class ProofOfKnowledge
{
    internal ProofOfKnowledge(Element r, Scalar mu)
    {
        if (!ReferenceEquals(r.Group, mu.Group)) throw new ArgumentException("R and μ of different groups");
        R = r;
        Mu = mu;
    }

    /// <summary>The prover's nonce commitment R = k·G.</summary>
    public Element R { get; }

    /// <summary>The response μ = k + a₀·c.</summary>
    public Scalar Mu { get; }

    public Group Group => R.Group;

    /// <summary>Bytes of an encoded proof: Ne + Ns.</summary>
    public static int Length(Group group) => group.ElementLength + group.ScalarLength;

    public void WriteTo(Span<byte> destination)
    {
        R.Encoding.CopyTo(destination);
        Mu.WriteTo(destination.Slice(Group.ElementLength, Group.ScalarLength));
    }

    public byte[] ToBytes()
    {
        var b = new byte[Length(Group)];
        WriteTo(b);
        return b;
    }

    /// <summary>c = HDKG(id ‖ C₀ ‖ R).</summary>
    internal static Scalar Challenge(Ciphersuite suite, Identifier dealer, Element constantTerm, Element r)
    {
        var g = suite.Group;
        var pre = new byte[g.ScalarLength + 2 * g.ElementLength];
        dealer.Scalar.WriteTo(pre.AsSpan(0, g.ScalarLength));
        constantTerm.Encoding.CopyTo(pre.AsSpan(g.ScalarLength));
        r.Encoding.CopyTo(pre.AsSpan(g.ScalarLength + g.ElementLength));
        return suite.HDkg(pre);
    }

    /// <summary>Proves knowledge of <paramref name="secret"/> = log C₀ with the nonce <paramref name="nonce"/> (both secret, used once).</summary>
    internal static ProofOfKnowledge Prove(Ciphersuite suite, Identifier dealer, Scalar secret, Element constantTerm, Scalar nonce)
    {
        var r = suite.Group.MulBase(nonce);
        return new ProofOfKnowledge(r, nonce + secret * Challenge(suite, dealer, constantTerm, r));
    }

    /// <summary>
    /// Queues the check μ·G = R + c·C₀ in a batch. It is the Feldman check of the degree-1 polynomial k + a₀·X at
    /// X = c against the commitment (R, C₀), so proofs and shares share one verifier.
    /// </summary>
    internal void AddTo(FeldmanBatch<Identifier> batch, Ciphersuite suite, Identifier dealer, Element constantTerm) =>
        batch.AddPublicShare(dealer, new FeldmanCommitment([R, constantTerm]), Challenge(suite, dealer, constantTerm, R), Mu);

    public override string ToString() => $"ProofOfKnowledge({R.ToHex()})";
}
