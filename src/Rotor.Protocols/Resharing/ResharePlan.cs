using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// What one reshare of one key does, validated and public: the session (key, scheme, epoch e → e+1, old and
/// new members and thresholds, nonce), the key's public package at epoch e, and the dealers — the old members
/// that take part (any t or more of them). Every party builds the same plan from the same inputs; every
/// message carries its <see cref="Digest"/>, so a message of another session, epoch or dealer set is refused
/// with <see cref="Fault.WrongSession"/>.
/// Refresh is the case where the new members and threshold are the old ones.
/// </summary>
public sealed class ResharePlan
{
    private readonly Dictionary<Identifier, int> index;
    private readonly Scalar[] weights;

    private ResharePlan(SessionId session, PublicKeyPackage current, Identifier[] dealers, Scalar[] lambdas, byte[] digest)
    {
        Session = session;
        Current = current;
        Dealers = dealers;
        weights = lambdas;
        index = new Dictionary<Identifier, int>(dealers.Length);
        for (int i = 0; i < dealers.Length; i++) index.Add(dealers[i], i);
        Digest = digest;
    }

    /// <summary>
    /// Checks that the session is a reshare of exactly this package (key, scheme, epoch, members, threshold;
    /// new epoch e+1) and that the dealers are at least t distinct members of it.
    /// </summary>
    public static ResharePlan Create(SessionId session, PublicKeyPackage current, IReadOnlyList<Identifier> dealers)
    {
        CheckSession(session, current);
        var sorted = CheckDealers(current, dealers);
        return new ResharePlan(session, current, sorted, Weights(sorted), ComputeDigest(session, sorted));
    }

    /// <summary>The weights of the most recent dealer set: the plans of a batch share one set, so they share its weights.</summary>
    private static WeightMemo? lastWeights;

    private sealed record WeightMemo(Identifier[] Dealers, Scalar[] Weights);

    /// <summary>λ_i at 0 over the dealer set; depends on the set only.</summary>
    private static Scalar[] Weights(Identifier[] dealers)
    {
        var memo = Volatile.Read(ref lastWeights);
        if (memo is not null && memo.Dealers.AsSpan().SequenceEqual(dealers)) return memo.Weights;
        var weights = Lagrange.AllAtZero(dealers);
        Volatile.Write(ref lastWeights, new WeightMemo(dealers, weights));
        return weights;
    }

    public SessionId Session { get; }

    /// <summary>The key's public package at the old epoch e.</summary>
    public PublicKeyPackage Current { get; }

    /// <summary>The old members that deal, in ascending order.</summary>
    public IReadOnlyList<Identifier> Dealers { get; }

    public IReadOnlyList<Identifier> NewMembers => Session.NewMembers;

    public int NewThreshold => Session.NewThreshold;

    public ulong NewEpoch => Session.NewEpoch;

    public string KeyId => Current.KeyId;

    public Scheme Scheme => Current.Scheme;

    public Group Group => Current.Group;

    /// <summary>Same members and threshold: every share is replaced, nothing else changes.</summary>
    public bool IsRefresh => NewThreshold == Current.Threshold && NewMembers.SequenceEqual(Current.Members);

    /// <summary>64 bytes binding the session digest and the dealer set; carried by every message of this reshare.</summary>
    public byte[] Digest { get; }

    /// <summary>λ_i: the dealer's Lagrange coefficient at 0 over the dealer set.</summary>
    public Scalar Weight(Identifier dealer) =>
        index.TryGetValue(dealer, out int i) ? weights[i] : throw new ArgumentException($"{dealer} is not a dealer of this reshare");

    public bool IsDealer(Identifier id) => index.ContainsKey(id);

    /// <summary>The dealer's position in <see cref="Dealers"/>.</summary>
    internal bool TryIndexOf(Identifier dealer, out int i) => index.TryGetValue(dealer, out i);

    public bool IsNewMember(Identifier id) => Session.NewMembers.Contains(id);

    public override string ToString() =>
        $"ResharePlan({KeyId}, {Scheme.Name()}, epoch {Current.Epoch}->{NewEpoch}, {Current.Threshold}-of-{Current.Members.Count} -> {NewThreshold}-of-{NewMembers.Count}, dealers {string.Join(",", Dealers)})";

    private static void CheckSession(SessionId s, PublicKeyPackage p)
    {
        if (s.Protocol != SessionProtocol.Reshare)
            throw new ProtocolException(Fault.InvalidUsage, $"session {s} is a {s.Protocol} session, not a reshare");
        if (s.KeyId != p.KeyId || s.Scheme != p.Scheme || s.OldEpoch != p.Epoch || s.OldThreshold != p.Threshold || !s.OldMembers.SequenceEqual(p.Members))
            throw new ProtocolException(Fault.WrongSession,
                $"session {s} reshares key {s.KeyId} epoch {s.OldEpoch} ({s.OldThreshold}-of-{s.OldMembers.Count}), not key {p.KeyId} epoch {p.Epoch} ({p.Threshold}-of-{p.Members.Count})");
        if (!s.BindsOldPackage(p))
            throw new ProtocolException(Fault.WrongSession, $"session {s} does not bind this public package of key {p.KeyId} epoch {p.Epoch}");
        if (s.NewEpoch != p.Epoch + 1)
            throw new ProtocolException(Fault.WrongSession, $"session {s} goes to epoch {s.NewEpoch}, expected {p.Epoch + 1}");
        foreach (var m in s.NewMembers)
            if (!ReferenceEquals(m.Group, p.Group)) throw new ProtocolException(Fault.InvalidUsage, $"new member {m} is not a {p.Group.Name} identifier");
    }

    private static Identifier[] CheckDealers(PublicKeyPackage p, IReadOnlyList<Identifier> dealers)
    {
        var seen = new HashSet<Identifier>();
        foreach (var d in dealers)
        {
            if (!p.IsMember(d)) throw new ProtocolException(Fault.InvalidUsage, $"dealer {d} is not a member of key {p.KeyId} epoch {p.Epoch}");
            if (!seen.Add(d)) throw new ProtocolException(Fault.InvalidUsage, $"dealer {d} is listed twice");
        }
        if (seen.Count < p.Threshold)
            throw new ProtocolException(Fault.InvalidUsage, $"{seen.Count} dealers, but key {p.KeyId} epoch {p.Epoch} needs {p.Threshold}");
        return seen.OrderBy(i => i).ToArray();
    }

    private static byte[] ComputeDigest(SessionId session, Identifier[] dealers)
    {
        using var t = new Transcript("rotor/reshare/plan/v1");
        t.Append("session", session.Digest).Append("dealers", dealers.Select(d => d.Scalar).ToArray());
        return t.Digest();
    }
}
