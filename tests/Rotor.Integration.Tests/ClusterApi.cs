using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Rotor.Coordinator;
using Rotor.Rpc;
using Rotor.Rpc.Coordinator;
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
        var config = CoordinatorConfig.Load(Path.Combine(dir, "coordinator", CoordinatorConfig.FileName));
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        channel = RpcChannels.Create(File.ReadAllText(config.Resolve(config.EndpointFile)).Trim(), trust, config.Name);
        var invoker = channel.WithAdminToken(SecretFiles.Read(config.Resolve(config.AdminTokenFile)).Trim());
        Client = new Rpc.Coordinator.Coordinator.CoordinatorClient(invoker);
        Operations = new Rpc.Operations.Operations.OperationsClient(invoker);
    }

    public Rpc.Coordinator.Coordinator.CoordinatorClient Client { get; }

    /// <summary>The operations API (what rotor reshare, schedule, policy, backup and log use).</summary>
    public Rpc.Operations.Operations.OperationsClient Operations { get; }

    private static DateTime Deadline => DateTime.UtcNow.AddMinutes(2);

    public async Task CreateQuorum(string name, int threshold, params string[] members)
    {
        var req = new CreateQuorumRequest { Name = name, Threshold = (uint)threshold };
        req.Members.AddRange(members);
        await Client.CreateQuorumAsync(req, deadline: Deadline);
    }

    public async Task<WalletRecord> CreateWallet(string quorum, string scheme) =>
        (await Client.CreateWalletsAsync(new CreateWalletsRequest { Quorum = quorum, Scheme = scheme, Count = 1 }, deadline: Deadline)).Wallets[0];

    public async Task<IReadOnlyList<WalletRecord>> Wallets(string quorum = "") =>
        (await Client.ListWalletsAsync(new ListWalletsRequest { Quorum = quorum }, deadline: Deadline)).Wallets;

    public async Task<SignReply> Sign(string wallet, string signers = "", ulong? epoch = null, byte[]? message = null)
    {
        var req = new SignRequest { WalletId = wallet, Message = ByteString.CopyFrom(message ?? [0xc0, 0xff, 0xee]) };
        if (signers.Length > 0) req.Signers.AddRange(signers.Split(','));
        if (epoch is { } e) req.Epoch = e;
        return await Client.SignAsync(req, deadline: Deadline);
    }

    public async Task<ReshareReply> Reshare(string quorum, string reason, string members = "", int threshold = 0)
    {
        var req = new ReshareRequest { Quorum = quorum, Reason = reason, Threshold = (uint)threshold };
        if (members.Length > 0) req.Members.AddRange(members.Split(','));
        return await Client.ReshareAsync(req, deadline: Deadline);
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
