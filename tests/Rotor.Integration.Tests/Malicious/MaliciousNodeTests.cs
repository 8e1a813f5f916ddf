using Authorization = Rotor.Rpc.Node.Authorization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Envelopes;
using Rotor.Protocols.Governance;
using Rotor.Rpc;
using Rotor.Rpc.Node;
using Rotor.Rpc.NodeOps;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests.Malicious;

/// <summary>
/// Issue 9, "Done when", second bullet: one malicious node (cs3), holding its own vault, identity keys and TLS
/// certificate and every approval relayed to it, tries what a single node can. Its own identity key is no approver;
/// an approval made for another node does not work for it; it cannot call another node at all.
/// </summary>
[Collection(MaliciousCollection.Name)]
public sealed class MaliciousNodeTests(MaliciousCluster f)
{
    private MaliciousCoordinator Evil => f.Evil;
    private static readonly string[] Signers = ["cs1", "cs2"];

    /// <summary>cs3 approving with its node identity key (the Ed25519 key its certificate carries).</summary>
    private Approver Cs3 => new("cs3 identity", f.Cs3IdentitySeed);

    private async Task<T> Unchanged<T>(Func<Task<T>> attack)
    {
        var before = await Evil.Snapshot();
        var result = await attack();
        (await Evil.Snapshot()).AssertSameAs(before);
        return result;
    }

    [Fact]
    public async Task A_nodes_own_identity_key_cannot_approve()
    {
        Assert.Equal(Evil.Node("cs3").SigningKey, Cs3.PublicKey);
        var m = Encoding.UTF8.GetBytes("pay cs3's owner " + Guid.NewGuid());
        var sign = Cs3.Approve(f.Requests.Sign(f.Ed, m));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, sign), Signers)), Signers,
            ApprovalFault.Insufficient, "does not pin");

        var move = Cs3.Approve(f.Requests.Reshare(Actions.Restructure, MaliciousCluster.Quorum, ["cs3"], 1));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Reshare([f.Ed, f.Secp], Signers, ["cs3"], 1, move), MaliciousCluster.All)),
            MaliciousCluster.All, ApprovalFault.Insufficient);

        var pinned = await Evil.PinnedPolicy("cs1");
        var addSelf = Cs3.Approve(Requests.PolicyChange(pinned with
        {
            Serial = pinned.Serial + 1,
            Approvers = [.. pinned.Approvers, new Rotor.Protocols.Governance.Approver("cs3", Cs3.PublicKey)],
        }));
        foreach (var node in MaliciousCluster.All)
        {
            var e = await Unchanged(() => Assert.ThrowsAsync<RpcException>(() => Evil.UpdatePolicy(node, addSelf)));
            Refusal.Check(e, node, ApprovalFault.Insufficient, "does not pin");
        }
    }

    [Fact]
    public async Task A_node_cannot_use_an_approval_made_for_another_node()
    {
        // cs1's backup export was approved; cs3 got hold of the approval (it is relayed in clear) and asks for its own.
        // To the recipient every node pins, so that the approval is the only thing wrong.
        var recipient = Evil.PinnedRecipient;
        var forCs1 = f.Operator.Approve(Requests.BackupExport(["cs1"], [f.Ed], recipient));
        var request = new NodeBackupRequest { BackupId = MaliciousCoordinatorTests.BackupId(), Recipient = ByteString.CopyFrom(recipient), Authorization = forCs1 };
        request.Wallets.Add(f.Ed);
        var e = await Unchanged(() => Assert.ThrowsAsync<RpcException>(() => Evil.Backup("cs3", request)));
        Refusal.Check(e, "cs3", ApprovalFault.Mismatched, "covers nodes [cs1], not 'cs3'");

        var restoreCs1 = f.Operator.Approve(Requests.New(Actions.Restore) with { Nodes = ["cs1"] });
        var restore = new NodeRestoreRequest { File = ByteString.CopyFrom(new byte[64]), MemberIndex = Evil.Node("cs3").Index, Authorization = restoreCs1 };
        e = await Unchanged(() => Assert.ThrowsAsync<RpcException>(() => Evil.Operations("cs3").RestoreBackupAsync(restore).ResponseAsync));
        Refusal.Check(e, "cs3", ApprovalFault.Mismatched, "not 'cs3'");

        // A repair approved for cs2 presented as the repair of cs3.
        var forCs2 = f.Operator.Approve(f.Requests.Repair(f.Ed, "cs2"));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Repair(f.Ed, "cs3", Signers, approval: forCs2), Signers)), Signers,
            ApprovalFault.Mismatched, "repair target");
    }

    [Fact]
    public async Task A_node_cannot_call_another_node()
    {
        // cs3's own TLS certificate and key: the other nodes accept only the coordinator as a client.
        using var cs3 = ClusterCa.LoadLeaf(Path.Combine(f.Cluster.Dir, "nodes", "cs3", "tls"), "cs3");
        foreach (var target in Signers)
        {
            using var channel = RpcChannels.Create(Evil.Node(target).Endpoint, Evil.Trust, target, cs3);
            var client = new SignerNode.SignerNodeClient(channel);
            var e = await Unchanged(() => Assert.ThrowsAsync<RpcException>(async () =>
                await client.GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10))));
            Assert.True(e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.PermissionDenied, $"{target}: {e.StatusCode} {e.Status.Detail}");
        }
    }
}
