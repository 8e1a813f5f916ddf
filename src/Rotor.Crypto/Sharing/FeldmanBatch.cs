using System.Security.Cryptography;
using Rotor.Crypto.Groups;

namespace Rotor.Crypto.Sharing;

/// <summary>
/// Batch verification of Feldman shares, s_k·G = C_k(x_k), and of public equalities P_k = Q_k, with one
/// multi-scalar multiplication: Σ r_k·(s_k·G − C_k(x_k)) + Σ r'_k·(P_k − Q_k) = O with independent random
/// 128-bit coefficients r. A false claim passes with probability at most 2^-128. The secret part Σ r_k·s_k is
/// multiplied by G in constant time; only public points enter the variable-time MSM (one, or from Pippenger's
/// sizes on two: one for short scalars, one for long ones).
/// When the batch fails, <see cref="Verify"/> checks each item on its own to name every bad one. A few items with
/// short multipliers are checked one by one from the start, which is exact and cheaper.
/// </summary>
/// <typeparam name="TTag">What identifies an item's author (for blame), e.g. a dealer's identifier.</typeparam>
public sealed class FeldmanBatch<TTag>
{
    private readonly Group group;
    private readonly List<Item> items = [];

    public FeldmanBatch(Group group) => this.group = group;

    public int Count => items.Count;

    /// <summary>Queues the check share·G = commitment(x) for a secret share (multiplied by G in constant time).</summary>
    public void AddShare(TTag tag, FeldmanCommitment commitment, Scalar x, Scalar share) => AddShare(tag, commitment, x, share, secret: true);

    /// <summary>
    /// Queues the check value·G = commitment(x) for a public value, such as a proof of knowledge's response: it
    /// joins the variable-time multi-scalar multiplication as a term on G instead of a constant-time k·G.
    /// </summary>
    public void AddPublicShare(TTag tag, FeldmanCommitment commitment, Scalar x, Scalar value) => AddShare(tag, commitment, x, value, secret: false);

    private void AddShare(TTag tag, FeldmanCommitment commitment, Scalar x, Scalar share, bool secret)
    {
        if (!ReferenceEquals(commitment.Group, group)) throw new ArgumentException("commitment of another group");
        items.Add(new Item(tag, commitment, x, share, null, null, secret));
    }

    /// <summary>Queues the check left = right for public elements.</summary>
    public void AddEquality(TTag tag, Element left, Element right) => AddEquality(tag, left, group.One, right);

    /// <summary>Queues the check left = factor·right for public elements and a public factor (the product enters the one MSM, so it costs no separate multiplication).</summary>
    public void AddEquality(TTag tag, Element left, Scalar factor, Element right) =>
        items.Add(new Item(tag, null, factor, default, left, right, false));

    /// <summary>
    /// Tags of the items that fail (empty when all hold). One MSM when all hold, or, when that is cheaper, each
    /// item on its own (see <see cref="CheaperOneByOne"/>).
    /// </summary>
    public IReadOnlyList<TTag> Verify()
    {
        if (items.Count == 0) return [];
        bool oneByOne = CheaperOneByOne();
        if (!oneByOne && BatchHolds()) return [];
        var bad = new List<TTag>();
        foreach (var it in items)
            if (!ItemHolds(it) && !bad.Contains(it.Tag)) bad.Add(it.Tag);
        if (bad.Count == 0 && !oneByOne) throw new InvalidOperationException("batch check failed but every item holds");
        return bad;
    }

    /// <summary>
    /// Every random coefficient of the batch is 128 bits long, so the batch costs at least 128 doublings besides
    /// its k·G. A single share check at a short x (an identifier, evaluated by Horner's rule) with equalities whose
    /// factors are short (such as the integer Lagrange weights of dealers 1..t) costs much less checked exactly,
    /// item by item: the one k·G and a few short multiplications.
    /// </summary>
    private bool CheaperOneByOne()
    {
        const int shortMultiplier = 64;
        int shares = 0;
        foreach (var it in items)
        {
            if (it.Commitment is not null) shares++;
            if (shares > 1 || ShortestBitLength(it.X) > shortMultiplier) return false;
        }
        return true;
    }

    /// <summary>
    /// Σ r_k·C_k(x_k) + Σ r'_k·(P_k − f_k·Q_k) = (Σ r_k·s_k)·G, the left side as multi-scalar multiplications; the
    /// public values' part of the right side joins them as a term on G, the secret part is one constant-time k·G.
    /// </summary>
    private bool BatchHolds()
    {
        var terms = new Terms(group);
        var secretSum = group.Zero;
        var publicSum = group.Zero;
        var random = RandomNumberGenerator.GetBytes(16 * items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            var it = items[i];
            var r = group.ReduceWide(random.AsSpan(16 * i, 16));
            if (it.Commitment is { } c)
            {
                if (it.Secret) secretSum += r * it.Share;
                else publicSum += r * it.Share;
                var coef = r;
                foreach (var cj in c.Coefficients)
                {
                    terms.Add(coef, cj);
                    coef *= it.X;
                }
            }
            else
            {
                terms.Add(r, it.Left!);
                terms.Add(-(r * it.X), it.Right!);
            }
        }
        if (!publicSum.IsZero) terms.Add(-publicSum, group.Generator);
        var sum = terms.Sum();
        return items.Any(i => i.Secret) ? sum.Equals(group.MulBase(secretSum)) : sum.IsIdentity;
    }

    /// <summary>
    /// The terms of the batch equation. Each scalar k is replaced by −k on −P when that is shorter (−r·x and r·λ
    /// for small signed λ are short that way), and from Pippenger's sizes on short and long scalars go to separate
    /// multiplications, since Pippenger costs as much per point as its longest scalar needs.
    /// </summary>
    private sealed class Terms(Group group)
    {
        private const int ShortBits = 160;

        /// <summary>
        /// Below this many terms both groups multiply by Straus, whose one chain of doublings serves short and long
        /// scalars alike (each adds only its own digits), so splitting would only add a second chain.
        /// </summary>
        private static readonly int SplitFrom = Math.Min(Groups.Ed25519.EdwardsMul.PippengerThreshold, Groups.Secp256k1.Secp256k1Mul.PippengerThreshold);
        private readonly List<Scalar> shortScalars = [], longScalars = [];
        private readonly List<Element> shortPoints = [], longPoints = [];

        public void Add(Scalar k, Element p)
        {
            var neg = -k;
            int bits = FeldmanBatch<TTag>.BitLength(k), negBits = FeldmanBatch<TTag>.BitLength(neg);
            if (negBits < bits) (k, p, bits) = (neg, group.Negate(p), negBits);
            (bits <= ShortBits ? shortScalars : longScalars).Add(k);
            (bits <= ShortBits ? shortPoints : longPoints).Add(p);
        }

        public Element Sum() =>
            shortScalars.Count + longScalars.Count < SplitFrom
                ? group.MultiMulVartime([.. shortScalars, .. longScalars], [.. shortPoints, .. longPoints])
                : group.Add(group.MultiMulVartime(shortScalars.ToArray(), shortPoints.ToArray()),
                            group.MultiMulVartime(longScalars.ToArray(), longPoints.ToArray()));
    }

    private static bool ItemHolds(Item it) =>
        it.Commitment is { } c ? c.Verify(Identifier.FromScalar(it.X), it.Share) : it.Left!.Equals(it.Right! * it.X);

    private static int BitLength(Scalar k) => MsmDigits.MaxBitLength([k.Value]);

    private static int ShortestBitLength(Scalar k) => Math.Min(BitLength(k), BitLength(-k));

    /// <summary>A share check (Commitment, X, Share) or an equality Left = X·Right.</summary>
    private sealed record Item(TTag Tag, FeldmanCommitment? Commitment, Scalar X, Scalar Share, Element? Left, Element? Right, bool Secret);
}
