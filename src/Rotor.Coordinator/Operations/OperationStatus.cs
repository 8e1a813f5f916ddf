namespace Rotor.Coordinator.Operations;

/// <summary>
/// Where a reshare operation stands. scheduled → running → committed; a scheduled one may instead become
/// cancelled, expired (its window closed first), preflight-failed (its plan no longer matches the cluster) or
/// failed (interrupted before it started: its caller or the coordinator went away; nothing changed);
/// a running one becomes failed (nothing committed, old epoch active) or expired (window closed before the
/// commit, abandoned, old epoch active). A failed or expired one whose event settlement completed after all (every new
/// member had confirmed it) becomes committed.
/// </summary>
public enum OperationStatus
{
    Scheduled,
    Running,
    Committed,
    PreflightFailed,
    Failed,
    Cancelled,
    Expired,
}

public static class OperationStatuses
{
    public static string Name(this OperationStatus s) => s switch
    {
        OperationStatus.Scheduled => "scheduled",
        OperationStatus.Running => "running",
        OperationStatus.Committed => "committed",
        OperationStatus.PreflightFailed => "preflight-failed",
        OperationStatus.Failed => "failed",
        OperationStatus.Cancelled => "cancelled",
        OperationStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static OperationStatus Parse(string name) =>
        Enum.GetValues<OperationStatus>().Where(s => s.Name() == name).Cast<OperationStatus?>().FirstOrDefault()
        ?? throw new ArgumentException($"unknown operation status '{name}'");

    /// <summary>True once nothing more can happen to the operation.</summary>
    public static bool IsFinal(this OperationStatus s) => s is not (OperationStatus.Scheduled or OperationStatus.Running);

    /// <summary>The transitions the life cycle allows.</summary>
    public static bool CanMoveTo(this OperationStatus from, OperationStatus to) => (from, to) switch
    {
        (OperationStatus.Scheduled, OperationStatus.Running or OperationStatus.Cancelled or OperationStatus.Expired or OperationStatus.PreflightFailed
            or OperationStatus.Failed) => true,
        (OperationStatus.Running, OperationStatus.Committed or OperationStatus.Failed or OperationStatus.Expired) => true,
        // Settlement completed the event after the run had failed: every new member had confirmed, and their kept
        // confirmations made its commit certificate (Engine.CompleteAsync): the wallets did move.
        (OperationStatus.Failed or OperationStatus.Expired, OperationStatus.Committed) => true,
        _ => false,
    };
}
