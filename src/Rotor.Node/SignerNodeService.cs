using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Rpc.Node;
using Rotor.Rpc.Sessions;

namespace Rotor.Node;

/// <summary>
/// The node's gRPC service. Opens every inbound envelope (recipient, session, sender's signature) before a
/// session sees it, seals every outbound message to its recipient, and turns refusals into gRPC errors whose
/// message names what failed. A failed session is closed and its secrets wiped; the vault is untouched.
/// </summary>
public sealed class SignerNodeService(NodeState node, byte[] certificate) : SignerNode.SignerNodeBase
{
    public override Task<NodeInfo> GetInfo(GetInfoRequest request, ServerCallContext context) => Task.FromResult(Info());

    private static readonly ByteString BootId = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private NodeInfo Info() => new()
    {
        Name = node.Name, Certificate = ByteString.CopyFrom(certificate), Policy = ByteString.CopyFrom(node.Governance.Policy.Encode()),
    };

    /// <summary>Replaces the pinned governance policy once the node has verified the change's approvals under the current one.</summary>
    public override Task<NodeInfo> UpdatePolicy(PolicyUpdate request, ServerCallContext context) => Task.FromResult(Guard(() =>
    {
        node.Governance.Update(request.Authorization);
        return Info();
    }));

    public override Task<NodeStatus> GetStatus(GetStatusRequest request, ServerCallContext context) => Task.FromResult(node.WithVault(v =>
    {
        var health = v.Health();
        var status = new NodeStatus { Name = node.Name, VaultHealthy = health is null, VaultMessage = health ?? "ok", BootId = BootId };
        foreach (var s in v.List())
            status.Shards.Add(new Rotor.Rpc.Node.ShardInfo
            {
                KeyId = s.KeyId, Epoch = s.Epoch, State = s.State == ShardState.Active ? "active" : "pending", EventId = s.EventId ?? "",
            });
        return status;
    }));

    public override async Task<StepReply> Start(StartRequest request, ServerCallContext context)
    {
        INodeSession session = Guard<INodeSession>(() => request.KindCase switch
        {
            StartRequest.KindOneofCase.Sign => new SignSession(node, request.Sign, request.Nonce.Span),
            StartRequest.KindOneofCase.Dkg => new DkgSession(node, request.Dkg, request.Nonce.Span),
            StartRequest.KindOneofCase.Repair => new RepairSession(node, request.Repair, request.Nonce.Span),
            StartRequest.KindOneofCase.Reshare => new ReshareSession(node, request.Reshare, request.Nonce.Span),
            _ => throw new SessionRefusedException($"unsupported session kind {request.KindCase}"),
        });
        Guard(() => Authorize(request, session), session, own: true);
        var slot = node.Add(session);
        await slot.Gate.WaitAsync(context.CancellationToken);
        try { return Run(session, s => s.Start()); }
        finally
        {
            slot.Touch(node.Now);
            slot.Gate.Release();
        }
    }

    public override async Task<StepReply> Step(StepRequest request, ServerCallContext context)
    {
        SessionSlot? found;
        try { found = node.Find(request.SessionId.Span); }
        catch (SessionExpiredException e) { throw new RpcException(new Status(StatusCode.NotFound, $"node '{node.Name}': {e.Message}")); }
        var slot = found
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"node '{node.Name}' has no open session {Convert.ToHexStringLower(request.SessionId.Span)[..Math.Min(16, request.SessionId.Length * 2)]}"));
        await slot.Gate.WaitAsync(context.CancellationToken);
        try
        {
            // Closed while this step waited (expired, aborted or ended): nothing of it is left to step.
            if (slot.Closed)
                throw new RpcException(new Status(StatusCode.NotFound, $"node '{node.Name}': session {Convert.ToHexStringLower(request.SessionId.Span)[..Math.Min(16, request.SessionId.Length * 2)]} was closed"));
            var session = slot.Session;
            var inbound = Guard(() => request.Envelopes.Select(e => OpenEnvelope(session, e.Span)).ToList(), session);
            var reply = Run(session, s => s.Step(inbound, request.CoordinatorInput.Span));
            // Test crash point: the node dies right after its signed confirmation has left.
            if (session is ReshareSession { IsNewHolder: true } && reply.Done)
                context.GetHttpContext().Response.OnCompleted(() => { CrashPoint.Hit("after-confirming"); return Task.CompletedTask; });
            return reply;
        }
        finally
        {
            slot.Touch(node.Now);
            slot.Gate.Release();
        }
    }

    /// <summary>
    /// The node's own check of the operators' approval of what the session does, before it does anything: refuses a
    /// missing, insufficient, expired, replayed or mismatched approval (<see cref="Governance.NodeGovernance"/>).
    /// </summary>
    private bool Authorize(StartRequest request, INodeSession session)
    {
        var g = node.Governance;
        switch (session)
        {
            case DkgSession dkg: g.CheckDkg(request.Dkg, request.Authorization, dkg.Parties); break;
            case SignSession sign: sign.Approval = g.CheckSign(request.Sign, request.Authorization, sign.Scheme).Request; break;
            case ReshareSession reshare: g.CheckReshare(request.Reshare, request.Authorization, reshare.Parties, reshare.IsNewHolder); break;
            case RepairSession repair: g.CheckRepair(request.Repair, request.Authorization, repair.Parties, repair.IsTarget); break;
            default: throw new SessionRefusedException($"unsupported session kind {request.KindCase}");
        }
        return true;
    }

    /// <summary>
    /// Commits a reshare event: verifies the certificate against the event rebuilt from its start request (every
    /// new holder's signature under the identity key in its CA-issued certificate, one transcript hash), checks it
    /// confirms this node's own transcript when it holds pending shards, then in one vault transaction activates
    /// them and erases every older epoch of the event's wallets. Idempotent.
    /// </summary>
    public override async Task<SettleReply> Commit(CommitRequest request, ServerCallContext context)
    {
        // One commit at a time: a repeated commit (settlement retries) waits, then finds nothing left to do.
        await commitGate.WaitAsync(context.CancellationToken);
        try { return CommitNow(request); }
        finally { commitGate.Release(); }
    }

    private readonly SemaphoreSlim commitGate = new(1, 1);

    private SettleReply CommitNow(CommitRequest request) => Guard(() =>
    {
        var eraseBelow = request.Wallets.ToDictionary(w => w.KeyId, w => w.Epoch);
        if (!node.WithVault(v => v.HasWorkFor(request.EventId, eraseBelow))) return new SettleReply();
        var certificates = ReshareSetup.VerifyCertificate(request, party => node.Trust.NodeIdentity(party.Certificate.Span, party.Name));
        var pending = node.WithVault(v => v.PendingEvents()).FirstOrDefault(e => e.EventId == request.EventId);
        if (pending is not null)
        {
            var confirmed = certificates.OrderBy(c => c.Key).SelectMany(c => c.Value.TranscriptHash).ToArray();
            if (!pending.SessionId.AsSpan().SequenceEqual(request.SessionId.Span) || !pending.TranscriptHash.AsSpan().SequenceEqual(confirmed))
                throw new SessionRefusedException($"the commit certificate of reshare {request.EventId} does not confirm this node's transcript");
        }
        CrashPoint.Hit("before-activating");
        var (activated, erased) = node.WithVault(v => v.Activate(request.EventId, eraseBelow));
        node.Presigns.Forget(activated.Concat(erased).Select(s => s.KeyId).ToHashSet());
        var reply = new SettleReply();
        reply.Activated.AddRange(activated.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        reply.Erased.AddRange(erased.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        return reply;
    });

    /// <summary>Discards the pending shards of a failed reshare event; the active epochs stay.</summary>
    public override Task<SettleReply> Discard(DiscardRequest request, ServerCallContext context) => Task.FromResult(Guard(() =>
    {
        var reply = new SettleReply();
        reply.Discarded.AddRange(node.WithVault(v => v.Discard(request.EventId)).Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        return reply;
    }));

    public override Task<AbortReply> Abort(AbortRequest request, ServerCallContext context)
    {
        node.Remove(request.SessionId.Span);
        return Task.FromResult(new AbortReply());
    }

    private PeerMessage OpenEnvelope(INodeSession session, ReadOnlySpan<byte> bytes)
    {
        var envelope = Envelope.Decode(bytes);
        var parties = session is IHasParties p ? p.Parties : null;
        var plaintext = envelope.Open(node.Identity, node.Name, session.Id, name => parties?.KeysOf(name));
        return new PeerMessage(envelope.Sender, envelope.Label, plaintext);
    }

    private StepReply Run(INodeSession session, Func<INodeSession, StepResult> step)
    {
        var result = Guard(() => step(session), session);
        var reply = new StepReply { SessionId = ByteString.CopyFrom(session.Id), Output = ByteString.CopyFrom(result.Output), Done = result.Done };
        if (result.Presigned is { } presigned) reply.Presigned.AddRange(presigned.Select(c => ByteString.CopyFrom(c)));
        var parties = (session as IHasParties)?.Parties;
        foreach (var m in result.Messages)
        {
            var keys = parties?.KeysOf(m.Peer) ?? throw new InvalidOperationException($"no identity keys for '{m.Peer}'");
            reply.Envelopes.Add(ByteString.CopyFrom(Envelope.Seal(node.Identity, node.Name, m.Peer, keys, session.Id, m.Label, m.Payload).Encode()));
        }
        if (result.Done) node.Remove(session.Id);
        return reply;
    }

    /// <summary>Runs <paramref name="action"/>; a refusal closes the session (if any) and becomes a gRPC error naming the cause.</summary>
    private T Guard<T>(Func<T> action, INodeSession? session = null, bool own = false)
    {
        try { return action(); }
        catch (Exception e) when (Describe(e) is { } status)
        {
            if (own) session?.Dispose();
            else if (session is not null) node.Remove(session.Id);
            throw new RpcException(new Status(status, $"node '{node.Name}': {e.Message}"));
        }
    }

    private static StatusCode? Describe(Exception e) => e switch
    {
        EnvelopeException => StatusCode.PermissionDenied,
        Protocols.Governance.ApprovalException => StatusCode.PermissionDenied,
        UnauthorizedAccessException => StatusCode.PermissionDenied,
        ProtocolException => StatusCode.Aborted,
        SessionRefusedException => StatusCode.FailedPrecondition,
        VaultException => StatusCode.FailedPrecondition,
        ArgumentException or RotorCryptoException => StatusCode.InvalidArgument,
        _ => null,
    };
}

/// <summary>A session whose parties exchange envelopes.</summary>
public interface IHasParties
{
    SessionParties Parties { get; }
}
