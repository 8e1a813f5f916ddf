using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;

using static Rotor.Coordinator.NodeReplies;

namespace Rotor.Coordinator;

public sealed partial class Engine
{
    /// <summary>The outcome of a repair.</summary>
    public sealed record Repaired(string Node, string Wallet, ulong Epoch, IReadOnlyList<string> Helpers);

    /// <summary>
    /// Rebuilds <paramref name="nodeName"/>'s shard of the wallet's current epoch from a threshold of other members (the
    /// given helpers, else the first online ones), by the repair protocol: no backup, no member learns the share. The
    /// target checks the result against its verification share before storing it.
    /// </summary>
    public async Task<Repaired> RepairAsync(string nodeName, string walletId, IReadOnlyList<string> helperNames)
    {
        var quorum = RequireWallet(walletId).Quorum;
        // Under the quorum's lock: the epoch repaired is the wallet's epoch until the repair ends.
        return await Locks.RunAsync(quorum, $"repair of '{nodeName}' for wallet '{walletId}'", () => RepairLockedAsync(nodeName, walletId, helperNames));
    }

    private async Task<Repaired> RepairLockedAsync(string nodeName, string walletId, IReadOnlyList<string> helperNames)
    {
        var wallet = RequireWallet(walletId);
        var epoch = registry.FindEpoch(wallet.Id, wallet.Epoch)!;
        if (!epoch.Members.Contains(nodeName))
            throw new CoordinatorException(StatusCode.InvalidArgument, $"'{nodeName}' is not a member of wallet '{walletId}' at its current epoch {epoch.Epoch} (members: {string.Join(", ", epoch.Members)})");
        var target = RequireNode(nodeName);
        List<NodeEntry> helpers;
        if (helperNames.Count > 0)
        {
            foreach (var h in helperNames)
                if (h == nodeName || !epoch.Members.Contains(h))
                    throw new CoordinatorException(StatusCode.InvalidArgument, $"helper '{h}' must be another member of wallet '{walletId}' at epoch {epoch.Epoch}");
            if (helperNames.Distinct().Count() < epoch.Threshold)
                throw new CoordinatorException(StatusCode.InvalidArgument, $"{helperNames.Distinct().Count()} helpers given, wallet '{walletId}' needs {epoch.Threshold}");
            helpers = helperNames.Distinct().Select(RequireNode).ToList();
            await RequireOnline(helpers.Append(target), $"repair of '{nodeName}' for wallet '{walletId}'");
        }
        else
        {
            await RequireOnline([target], $"repair of '{nodeName}' for wallet '{walletId}'");
            var others = epoch.Members.Where(m => m != nodeName).Select(RequireNode).ToList();
            var polled = await Task.WhenAll(others.Select(PollAsync));
            helpers = others.Where((o, i) => polled[i].Online).Take(epoch.Threshold).ToList();
            if (helpers.Count < epoch.Threshold)
                throw new CoordinatorException(StatusCode.Unavailable,
                    $"repair of '{nodeName}' for wallet '{walletId}' needs {epoch.Threshold} other online members; offline: {string.Join(", ", others.Where((o, i) => !polled[i].Online).Select(o => o.Name))}");
        }
        var start = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Repair = new RepairParams { Current = ToKeyPackage(wallet, epoch), Target = ToParty(target) },
        };
        start.Repair.Helpers.AddRange(helpers.Select(ToParty));
        var what = $"repair of '{nodeName}' for wallet '{walletId}' epoch {epoch.Epoch}";
        var outputs = await Driver.RunAsync(helpers.Append(target).ToList(), start, what, 1);
        var result = Decode<RepairOutput>(outputs[nodeName], nodeName);
        if (result.KeyId != wallet.Id || result.Epoch != epoch.Epoch || !string.Equals(result.VerifyingShare, epoch.VerifyingShares[target.Index], StringComparison.OrdinalIgnoreCase))
            throw new CoordinatorException(StatusCode.Aborted, $"{what}: '{nodeName}' reports key '{result.KeyId}' epoch {result.Epoch} with another verification share");
        return new Repaired(nodeName, wallet.Id, epoch.Epoch, helpers.Select(h => h.Name).ToList());
    }
}
