using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Repair;

/// <summary>
/// What one repair does, validated and public: the session (key, scheme, epoch, members, threshold, nonce),
/// the key's current public package, the member whose share is rebuilt (the target: it lost its share or holds
/// a stale one) and the helpers (any t or more other members of the current epoch). Every message carries
/// <see cref="Digest"/>, so a message of another session, epoch, target or helper set is refused with
/// <see cref="Fault.WrongSession"/>.
/// </summary>
public sealed class RepairPlan
{
    private readonly Dictionary<Identifier, int> index;
    private readonly Scalar[] weights;

    private RepairPlan(SessionId session, PublicKeyPackage current, Identifier target, Identifier[] helpers, Scalar[] weights, byte[] digest)
    {
        Session = session;
        Current = current;
        Target = target;
        Helpers = helpers;
        this.weights = weights;
        index = new Dictionary<Identifier, int>(helpers.Length);
        for (int i = 0; i < helpers.Length; i++) index.Add(helpers[i], i);
        Digest = digest;
    }

    /// <summary>
    /// Checks that the session is a repair of exactly this package, that the target is a member, and that the
    /// helpers are at least t distinct members other than the target.
    /// </summary>
    public static RepairPlan Create(SessionId session, PublicKeyPackage current, Identifier target, IReadOnlyList<Identifier> helpers)
    {
        CheckSession(session, current);
        if (!current.IsMember(target)) throw new ProtocolException(Fault.InvalidUsage, $"{target} is not a member of key {current.KeyId} epoch {current.Epoch}: nothing to repair");
        var sorted = CheckHelpers(current, target, helpers);
        var ws = sorted.Select(h => Lagrange.Coefficient(h, sorted, target.Scalar)).ToArray();
        return new RepairPlan(session, current, target, sorted, ws, ComputeDigest(session, target, sorted));
    }

    public SessionId Session { get; }

    /// <summary>The key's public package at the current epoch (the one the target's share is rebuilt for).</summary>
    public PublicKeyPackage Current { get; }

    /// <summary>The member whose share is rebuilt.</summary>
    public Identifier Target { get; }

    /// <summary>The helping members, in ascending order.</summary>
    public IReadOnlyList<Identifier> Helpers { get; }

    public string KeyId => Current.KeyId;

    public Scheme Scheme => Current.Scheme;

    public Group Group => Current.Group;

    /// <summary>64 bytes binding the session digest, the target and the helper set; carried by every message of this repair.</summary>
    public byte[] Digest { get; }

    /// <summary>ζ_i = λ_i(x_target) over the helper set: helper i contributes ζ_i·s_i.</summary>
    public Scalar Weight(Identifier helper) => weights[IndexOf(helper)];

    public bool IsHelper(Identifier id) => index.ContainsKey(id);

    /// <summary>The helper's position in <see cref="Helpers"/>.</summary>
    internal int IndexOf(Identifier helper) =>
        index.TryGetValue(helper, out int i) ? i : throw new ArgumentException($"{helper} is not a helper of this repair");

    internal bool TryIndexOf(Identifier helper, out int i) => index.TryGetValue(helper, out i);

    public override string ToString() =>
        $"RepairPlan({KeyId}, {Scheme.Name()}, epoch {Current.Epoch}, member {Target}, helpers {string.Join(",", Helpers)})";

    private static void CheckSession(SessionId s, PublicKeyPackage p)
    {
        if (s.Protocol != SessionProtocol.Repair)
            throw new ProtocolException(Fault.InvalidUsage, $"session {s} is a {s.Protocol} session, not a repair");
        if (s.KeyId != p.KeyId || s.Scheme != p.Scheme || s.OldEpoch != p.Epoch || s.NewEpoch != p.Epoch ||
            s.OldThreshold != p.Threshold || s.NewThreshold != p.Threshold || !s.OldMembers.SequenceEqual(p.Members) || !s.NewMembers.SequenceEqual(p.Members))
            throw new ProtocolException(Fault.WrongSession, $"session {s} is not a repair of key {p.KeyId} epoch {p.Epoch} ({p.Threshold}-of-{p.Members.Count})");
        if (!s.BindsOldPackage(p))
            throw new ProtocolException(Fault.WrongSession, $"session {s} does not bind this public package of key {p.KeyId} epoch {p.Epoch}");
    }

    private static Identifier[] CheckHelpers(PublicKeyPackage p, Identifier target, IReadOnlyList<Identifier> helpers)
    {
        var seen = new HashSet<Identifier>();
        foreach (var h in helpers)
        {
            if (h == target) throw new ProtocolException(Fault.InvalidUsage, $"member {h} cannot help repair its own share");
            if (!p.IsMember(h)) throw new ProtocolException(Fault.InvalidUsage, $"helper {h} is not a member of key {p.KeyId} epoch {p.Epoch}");
            if (!seen.Add(h)) throw new ProtocolException(Fault.InvalidUsage, $"helper {h} is listed twice");
        }
        if (seen.Count < p.Threshold)
            throw new ProtocolException(Fault.InvalidUsage, $"{seen.Count} helpers, but key {p.KeyId} epoch {p.Epoch} needs {p.Threshold}");
        return seen.OrderBy(i => i).ToArray();
    }

    private static byte[] ComputeDigest(SessionId session, Identifier target, Identifier[] helpers)
    {
        using var t = new Transcript("rotor/repair/plan/v1");
        t.Append("session", session.Digest).Append("target", target.Scalar).Append("helpers", helpers.Select(h => h.Scalar).ToArray());
        return t.Digest();
    }
}
