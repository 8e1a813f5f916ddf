using Grpc.Core;
using Google.Protobuf;
using Rotor.Crypto;
using Rotor.Protocols;
using Rotor.Rpc.Coordinator;

namespace Rotor.Coordinator;

/// <summary>The operator API (admin token checked by <see cref="Rotor.Rpc.AdminTokenInterceptor"/> before any method runs).</summary>
public sealed class CoordinatorService(Engine engine) : Rpc.Coordinator.Coordinator.CoordinatorBase
{
    public override Task<NodeRecord> AddNode(AddNodeRequest request, ServerCallContext context) =>
        Guard(async () => ToRecord(await engine.Nodes.AddNodeAsync(request.Name, request.Endpoint)));

    public override Task<NodeList> ListNodes(ListNodesRequest request, ServerCallContext context) => Guard(async () =>
    {
        await engine.Nodes.PollAllAsync();
        var list = new NodeList();
        list.Nodes.AddRange(engine.Registry.ListNodes().Select(ToRecord));
        return list;
    });

    public override Task<QuorumRecord> CreateQuorum(CreateQuorumRequest request, ServerCallContext context) =>
        Guard(() => Task.FromResult(ToRecord(engine.CreateQuorum(request.Name, (int)request.Threshold, request.Members.ToList()))));

    public override Task<QuorumStatus> GetQuorumStatus(QuorumStatusRequest request, ServerCallContext context) => Guard(async () =>
    {
        var q = engine.RequireQuorum(request.Name);
        var wallets = engine.Registry.ListWallets(q.Name);
        var nodes = wallets.SelectMany(w => engine.Registry.FindEpoch(w.Id, w.Epoch)!.Members).Concat(q.Members).Distinct().ToList();
        var entries = nodes.Select(n => engine.Registry.FindNode(n)!).ToList();
        var polled = (await Task.WhenAll(entries.Select(engine.Nodes.PollAsync))).Select((h, i) => (Node: entries[i].Name, Health: h)).ToList();
        var status = new QuorumStatus { Quorum = ToRecord(q) };
        foreach (var (node, h) in polled)
            status.Members.Add(new MemberStatus
            {
                Name = node, Online = h.Online, LastSeen = h.LastSeen,
                VaultHealthy = h.Status?.VaultHealthy ?? false, VaultMessage = h.Status?.VaultMessage ?? $"unknown: node offline ({h.Error})",
                MasterKey = h.Status?.MasterKey ?? "", Sealed = h.Status?.Sealed ?? false, SealReason = h.Status?.SealReason ?? "",
            });
        foreach (var w in wallets)
        {
            var ws = new WalletStatus { Wallet = ToRecord(w) };
            foreach (var (node, h) in polled)
            {
                var shards = h.Status?.Shards.Where(s => s.KeyId == w.Id).ToList() ?? [];
                var e = new WalletEpochOnNode { Node = node };
                e.ActiveEpochs.AddRange(shards.Where(s => s.State == "active").Select(s => s.Epoch));
                e.PendingEpochs.AddRange(shards.Where(s => s.State == "pending").Select(s => s.Epoch));
                ws.Nodes.Add(e);
            }
            status.Wallets.Add(ws);
        }
        return status;
    });

    public override Task<WalletList> CreateWallets(CreateWalletsRequest request, ServerCallContext context) => Guard(async () =>
    {
        var created = await engine.KeyGeneration.CreateWalletsAsync(request.Quorum, request.Scheme, request.Count == 0 ? 1 : (int)request.Count);
        var list = new WalletList();
        list.Wallets.AddRange(created.Select(ToRecord));
        return list;
    });

    public override Task<WalletList> ListWallets(ListWalletsRequest request, ServerCallContext context) => Guard(() =>
    {
        if (request.Quorum.Length > 0) engine.RequireQuorum(request.Quorum);
        var list = new WalletList();
        list.Wallets.AddRange(engine.Registry.ListWallets(request.Quorum.Length > 0 ? request.Quorum : null).Select(ToRecord));
        return Task.FromResult(list);
    });

    public override Task<SignReply> Sign(SignRequest request, ServerCallContext context) => Guard(async () =>
    {
        // Every signing request is logged: wallet, SHA-256 of the message, the signers asked for or used, and the result.
        using var approved = request.Authorization is { } a ? Governance.ActionContext.Use(a) : null;
        return SignReplyOf(await SignLoggedAsync(engine, request));
    });

    /// <summary>Signs, and logs every signing request (wallet, SHA-256 of the message, signers asked for or used, result) whichever way it came.</summary>
    internal static async Task<Signing.Signature> SignLoggedAsync(Engine engine, SignRequest request)
    {
        var message = request.Message.ToByteArray();
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(message));
        var quorum = engine.Registry.FindWallet(request.WalletId)?.Quorum;
        Signing.Signature s;
        try { s = await engine.Signing.SignAsync(request.WalletId, message, request.Signers.ToList(), request.HasEpoch ? request.Epoch : null, request.Path); }
        catch (Exception e) when (e is CoordinatorException or ProtocolException or ArgumentException or RotorCryptoException)
        {
            engine.Audit?.Invoke(Audit.AuditKinds.SignFailed, quorum, request.WalletId, new
            {
                wallet = request.WalletId, message_sha256 = digest, message_bytes = message.Length, signers = request.Signers.ToList(),
                epoch = request.HasEpoch ? request.Epoch : (ulong?)null, path = request.Path.Length > 0 ? request.Path : null, approved = request.Authorization is not null, result = "failed", error = e.Message,
            });
            throw;
        }
        engine.Audit?.Invoke(Audit.AuditKinds.SignCompleted, quorum, request.WalletId, new
        {
            wallet = s.Wallet.Id, message_sha256 = digest, message_bytes = message.Length, epoch = s.Epoch, signers = s.Signers,
            path = s.Path, approved = request.Authorization is not null, result = "signed", signature = Convert.ToHexStringLower(s.Bytes),
        });
        return s;
    }

    internal static SignReply SignReplyOf(Signing.Signature s)
    {
        var reply = new SignReply
        {
            WalletId = s.Wallet.Id, Scheme = s.Wallet.Scheme, Epoch = s.Epoch, Message = ByteString.CopyFrom(s.Message),
            Signature = ByteString.CopyFrom(s.Bytes), PublicKey = s.PublicKey, Path = s.Path ?? "",
        };
        reply.Signers.AddRange(s.Signers);
        if (s.RecoveryId is { } v) reply.RecoveryId = (uint)v;
        if (s.RoundTrips is { } rt) reply.RoundTrips = (uint)rt;
        return reply;
    }

    public override Task<ReshareReply> Reshare(ReshareRequest request, ServerCallContext context) => Guard(async () =>
    {
        var r = await engine.ReshareAsync(request.Quorum, request.Wallets.ToList(), request.Reason, request.Members.ToList(), (int)request.Threshold);
        var reply = new ReshareReply { EventId = r.Id, OldEpoch = r.Wallets.Min(w => w.OldEpoch), NewEpoch = r.Wallets.Max(w => w.OldEpoch) + 1, Status = r.Status };
        reply.Wallets.AddRange(r.Wallets.Select(w => w.Wallet));
        return reply;
    });

    public override Task<EventList> ListEvents(ListEventsRequest request, ServerCallContext context) => Guard(() =>
    {
        var list = new EventList();
        foreach (var e in engine.Registry.ListEvents())
        {
            var r = new EventRecord
            {
                EventId = e.Id, Quorum = e.Quorum, Reason = e.Reason, Status = e.Status, OldThreshold = (uint)e.OldThreshold,
                NewThreshold = (uint)e.NewThreshold, Created = e.Created, Error = e.Error ?? "",
            };
            r.Wallets.AddRange(e.Wallets.Select(w => w.Wallet));
            r.OldMembers.AddRange(e.OldMembers);
            r.NewMembers.AddRange(e.NewMembers);
            list.Events.Add(r);
        }
        return Task.FromResult(list);
    });

    private NodeRecord ToRecord(NodeEntry n)
    {
        var h = engine.Nodes.HealthOf(n.Name);
        return new NodeRecord
        {
            Name = n.Name, Endpoint = n.Endpoint, Index = n.Index, SigningKey = n.SigningKey, AgreementKey = n.AgreementKey,
            LastSeen = Math.Max(n.LastSeen, h.LastSeen), Online = h.Online, Certificate = ByteString.CopyFrom(n.Certificate),
            MasterKey = h.Status?.MasterKey ?? "", Sealed = h.Status?.Sealed ?? false, SealReason = h.Status?.SealReason ?? "",
        };
    }

    private static QuorumRecord ToRecord(QuorumEntry q)
    {
        var r = new QuorumRecord { Name = q.Name, Threshold = (uint)q.Threshold };
        r.Members.AddRange(q.Members);
        return r;
    }

    private WalletRecord ToRecord(WalletEntry w) => WalletRecordOf(engine, w);

    internal static WalletRecord WalletRecordOf(Engine engine, WalletEntry w)
    {
        var (key, address) = Engine.Display(w);
        var epoch = engine.Registry.FindEpoch(w.Id, w.Epoch)!;
        var r = new WalletRecord { WalletId = w.Id, Scheme = w.Scheme, Quorum = w.Quorum, PublicKey = key, Address = address, Epoch = w.Epoch, Threshold = (uint)epoch.Threshold,
            ChainCode = w.ChainCode ?? "", InternalKey = w.InternalKey ?? "" };
        r.Members.AddRange(epoch.Members);
        return r;
    }

    /// <summary>Maps refusals to gRPC errors whose message names what is wrong.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try { return await action(); }
        catch (CoordinatorException e) { throw new RpcException(new Status(e.Code, e.Message)); }
        catch (ProtocolException e) { throw new RpcException(new Status(StatusCode.Aborted, e.Message)); }
        catch (Exception e) when (e is ArgumentException or RotorCryptoException or UnauthorizedAccessException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (Exception e) when (e is not RpcException)
        {
            Console.Error.WriteLine($"unexpected error: {e}");
            throw new RpcException(new Status(StatusCode.Internal, $"unexpected error in the coordinator: {e.Message}"));
        }
    }
}
