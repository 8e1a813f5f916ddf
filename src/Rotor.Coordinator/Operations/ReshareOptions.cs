namespace Rotor.Coordinator;

/// <summary>
/// What the operations desk adds to a reshare: new members that may be offline (the dealers deal to them as to
/// everyone; their sealed envelopes are handed to <see cref="Hold"/> before the commit), a time after which the
/// reshare must not commit (the end of its maintenance window), and the state the plan was made against.
/// </summary>
/// <param name="Hold">Receives, for each absent member, the event id and the envelopes addressed to it.</param>
/// <param name="Expected">The plan's base (old epochs, members, threshold): the engine refuses, naming what moved,
/// when the registry no longer matches it under the quorum's lock.</param>
public sealed record ReshareOptions(IReadOnlyList<string> AllowOffline, DateTimeOffset? CommitBy, Action<string, string, IReadOnlyList<byte[]>> Hold,
    ReshareBase? Expected = null);

/// <summary>The state a reshare was planned against: each planned wallet's epoch, the old members and threshold.</summary>
public sealed record ReshareBase(IReadOnlyDictionary<string, ulong> Epochs, IReadOnlyList<string> Members, int Threshold)
{
    /// <summary>What moved since the plan, one line per difference (empty: nothing moved).</summary>
    public IReadOnlyList<string> Drift(Registry registry, string quorumName)
    {
        var moved = new List<string>();
        var quorum = registry.FindQuorum(quorumName);
        if (quorum is null) return [$"quorum '{quorumName}' no longer exists"];
        if (quorum.Threshold != Threshold || !quorum.Members.Order().SequenceEqual(Members.Order()))
            moved.Add($"quorum '{quorumName}' is now {quorum.Threshold}-of-[{string.Join(", ", quorum.Members)}], not the planned {Threshold}-of-[{string.Join(", ", Members)}]");
        foreach (var (wallet, epoch) in Epochs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var w = registry.FindWallet(wallet);
            if (w is null || w.Quorum != quorumName) moved.Add($"wallet '{wallet}' is no longer in quorum '{quorumName}'");
            else if (w.Epoch != epoch)
                moved.Add($"wallet '{wallet}' is at epoch {w.Epoch}, not the planned {epoch}" + (registry.FindEpoch(w.Id, w.Epoch)?.EventId is { } ev ? $" (reshare {ev} committed since)" : ""));
        }
        return moved;
    }
}
