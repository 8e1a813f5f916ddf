using System.Security.Cryptography;
using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Sharing;

/// <summary>
/// Batch verification of Feldman shares, s_k·G = C_k(x_k), and of public equalities P_k = Q_k, with one
/// multi-scalar multiplication: Σ r_k·(s_k·G − C_k(x_k)) + Σ r'_k·(P_k − Q_k) = O with independent random
/// 128-bit coefficients r. A false claim passes with probability at most 2^-128. The secret part Σ r_k·s_k is
/// multiplied by G in constant time; only public points enter the variable-time MSM.
/// When the batch fails, <see cref="Verify"/> checks each item on its own to name every bad one.
/// </summary>
/// <typeparam name="TTag">What identifies an item's author (for blame), e.g. a dealer's identifier.</typeparam>
public sealed class FeldmanBatch<TTag>
{
    private readonly Group group;
    private readonly List<Item> items = [];

    public FeldmanBatch(Group group) => this.group = group;

    public int Count => items.Count;

    /// <summary>Queues the check share·G = commitment(x).</summary>
    public void AddShare(TTag tag, FeldmanCommitment commitment, Scalar x, Scalar share)
    {
        if (!ReferenceEquals(commitment.Group, group)) throw new ArgumentException("commitment of another group");
        items.Add(new Item(tag, commitment, x, share, null, null));
    }

    /// <summary>Queues the check left = right for public elements.</summary>
    public void AddEquality(TTag tag, Element left, Element right) => AddEquality(tag, left, group.One, right);

    /// <summary>Queues the check left = factor·right for public elements and a public factor (the product enters the one MSM, so it costs no separate multiplication).</summary>
    public void AddEquality(TTag tag, Element left, Scalar factor, Element right) =>
        items.Add(new Item(tag, null, factor, default, left, right));

    /// <summary>Tags of the items that fail (empty when all hold). One MSM when all hold.</summary>
    public IReadOnlyList<TTag> Verify()
    {
        if (items.Count == 0) return [];
        if (BatchHolds()) return [];
        var bad = new List<TTag>();
        foreach (var it in items)
            if (!ItemHolds(it) && !bad.Contains(it.Tag)) bad.Add(it.Tag);
        if (bad.Count == 0) throw new InvalidOperationException("batch check failed but every item holds");
        return bad;
    }

    private bool BatchHolds()
    {
        var scalars = new List<Scalar>();
        var points = new List<Element>();
        var secretSum = group.Zero;
        Span<byte> rb = stackalloc byte[16];
        foreach (var it in items)
        {
            RandomNumberGenerator.Fill(rb);
            var r = group.ReduceWide(rb);
            if (it.Commitment is { } c)
            {
                secretSum += r * it.Share;
                // − r·Σ_j x^j·C_j
                var coef = -r;
                foreach (var cj in c.Coefficients)
                {
                    scalars.Add(coef);
                    points.Add(cj);
                    coef *= it.X;
                }
            }
            else
            {
                scalars.Add(r);
                points.Add(it.Left!);
                scalars.Add(-(r * it.X));
                points.Add(it.Right!);
            }
        }
        scalars.Add(group.One);
        points.Add(group.MulBase(secretSum));
        return group.MultiMulVartime(scalars.ToArray(), points.ToArray()).IsIdentity;
    }

    private static bool ItemHolds(Item it) =>
        it.Commitment is { } c ? c.Verify(Identifier.FromScalar(it.X), it.Share) : it.Left!.Equals(it.Right! * it.X);

    /// <summary>A share check (Commitment, X, Share) or an equality Left = X·Right.</summary>
    private sealed record Item(TTag Tag, FeldmanCommitment? Commitment, Scalar X, Scalar Share, Element? Left, Element? Right);
}
