using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// One reshare event: the plans of one or more keys of one scheme that go to the same new members together
/// (the services refresh many wallets of one quorum at once). Plans are kept in key-id order, so every party
/// derives the same <see cref="Digest"/> whatever order it got them in; new members confirm the event as a whole.
/// </summary>
public sealed class ReshareEvent
{
    private ReshareEvent(ResharePlan[] plans, byte[] digest)
    {
        Plans = plans;
        Digest = digest;
    }

    /// <summary>Checks: at least one plan, distinct key ids, one scheme, the same new members and threshold for all.</summary>
    public static ReshareEvent Create(IReadOnlyList<ResharePlan> plans)
    {
        if (plans.Count == 0) throw new ProtocolException(Fault.InvalidUsage, "a reshare event needs at least one plan");
        var sorted = plans.OrderBy(p => p.KeyId, StringComparer.Ordinal).ToArray();
        var first = sorted[0];
        for (int i = 1; i < sorted.Length; i++)
        {
            var p = sorted[i];
            if (p.KeyId == sorted[i - 1].KeyId) throw new ProtocolException(Fault.InvalidUsage, $"key {p.KeyId} appears twice in the reshare event");
            if (p.Scheme != first.Scheme) throw new ProtocolException(Fault.InvalidUsage, $"key {p.KeyId} is {p.Scheme.Name()}, key {first.KeyId} is {first.Scheme.Name()}: one event, one scheme");
            if (!p.NewMembers.SequenceEqual(first.NewMembers) || p.NewThreshold != first.NewThreshold)
                throw new ProtocolException(Fault.InvalidUsage, $"keys {first.KeyId} and {p.KeyId} go to different new quorums: one event, one new quorum");
        }
        using var t = new Transcript("rotor/reshare/event/v1");
        t.Append("plans", (ulong)sorted.Length);
        foreach (var p in sorted) t.Append("plan", p.Digest);
        return new ReshareEvent(sorted, t.Digest());
    }

    /// <summary>The plans in key-id order.</summary>
    public IReadOnlyList<ResharePlan> Plans { get; }

    public Scheme Scheme => Plans[0].Scheme;

    /// <summary>The new members, the same for every plan.</summary>
    public IReadOnlyList<Identifier> NewMembers => Plans[0].NewMembers;

    /// <summary>The new threshold, the same for every plan.</summary>
    public int NewThreshold => Plans[0].NewThreshold;

    /// <summary>64 bytes over every plan digest in order: what confirmations are bound to.</summary>
    public byte[] Digest { get; }

    public override string ToString() => $"ReshareEvent({Plans.Count} keys, {Scheme.Name()}, {Convert.ToHexStringLower(Digest.AsSpan(0, 8))})";
}
