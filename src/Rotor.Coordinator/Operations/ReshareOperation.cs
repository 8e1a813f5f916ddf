namespace Rotor.Coordinator.Operations;

/// <summary>One wallet of an operation and the epoch it was at when the operation was planned (it goes to Epoch + 1).</summary>
public sealed record WalletAtEpoch(string Wallet, ulong Epoch);

/// <summary>
/// A reshare as an operation: what is reshared, why, by whom, from which members and threshold to which, in which
/// window, and how it went. The engine's reshare event (<see cref="EventId"/>) carries the protocol run; this record
/// carries the operator's side: scheduling, preflight, status history and the commit evidence.
/// </summary>
public sealed record ReshareOperation
{
    public required string Id { get; init; }
    public required string Quorum { get; init; }

    /// <summary>The wallets and their epochs when planned.</summary>
    public required IReadOnlyList<WalletAtEpoch> Wallets { get; init; }

    /// <summary>True when the operator asked for every wallet of the quorum.</summary>
    public required bool AllWallets { get; init; }

    public required ReshareReason Reason { get; init; }

    /// <summary>Who asked for it (operator name, or "policy:QUORUM" for a rotation policy).</summary>
    public required string RequestedBy { get; init; }

    public required IReadOnlyList<string> OldMembers { get; init; }
    public required int OldThreshold { get; init; }
    public required IReadOnlyList<string> NewMembers { get; init; }
    public required int NewThreshold { get; init; }

    /// <summary>New members allowed to be offline; their shares wait in the coordinator's mailbox.</summary>
    public IReadOnlyList<string> AllowOffline { get; init; } = [];

    /// <summary>The maintenance window; null for a reshare run at once.</summary>
    public MaintenanceWindow? Window { get; init; }

    public required OperationStatus Status { get; init; }

    /// <summary>Unix milliseconds.</summary>
    public required long Created { get; init; }
    public long? Started { get; init; }
    public long? Finished { get; init; }

    /// <summary>The engine's reshare event, once running.</summary>
    public string? EventId { get; init; }

    /// <summary>Hex of the transcript hash every new member confirmed (committed operations).</summary>
    public string? TranscriptHash { get; init; }

    /// <summary>The commit certificate as the engine recorded it (committed operations).</summary>
    public byte[]? Certificate { get; init; }

    /// <summary>Why it failed, expired or was cancelled; or the last preflight problem while it waits.</summary>
    public string? Problem { get; init; }

    /// <summary>The rotation policy that scheduled it, if any (its quorum).</summary>
    public string? Policy { get; init; }

    /// <summary>True when members or threshold change.</summary>
    public bool IsRestructure => NewThreshold != OldThreshold || !NewMembers.Order().SequenceEqual(OldMembers.Order());

    /// <summary>Moves to <paramref name="to"/>, refusing a transition the life cycle does not allow.</summary>
    public ReshareOperation MoveTo(OperationStatus to, long nowMillis, string? problem = null)
    {
        if (!Status.CanMoveTo(to))
            throw new InvalidOperationException($"reshare {Id} is {Status.Name()}; it cannot become {to.Name()}");
        return this with
        {
            Status = to,
            Started = to == OperationStatus.Running ? nowMillis : Started,
            Finished = to.IsFinal() ? nowMillis : Finished,
            Problem = problem ?? (to == OperationStatus.Running ? null : Problem),
        };
    }
}
