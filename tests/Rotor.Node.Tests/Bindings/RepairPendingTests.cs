using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;

namespace Rotor.Node.Tests.Bindings;

/// <summary>
/// Issue 10, point 4: a member stuck with its own pending shards of a committed epoch (a reshare or catch-up cut before
/// its commit) is repaired to that epoch instead of the repair failing on the pending row.
/// </summary>
public sealed class RepairPendingTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly NodeCluster cluster = new(3);

    public void Dispose() => cluster.Dispose();

    [Fact]
    public async Task A_member_holding_its_own_pending_shard_of_the_epoch_is_repaired_to_it()
    {
        var members = new[] { "cs1", "cs2", "cs3" }.Select(n => cluster[n]).ToArray();
        var summary = await cluster.KeygenAsync(members, 2);
        var start = new StartRequest { Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Reshare = new ReshareParams { EventId = "ev-1", NewThreshold = 2 } };
        start.Reshare.Wallets.Add(NodeCluster.Wire(summary));
        start.Reshare.Dealers.AddRange(members.Take(2).Select(m => NodeCluster.PartyOf(m)));
        start.Reshare.NewMembers.AddRange(members.Select(m => NodeCluster.PartyOf(m)));
        cluster.Approved(start);
        var outputs = await cluster.RunAsync(members, _ => start);
        var commit = new CommitRequest { EventId = "ev-1", Start = start };
        foreach (var (node, bytes) in outputs)
            foreach (var (scheme, hex) in JsonSerializer.Deserialize<ReshareOutput>(bytes, Json)!.Confirmations)
                commit.Certificate.Add(new Confirmation { Node = node, Scheme = scheme, Signed = ByteString.CopyFrom(Convert.FromHexString(hex)) });
        // Committed on cs1 and cs2; cs3 stopped before its commit: epoch 0 active, epoch 1 pending.
        foreach (var m in members.Take(2)) await m.Service.Commit(commit, new TestCallContext());
        Assert.Equal("w1@0:Active:; w1@1:Pending:ev-1", cluster["cs3"].Shards());

        var next = NodeCluster.Wire(JsonSerializer.Deserialize<ReshareOutput>(outputs["cs1"], Json)!.Keys.Single());
        var repair = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Repair = new RepairParams { Current = next, Target = NodeCluster.PartyOf(cluster["cs3"]) },
        };
        repair.Repair.Helpers.AddRange(members.Take(2).Select(m => NodeCluster.PartyOf(m)));
        repair.Authorization = cluster.Approve(new ActionRequest
        {
            Action = Actions.Repair, RequestId = ActionRequest.NewRequestId(), Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)),
            Quorum = "q", Wallets = [new ApprovedWallet("w1", 1)], RepairTarget = NodeCluster.Member(repair.Repair.Target, cluster["cs3"]),
        });
        await cluster.RunAsync(members, _ => repair);
        Assert.Equal("w1@1:Active:", cluster["cs3"].Shards());
        // The certificate arriving later changes nothing more.
        Assert.Empty((await cluster["cs3"].Service.Commit(commit, new TestCallContext())).Activated);
        Assert.Equal("w1@1:Active:", cluster["cs3"].Shards());
    }
}
