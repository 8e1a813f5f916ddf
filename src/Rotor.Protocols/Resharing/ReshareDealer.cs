using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Resharing;

/// <summary>What a dealer sends in round 1: one broadcast commitment and one private sub-share per new member.</summary>
public sealed class ReshareDealing
{
    private readonly Dictionary<Identifier, ReshareSubShare> subShares;

    internal ReshareDealing(ReshareCommitment commitment, IReadOnlyList<ReshareSubShare> subShares)
    {
        Commitment = commitment;
        this.subShares = subShares.ToDictionary(s => s.Recipient);
        SubShares = subShares;
    }

    /// <summary>Broadcast to every new member.</summary>
    public ReshareCommitment Commitment { get; }

    /// <summary>One per new member, in the plan's member order; each goes privately to its recipient.</summary>
    public IReadOnlyList<ReshareSubShare> SubShares { get; }

    /// <summary>The sub-share addressed to the given new member.</summary>
    public ReshareSubShare For(Identifier recipient) =>
        subShares.TryGetValue(recipient, out var s) ? s : throw new ArgumentException($"{recipient} is not a new member of this reshare");

    public override string ToString() => $"ReshareDealing(dealer {Commitment.Dealer}, {SubShares.Count} sub-shares)";
}

/// <summary>
/// The old member's side of a reshare (round 1). A dealer i weights its share by its Lagrange coefficient over
/// the dealer set, z_i = λ_i·s_i, and deals z_i to the new members with a fresh random polynomial f_i of degree
/// t'−1 (f_i(0) = z_i) and its Feldman commitment, whose constant term is then λ_i·Y_i. The old share is only
/// read; the caller deletes it once the new epoch is committed.
/// </summary>
public static class ReshareDealer
{
    /// <summary>
    /// Deals this member's share for the plan. Refuses a share of another key, scheme or epoch
    /// (<see cref="Fault.StaleShare"/> naming the member), of another public package than the plan's, or of a
    /// member that is not a dealer (<see cref="Fault.InvalidUsage"/>).
    /// </summary>
    public static ReshareDealing Deal(ResharePlan plan, KeyShare share)
    {
        CheckShare(plan, share);
        var poly = DealingPolynomial(plan.Weight(share.Identifier), share.SigningShare, plan.NewThreshold);
        // C_i0 = z_i·G = λ_i·Y_i: the share's own check (s_i·G = Y_i) makes the public product equal to the secret
        // one, and it is a short multiplication where λ_i is a small integer (dealers 1..t) instead of a k·G.
        var constantTerm = share.VerifyingShare * plan.Weight(share.Identifier);
        var commitment = new ReshareCommitment(plan.Digest, share.Identifier, poly.Commit(constantTerm));
        var subShares = plan.NewMembers.Select(j => new ReshareSubShare(plan.Digest, share.Identifier, j, poly.Evaluate(j))).ToArray();
        return new ReshareDealing(commitment, subShares);
    }

    /// <summary>f_i: a uniformly random polynomial of degree t'−1 with f_i(0) = λ_i·s_i.</summary>
    internal static Polynomial DealingPolynomial(Scalar weight, Scalar signingShare, int newThreshold) =>
        Polynomial.Random(weight * signingShare, newThreshold - 1);

    private static void CheckShare(ResharePlan plan, KeyShare share)
    {
        var id = share.Identifier;
        if (share.KeyId != plan.KeyId || share.Scheme != plan.Scheme || share.Epoch != plan.Current.Epoch)
            throw new ProtocolException(Fault.StaleShare,
                $"member {id}'s share is of key {share.KeyId} ({share.Scheme.Name()}) epoch {share.Epoch}, but the reshare is of key {plan.KeyId} ({plan.Scheme.Name()}) epoch {plan.Current.Epoch}", id);
        if (!plan.IsDealer(id))
            throw new ProtocolException(Fault.InvalidUsage, $"member {id} is not a dealer of {plan}");
        if (!SamePackage(share.Public, plan.Current))
            throw new ProtocolException(Fault.InvalidUsage, $"member {id}'s share is of another public package than the plan's for key {plan.KeyId} epoch {plan.Current.Epoch}");
    }

    private static bool SamePackage(PublicKeyPackage a, PublicKeyPackage b) => a.SameAs(b);
}
