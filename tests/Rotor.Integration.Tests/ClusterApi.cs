using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Rotor.Coordinator;
using Rotor.Rpc;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests;

/// <summary>
/// The coordinator's operator API called from the test process over TLS with the admin token, as the CLI does.
/// Most steps go through it rather than through a new CLI process each time (the CLI's own contract is tested
/// separately); the coordinator and nodes are always real processes.
/// </summary>
public sealed class ClusterApi : IDisposable
{
    private readonly GrpcChannel channel;

    public ClusterApi(string dir)
    {
        OperatorKey = Path.Combine(dir, "operator.key");
        var config = CoordinatorConfig.Load(Path.Combine(dir, "coordinator", CoordinatorConfig.FileName));
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        channel = RpcChannels.Create(File.ReadAllText(config.Resolve(config.EndpointFile)).Trim(), trust, config.Name);
        var invoker = channel.WithAdminToken(SecretFiles.Read(config.Resolve(config.AdminTokenFile)).Trim());
        Client = new Rpc.Coordinator.Coordinator.CoordinatorClient(invoker);
        Requests = new Rpc.Requests.Requests.RequestsClient(invoker);
        Operations = new Rpc.Operations.Operations.OperationsClient(invoker);
    }

    public Rpc.Coordinator.Coordinator.CoordinatorClient Client { get; }

    public Rpc.Requests.Requests.RequestsClient Requests { get; }

    public Rpc.Operations.Operations.OperationsClient Operations { get; }

    /// <summary>The cluster's local operator key (cluster up without --approvers pins it, one approval per action).</summary>
    public string OperatorKey { get; }

    /// <summary>Submits an action as a request and approves it with each key file (default: the cluster's operator key); returns the request as it stands.</summary>
    public async Task<RequestRecord> Submit(ActionSpec spec, params string[] keyFiles)
    {
        var record = await Requests.SubmitAsync(spec, deadline: Deadline);
        foreach (var key in keyFiles.Length == 0 ? [OperatorKey] : keyFiles)
        {
            if (record.Status != "awaiting-approval") break;
            record = await Approve(record, key);
        }
        return record;
    }

    /// <summary>Signs the request's description with one operator key file and submits the approval.</summary>
    public async Task<RequestRecord> Approve(RequestRecord record, string keyFile)
    {
        var seed = OperatorKeyFiles.Seed(keyFile);
        var approval = OperatorKeys.Approve(seed, record.Description.Span);
        return await Requests.ApproveAsync(new ApproveRequest
        {
            Id = record.Id, Key = ByteString.CopyFrom(approval.Key), Signature = ByteString.CopyFrom(approval.Signature),
        }, deadline: Deadline);
    }

    /// <summary>
    /// Runs an action approved by the cluster's operator: its result, or (as the old direct calls did) an
    /// <see cref="RpcException"/> carrying the error when it failed.
    /// </summary>
    public async Task<ActionResult> Approved(ActionSpec spec)
    {
        var r = await Submit(spec);
        return r.Status switch
        {
            "done" => r.Result,
            "failed" => throw new RpcException(new Status(StatusCode.Aborted, r.Error)),
            _ => throw new InvalidOperationException($"request {r.Id} is {r.Status} ({r.Approvals.Count} of {r.ApprovalsNeeded} approvals)"),
        };
    }

    private static DateTime Deadline => DateTime.UtcNow.AddMinutes(2);

    public async Task CreateQuorum(string name, int threshold, params string[] members)
    {
        var req = new CreateQuorumRequest { Name = name, Threshold = (uint)threshold };
        req.Members.AddRange(members);
        await Client.CreateQuorumAsync(req, deadline: Deadline);
    }

    public async Task<WalletRecord> CreateWallet(string quorum, string scheme) =>
        (await Approved(new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = quorum, Scheme = scheme, Count = 1 } })).Wallets.Wallets[0];

    public async Task<IReadOnlyList<WalletRecord>> Wallets(string quorum = "") =>
        (await Client.ListWalletsAsync(new ListWalletsRequest { Quorum = quorum }, deadline: Deadline)).Wallets;

    public async Task<SignReply> Sign(string wallet, string signers = "", ulong? epoch = null, byte[]? message = null)
    {
        var req = new SignRequest { WalletId = wallet, Message = ByteString.CopyFrom(message ?? [0xc0, 0xff, 0xee]) };
        if (signers.Length > 0) req.Signers.AddRange(signers.Split(','));
        if (epoch is { } e) req.Epoch = e;
        return (await Approved(new ActionSpec { Sign = req })).Signature;
    }

    /// <summary>A reshare run now as an approved request (reason: security-policy, with <paramref name="reason"/> as its note); the old reply's fields.</summary>
    public async Task<ReshareReply> Reshare(string quorum, string reason, string members = "", int threshold = 0)
    {
        var req = new Rpc.Operations.ReshareSpec { Quorum = quorum, Reason = "security-policy", Note = reason, Threshold = (uint)threshold };
        if (members.Length > 0) req.Members.AddRange(members.Split(','));
        var r = (await Approved(new ActionSpec { Reshare = req })).Reshare;
        var reply = new ReshareReply { EventId = r.EventId, OldEpoch = r.Wallets.Min(w => w.OldEpoch), NewEpoch = r.Wallets.Max(w => w.NewEpoch), Status = r.Status };
        reply.Wallets.AddRange(r.Wallets.Select(w => w.Wallet));
        return reply;
    }

    public async Task<QuorumStatus> Status(string quorum) =>
        await Client.GetQuorumStatusAsync(new QuorumStatusRequest { Name = quorum }, deadline: Deadline);

    /// <summary>The refusal message of a call that must fail.</summary>
    public static async Task<string> Refused(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail), "a refusal must say why");
        return e.Status.Detail;
    }

    public void Dispose() => channel.Dispose();
}

/// <summary>Reads an operator key file (clear, as cluster up and rotor operator keygen without a passphrase write it).</summary>
public static class OperatorKeyFiles
{
    public static byte[] Seed(string path) =>
        Convert.FromHexString(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!["seed"]!.GetValue<string>());
}
