using Rotor.Coordinator.Audit;

namespace Rotor.Coordinator.Operations;

public sealed partial class OperationsDesk
{
    /// <summary>Repairs a node's shard of a wallet's current epoch from other members; recorded either way.</summary>
    public async Task<Engine.Repaired> RepairAsync(string node, string wallet, IReadOnlyList<string> helpers, string? actor = null)
    {
        var quorum = engine.Registry.FindWallet(wallet)?.Quorum;
        try
        {
            var r = await engine.RepairAsync(node, wallet, helpers);
            Record(AuditKinds.RepairCompleted, quorum, node, new { wallet, epoch = r.Epoch, helpers = r.Helpers }, actor);
            return r;
        }
        catch (CoordinatorException e)
        {
            Record(AuditKinds.RepairFailed, quorum, node, new { wallet, problem = e.Message }, actor);
            throw;
        }
    }
}
