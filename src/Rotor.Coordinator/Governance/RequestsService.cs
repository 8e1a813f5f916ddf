using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rotor.Coordinator.Operations;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Requests;

namespace Rotor.Coordinator.Governance;

/// <summary>The request API (admin token checked before any method runs, like the other services).</summary>
public sealed class RequestsService(RequestDesk desk) : Requests.RequestsBase
{
    public override Task<RequestRecord> Submit(ActionSpec request, ServerCallContext context) => Guard(() => desk.SubmitAsync(request));

    public override Task<RequestRecord> Approve(ApproveRequest request, ServerCallContext context) =>
        Guard(() => desk.ApproveAsync(request.Id, request.Key.ToByteArray(), request.Signature.ToByteArray()));

    public override Task<RequestList> List(ListRequestsQuery request, ServerCallContext context) => Guard(() =>
    {
        var list = new RequestList();
        list.Requests.AddRange(desk.List(request.Status.Length > 0 ? request.Status : null).Select(Brief));
        return Task.FromResult(list);
    });

    public override Task<RequestRecord> Show(RequestRef request, ServerCallContext context) => Guard(() => Task.FromResult(desk.Require(request.Id).Record));

    public override Task<GovernanceState> Governance(GovernanceQuery request, ServerCallContext context) => Guard(async () =>
    {
        var state = new GovernanceState();
        var policies = await desk.NodePoliciesAsync();
        foreach (var (node, policy, error) in policies)
            state.Nodes.Add(new NodePolicy
            {
                Node = node.Name, Online = error is null || !error.StartsWith("unreachable", StringComparison.Ordinal),
                Policy = policy is null ? Google.Protobuf.ByteString.Empty : Google.Protobuf.ByteString.CopyFrom(policy.Encode()),
                Digest = policy?.Digest() ?? "", Error = error ?? "",
            });
        var distinct = policies.Where(p => p.Policy is not null).Select(p => p.Policy!).DistinctBy(p => p.Digest()).ToList();
        if (distinct.Count == 1) state.Policy = Google.Protobuf.ByteString.CopyFrom(distinct[0].Encode());
        return state;
    });

    /// <summary>A listed request without its spec's bulky parts (backup files, large messages) and result files.</summary>
    private static RequestRecord Brief(RequestRecord r)
    {
        var b = r.Clone();
        if (b.Spec?.Restore is { } restore) restore.File = Google.Protobuf.ByteString.Empty;
        if (b.Result?.Backup is { } backup) backup.File = Google.Protobuf.ByteString.Empty;
        return b;
    }

    private static Task<T> Guard<T>(Func<Task<T>> action) => OperationsService.Guard(async () =>
    {
        try { return await action(); }
        catch (ApprovalException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
    });
}

/// <summary>Adds the request desk to the coordinator.</summary>
public static class RequestsHosting
{
    /// <summary>Opens <c>requests.db</c> next to the registry, hooks the desk into the scheduler and registers the API.</summary>
    public static RequestDesk AddRequests(this WebApplicationBuilder builder, Engine engine, OperationsDesk operations, NodeClients clients, CoordinatorConfig config)
    {
        var dir = Path.GetDirectoryName(config.Resolve(config.Database))!;
        var store = new RequestStore(Path.Combine(dir, RequestStore.FileName));
        var desk = new RequestDesk(engine, operations, store, clients, () => DateTimeOffset.UtcNow);
        operations.Approval = desk.AuthorizationFor;
        operations.RepairRequests = desk;
        desk.FailInterrupted();
        builder.Services.AddSingleton(desk);
        return desk;
    }

    public static void MapRequests(this WebApplication app)
    {
        app.MapGrpcService<RequestsService>();
        var desk = app.Services.GetRequiredService<RequestDesk>();
        app.Lifetime.ApplicationStopped.Register(desk.Store.Dispose);
    }
}
