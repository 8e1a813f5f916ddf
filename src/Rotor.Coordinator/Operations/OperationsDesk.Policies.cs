using Grpc.Core;
using Rotor.Coordinator.Audit;

namespace Rotor.Coordinator.Operations;

/// <summary>A policy with its next refresh: the window and the operation scheduled for it (none while the quorum has no wallets).</summary>
public sealed record PolicyView(RotationPolicy Policy, long LastRefresh, MaintenanceWindow Next, string? NextOperation);

public sealed partial class OperationsDesk
{
    /// <summary>Sets (or replaces) a quorum's rotation policy and schedules its next refresh.</summary>
    public PolicyView SetPolicy(string quorum, string every, string window)
    {
        engine.RequireQuorum(quorum);
        RotationPolicy policy;
        try { policy = new RotationPolicy(quorum, RotationInterval.Parse(every), RecurringWindow.Parse(window), OperatorContext.Actor, Now); }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
        store.PutPolicy(policy);
        Record(AuditKinds.PolicySet, quorum, quorum, new { every = policy.Every.Text, window = policy.Window.ToString() });
        EnsurePolicies();
        return Policies(quorum).Single();
    }

    /// <summary>Removes a quorum's policy and cancels the refresh it scheduled.</summary>
    public void ClearPolicy(string quorum)
    {
        if (!store.DeletePolicy(quorum)) throw new CoordinatorException(StatusCode.NotFound, $"quorum '{quorum}' has no rotation policy");
        Record(AuditKinds.PolicyCleared, quorum, quorum, new { });
        foreach (var op in store.List(quorum, activeOnly: true).Where(o => o.Policy == quorum && o.Status == OperationStatus.Scheduled))
            Move(op, OperationStatus.Cancelled, "its rotation policy was removed");
    }

    /// <summary>Every policy (or one quorum's) with when its next refresh runs.</summary>
    public IReadOnlyList<PolicyView> Policies(string? quorum = null) => store.Policies(quorum).Select(p =>
    {
        var last = LastRefresh(p);
        var scheduled = store.List(p.Quorum, activeOnly: true).FirstOrDefault(o => o.Policy == p.Quorum);
        return new PolicyView(p, last, scheduled?.Window ?? p.NextWindow(DateTimeOffset.FromUnixTimeMilliseconds(last), clock()), scheduled?.Id);
    }).ToList();

    /// <summary>When the policy's quorum was last reshared (committed), or when the policy was set if it never was.</summary>
    private long LastRefresh(RotationPolicy p)
    {
        var committed = store.List(p.Quorum).Where(o => o.Status == OperationStatus.Committed).Select(o => o.Finished ?? o.Created)
            .Concat(Registry.ListEvents(EventStatus.Committed).Where(e => e.Quorum == p.Quorum && !Rotor.Rpc.Sessions.DkgCommit.IsDkgEvent(e.Id)).Select(e => e.Created)).ToList();
        return committed.Count > 0 ? committed.Max() : p.SetAt;
    }

    /// <summary>
    /// Keeps exactly one scheduled refresh per policy, in the policy's next window: creates it when missing and
    /// replaces it (cancelled, then rescheduled) when the next window moved, e.g. after a manual reshare.
    /// </summary>
    private void EnsurePolicies()
    {
        foreach (var p in store.Policies())
        {
            var open = store.List(p.Quorum, activeOnly: true).Where(o => o.Policy == p.Quorum).ToList();
            if (open.Any(o => o.Status == OperationStatus.Running)) continue;
            var next = p.NextWindow(DateTimeOffset.FromUnixTimeMilliseconds(LastRefresh(p)), clock());
            if (open.Any(o => o.Window == next)) continue;
            foreach (var stale in open)
                Move(stale, OperationStatus.Cancelled, $"superseded: the policy's next refresh is now {next}", OperatorContext.Coordinator);
            if (Registry.FindQuorum(p.Quorum) is null || Registry.ListWallets(p.Quorum).Count == 0) continue;
            var op = Prepare(new ReshareRequest(p.Quorum, [], ReshareReason.NameOf(ReshareReasonKind.SecurityPolicy), $"rotation policy: every {p.Every} in {p.Window}",
                [], 0, [], MaintenanceWindow.Format(next.Start), MaintenanceWindow.Format(next.End)), $"policy:{p.Quorum}", p.Quorum);
            store.Put(op);
            Record(AuditKinds.ReshareRequested, op.Quorum, op.Id, Describe(op), OperatorContext.Coordinator);
        }
    }
}
