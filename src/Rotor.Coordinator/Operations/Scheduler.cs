namespace Rotor.Coordinator.Operations;

/// <summary>What the coordinator should do with an operation now.</summary>
public enum Decision
{
    /// <summary>Nothing: the operation is over, or it waits for its window.</summary>
    Wait,
    /// <summary>The window is open (or there is none): run the preflight, then the reshare.</summary>
    Start,
    /// <summary>The window closed before the reshare started: mark it expired.</summary>
    Expire,
    /// <summary>The window closed while it runs: abandon before the commit, the old epoch stays active.</summary>
    Abandon,
}

/// <summary>What a node reported for one wallet: its active and pending epochs.</summary>
public sealed record NodeWalletState(IReadOnlyList<ulong> Active, IReadOnlyList<ulong> Pending);

/// <summary>The cluster as the coordinator sees it at preflight time.</summary>
/// <param name="QuorumMembers">The quorum's current members (null: the quorum is gone).</param>
/// <param name="QuorumThreshold">The quorum's current threshold.</param>
/// <param name="WalletEpochs">Each wallet's current epoch in the registry (missing: the wallet is gone or in another quorum).</param>
/// <param name="Online">Which nodes answer now.</param>
/// <param name="Shards">For each online node, what it holds of each wallet (a missing wallet: it holds nothing).</param>
public sealed record ClusterView(IReadOnlyList<string>? QuorumMembers, int QuorumThreshold, IReadOnlyDictionary<string, ulong> WalletEpochs,
    IReadOnlyDictionary<string, bool> Online, IReadOnlyDictionary<string, IReadOnlyDictionary<string, NodeWalletState>> Shards);

/// <summary>
/// The preflight's verdict. <see cref="Invalid"/>: the plan no longer matches the cluster and never will (the
/// operation becomes preflight-failed). <see cref="Blocking"/>: conditions that may clear (a node offline, an epoch
/// not yet settled); a scheduled operation retries until its window closes.
/// </summary>
public sealed record PreflightResult(IReadOnlyList<string> Invalid, IReadOnlyList<string> Blocking)
{
    public bool Ok => Invalid.Count == 0 && Blocking.Count == 0;

    public override string ToString() => Ok ? "ok" : string.Join("; ", Invalid.Concat(Blocking));
}

/// <summary>The scheduling rules as pure functions of the operation, the cluster view and "now".</summary>
public static class Scheduler
{
    /// <summary>Decides what to do with <paramref name="op"/> at <paramref name="now"/>.</summary>
    public static Decision Decide(ReshareOperation op, DateTimeOffset now) => op.Status switch
    {
        OperationStatus.Scheduled when op.Window is null || op.Window.IsOpen(now) => Decision.Start,
        OperationStatus.Scheduled when op.Window.HasClosed(now) => Decision.Expire,
        OperationStatus.Running when op.Window is not null && op.Window.HasClosed(now) => Decision.Abandon,
        _ => Decision.Wait,
    };

    /// <summary>The new members that must be online: all but those allowed offline.</summary>
    public static IReadOnlyList<string> RequiredNewMembers(ReshareOperation op) => op.NewMembers.Except(op.AllowOffline).ToArray();

    /// <summary>
    /// Checks an operation against the cluster: the plan still matches (quorum members and threshold, every wallet at
    /// its planned epoch), every required new member and a threshold of old members are online, and every online
    /// old member holds each wallet at exactly the current epoch with nothing pending.
    /// </summary>
    public static PreflightResult Preflight(ReshareOperation op, ClusterView view)
    {
        var invalid = new List<string>();
        var blocking = new List<string>();
        if (view.QuorumMembers is null)
            return new PreflightResult([$"quorum '{op.Quorum}' no longer exists"], []);
        if (view.QuorumThreshold != op.OldThreshold || !view.QuorumMembers.Order().SequenceEqual(op.OldMembers.Order()))
            invalid.Add($"quorum '{op.Quorum}' is now {view.QuorumThreshold}-of-[{string.Join(", ", view.QuorumMembers)}], not the planned {op.OldThreshold}-of-[{string.Join(", ", op.OldMembers)}]");
        foreach (var w in op.Wallets)
        {
            if (!view.WalletEpochs.TryGetValue(w.Wallet, out var current))
                invalid.Add($"wallet '{w.Wallet}' is no longer in quorum '{op.Quorum}'");
            else if (current != w.Epoch)
                invalid.Add($"wallet '{w.Wallet}' is at epoch {current}, not the planned {w.Epoch} (reshared since this was planned)");
        }
        if (op.NewMembers.Count - op.AllowOffline.Count < op.NewThreshold)
            invalid.Add($"only {op.NewMembers.Count - op.AllowOffline.Count} new members may be online, fewer than the new threshold {op.NewThreshold}");
        if (invalid.Count > 0) return new PreflightResult(invalid, blocking);

        bool IsOnline(string n) => view.Online.TryGetValue(n, out var on) && on;
        var offlineNew = RequiredNewMembers(op).Where(n => !IsOnline(n)).ToArray();
        if (offlineNew.Length > 0)
            blocking.Add($"new member{(offlineNew.Length == 1 ? "" : "s")} {string.Join(", ", offlineNew)} offline{(op.AllowOffline.Count > 0 ? "" : " (use --allow-offline for a member that may catch up later)")}");
        var onlineOld = op.OldMembers.Where(IsOnline).ToArray();
        if (onlineOld.Length < op.OldThreshold)
            blocking.Add($"{onlineOld.Length} of the old members online, {op.OldThreshold} needed to deal (offline: {string.Join(", ", op.OldMembers.Where(n => !IsOnline(n)))})");
        foreach (var node in onlineOld)
        {
            var held = view.Shards.TryGetValue(node, out var h) ? h : new Dictionary<string, NodeWalletState>();
            foreach (var w in op.Wallets)
            {
                var s = held.TryGetValue(w.Wallet, out var st) ? st : new NodeWalletState([], []);
                if (s.Pending.Count > 0)
                    blocking.Add($"{node} holds pending epoch {string.Join(",", s.Pending)} of wallet '{w.Wallet}' (an unsettled reshare)");
                if (s.Active.Count == 0)
                    blocking.Add($"{node} holds no shard of wallet '{w.Wallet}' (repair it: rotor repair --node {node} --wallet {w.Wallet})");
                else if (s.Active.Count > 1 || s.Active[0] != w.Epoch)
                    blocking.Add($"{node} holds wallet '{w.Wallet}' at epoch {string.Join(",", s.Active)}, not at the current epoch {w.Epoch} alone");
            }
        }
        return new PreflightResult(invalid, blocking);
    }
}
