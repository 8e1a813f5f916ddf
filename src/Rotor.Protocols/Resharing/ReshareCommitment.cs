using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// A dealer's round-1 broadcast, validated: the Feldman commitment (C_i0 … C_i,t'−1) to the polynomial it
/// deals to the new members, for one reshare plan. C_i0 must equal λ_i·Y_i. Public; sent to every new member.
/// </summary>
public sealed class ReshareCommitment
{
    internal ReshareCommitment(byte[] planDigest, Identifier dealer, FeldmanCommitment commitment)
    {
        PlanDigest = planDigest;
        Dealer = dealer;
        Commitment = commitment;
    }

    /// <summary><see cref="ResharePlan.Digest"/> of the plan this belongs to.</summary>
    public byte[] PlanDigest { get; }

    public Identifier Dealer { get; }

    public FeldmanCommitment Commitment { get; }

    /// <summary>type 0x11 | plan digest (64) | dealer (scalar) | count (u16 BE) | count elements.</summary>
    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.ReshareCommitment, PlanDigest, Dealer).Count(Commitment.Threshold);
        foreach (var c in Commitment.Coefficients) w.Element(c);
        return w.ToArray();
    }

    /// <summary>
    /// Decodes strictly (exact length, canonical scalar, every element valid and not the identity). A bad
    /// message is refused with <see cref="Fault.MalformedMessage"/>, naming the dealer once its identifier has decoded.
    /// </summary>
    /// <param name="threshold">The new threshold when known: the coefficient count is checked against it before any point is decoded.</param>
    public static ReshareCommitment Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null, int? threshold = null)
    {
        var r = new WireReader(scheme.Group(), "reshare commitment", WireType.ReshareCommitment, message, from);
        int n = r.Count("coefficient count", r.ElementLength, threshold);
        if (n == 0) throw r.Malformed("no coefficients");
        var cs = new Crypto.Groups.Element[n];
        for (int k = 0; k < n; k++) cs[k] = r.Element($"coefficient {k}");
        r.End();
        return new ReshareCommitment(r.Digest, r.Sender, new FeldmanCommitment(cs));
    }

    public override string ToString() => $"ReshareCommitment(dealer {Dealer}, {Commitment.Threshold} coefficients)";
}
