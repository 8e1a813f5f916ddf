using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rotor.Coordinator.Audit;

namespace Rotor.Coordinator.Operations;

/// <summary>Adds the operations desk (audit log, operations database, scheduler heartbeat, operations API) to the coordinator.</summary>
public static class OperationsHosting
{
    public const string AuditFile = "audit.db", AuditKeyFile = "audit.key", OperationsFile = "operations.db";

    /// <summary>
    /// Opens the audit log (signed with the coordinator's audit key, made on first start, mode 0600) and the operations
    /// database next to the registry, hooks the engine's own events into the log and registers the API and the
    /// scheduler's heartbeat.
    /// </summary>
    public static OperationsDesk AddOperations(this WebApplicationBuilder builder, Engine engine, NodeClients clients, CoordinatorConfig config)
    {
        var dir = Path.GetDirectoryName(config.Resolve(config.Database))!;
        var key = AuditKey.LoadOrCreate(config.Resolve(config.AuditKeyFile));
        var audit = AuditLog.Open(Path.Combine(dir, AuditFile), key);
        var store = new OperationStore(Path.Combine(dir, OperationsFile));
        var desk = new OperationsDesk(engine, store, audit, clients, () => DateTimeOffset.UtcNow);
        engine.Audit = (kind, quorum, subject, details) => desk.Record(kind, quorum, subject, details);
        engine.AuditAll = desk.RecordAll;
        engine.HoldSettlement = desk.HoldsSettlement;
        engine.EventCompleted = desk.OnEventCompleted;
        builder.Services.AddSingleton(desk);
        builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<OperatorInterceptor>());
        builder.Services.AddHostedService(_ => new Heartbeat(desk, TimeSpan.FromMilliseconds(config.HeartbeatMillis)));
        builder.Services.AddSingleton(new Resources(store, audit, key));
        return desk;
    }

    /// <summary>Maps the operations API; closes the databases and the key when the coordinator stops.</summary>
    public static void MapOperations(this WebApplication app)
    {
        app.MapGrpcService<OperationsService>();
        var resources = app.Services.GetRequiredService<Resources>();
        app.Lifetime.ApplicationStopped.Register(resources.Dispose);
    }

    private sealed class Resources(OperationStore store, AuditLog audit, AuditKey key) : IDisposable
    {
        public void Dispose()
        {
            store.Dispose();
            audit.Dispose();
            key.Dispose();
        }
    }

    /// <summary>Runs the scheduler once per heartbeat.</summary>
    private sealed class Heartbeat(OperationsDesk desk, TimeSpan period) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(period);
            while (await timer.WaitForNextTickAsync(stop))
            {
                try { await desk.TickAsync(); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"operations heartbeat: {e.Message}");
                }
                try { await desk.RetryPruneAsync(); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"backup pruning heartbeat: {e.Message}");
                }
                try { await desk.WitnessHeadAsync(); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"audit witness heartbeat: {e.Message}");
                }
            }
        }
    }
}
