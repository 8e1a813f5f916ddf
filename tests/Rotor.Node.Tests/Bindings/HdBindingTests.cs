using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;

namespace Rotor.Node.Tests.Bindings;

/// <summary>The derivation path of a signature is bound by the approval: a node signs only for the approved path.</summary>
public sealed class HdBindingTests : IDisposable
{
    private readonly NodeCluster cluster = new(3);

    public void Dispose() => cluster.Dispose();

    private StartRequest SignStart(string path)
    {
        var start = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Sign = new SignParams { KeyId = "w1", Epoch = 0, Message = ByteString.CopyFrom("pay"u8), Path = path },
        };
        start.Sign.Signers.Add(NodeCluster.PartyOf(cluster["cs1"]));
        start.Sign.Signers.Add(NodeCluster.PartyOf(cluster["cs2"]));
        return start;
    }

    private static ActionRequest Description(string scheme, string? path) => new()
    {
        Action = Actions.Sign, RequestId = ActionRequest.NewRequestId(), Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)),
        Quorum = "q", Scheme = scheme, Wallets = [new ApprovedWallet("w1", null)], Message = ApprovedMessage.Of("pay"u8), Path = path,
    };

    private StartRequest Approve(StartRequest start, string scheme)
    {
        var approved = start.Clone();
        approved.Authorization = cluster.Approve(Description(scheme, start.Sign.Path.Length > 0 ? start.Sign.Path : null));
        return approved;
    }

    private static async Task<string> Refused(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).Status.Detail;

    [Theory]
    [InlineData("bip340")]
    [InlineData("secp256k1")]
    public async Task A_node_signs_only_for_the_approved_path(string scheme)
    {
        var members = new[] { cluster["cs1"], cluster["cs2"], cluster["cs3"] };
        var summary = await cluster.KeygenAsync(members, 2, scheme);
        Assert.Equal(64, summary.ChainCode.Length);
        Assert.Equal(scheme == "bip340" ? 66 : 0, summary.InternalKey.Length);
        var node = cluster["cs1"];
        var start = SignStart("m/0/7");

        // approved for another path, for the root, or for the path written otherwise than canonically: refused
        foreach (var approvedPath in new string?[] { "m/0/8", null, "m/00/7" })
        {
            var approval = cluster.Approve(Description(scheme, approvedPath));
            var wrong = start.Clone();
            wrong.Authorization = approval;
            Assert.Contains("derivation path", await Refused(() => node.Service.Start(wrong, new TestCallContext())));
        }
        // approved for the root but asked for a path (or the other way round): refused
        var rootApproved = start.Clone();
        rootApproved.Authorization = cluster.Approve(Description(scheme, null));
        Assert.Contains("derivation path", await Refused(() => node.Service.Start(rootApproved, new TestCallContext())));

        // a hardened path is refused by name
        Assert.Contains("hardened", await Refused(() => node.Service.Start(Approve(SignStart("m/0'/7"), scheme), new TestCallContext())));

        // approved for exactly this path: the node commits (round 1 of signing for the child)
        var reply = await node.Service.Start(Approve(start, scheme), new TestCallContext());
        Assert.False(reply.Done);
        var commitments = JsonSerializer.Deserialize<SigningCommitmentsData>(reply.Output.ToByteArray(), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        Assert.NotNull(commitments);
    }
}
