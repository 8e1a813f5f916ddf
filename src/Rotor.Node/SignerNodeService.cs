using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Resharing;
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
        // A sealed node cannot read its pinned policy (it is in the vault): it answers with its name and certificate only.
        Name = node.Name, Certificate = ByteString.CopyFrom(certificate), Policy = node.Sealed ? ByteString.Empty : ByteString.CopyFrom(node.Governance.Policy.Encode()),
    };

    /// <summary>Replaces the pinned governance policy once the node has verified the change's approvals under the current one.</summary>
    public override Task<NodeInfo> UpdatePolicy(PolicyUpdate request, ServerCallContext context) => Task.FromResult(Guard(() =>
    {
        node.Governance.Update(request.Authorization);
        return Info();
    }));

    public override Task<NodeStatus> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        if (node.Sealed)
        {
            var sealedStatus = new NodeStatus
            {
                Name = node.Name, VaultHealthy = false, VaultMessage = $"sealed: {node.SealReason}",
                Sealed = true, SealReason = node.SealReason ?? "", MasterKey = node.MasterKey, BootId = BootId,
            };
            if (node.VaultPath is { } path) AddShards(sealedStatus, ShareVault.ListWithoutKey(path));
            return Task.FromResult(sealedStatus);
        }
        try
        {
            return Task.FromResult(node.WithVault(v =>
            {
                var health = v.Health();
                var status = new NodeStatus { Name = node.Name, VaultHealthy = health is null, VaultMessage = health ?? "ok", MasterKey = node.MasterKey, BootId = BootId };
                AddShards(status, v.List());
                return status;
            }));
        }
        catch (VaultException) when (node.Sealed) { return GetStatus(request, context); }
    }

    private static void AddShards(NodeStatus status, IEnumerable<Vault.ShardInfo> shards)
    {
        foreach (var s in shards)
            status.Shards.Add(new Rotor.Rpc.Node.ShardInfo
            {
                KeyId = s.KeyId, Epoch = s.Epoch, State = s.State == ShardState.Active ? "active" : "pending", EventId = s.EventId ?? "",
            });
    }

    public override async Task<StepReply> Start(StartRequest request, ServerCallContext context)
    {
        INodeSession session = Guard<INodeSession>(() => request.KindCase switch
        {
            StartRequest.KindOneofCase.Sign => SignSessions.Open(node, request.Sign, request.Nonce.Span),
            StartRequest.KindOneofCase.EcdsaSetup => new EcdsaSetupNodeSession(node, request.EcdsaSetup, request.Nonce.Span),
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
            // An ECDSA presign (round 1 ahead of the message) uses no share and reveals nothing: its approval comes with
            // the signing request bound to it at its first step, and is checked there.
            case EcdsaSignNodeSession { IsPresign: true }: break;
            case EcdsaSignNodeSession sign: sign.Approval = g.CheckSign(request.Sign, request.Authorization, sign.Scheme).Request; break;
            // The pair setup needs no approval of its own: it moves no key and uses no share (see EcdsaSetupParams).
            case EcdsaSetupNodeSession: break;
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
        await CrashPoint.HangIf("hang-in-commit", context.CancellationToken);
        // One commit at a time: a repeated commit (settlement retries) waits, then finds nothing left to do.
        await commitGate.WaitAsync(context.CancellationToken);
        try { return CommitNow(request); }
        finally { commitGate.Release(); }
    }

    private readonly SemaphoreSlim commitGate = new(1, 1);

    private SettleReply CommitNow(CommitRequest request) => Guard(() =>
    {
        if (request.Start?.KindCase == StartRequest.KindOneofCase.Dkg) return CommitKeyGeneration(request);
        var start = request.Start?.Reshare ?? throw new ArgumentException($"the commit certificate of reshare {request.EventId} carries no reshare start request");
        // A cheap look before any verification (unverified, it only decides that there is nothing to do): pending shards of
        // the event, or shards of its keys older than their new epochs. CommitRequest.wallets is never read.
        var newEpochs = start.Wallets.GroupBy(w => w.KeyId).ToDictionary(g => g.Key, g => g.Max(w => w.Epoch) + 1);
        if (!node.WithVault(v => v.HasWorkFor(request.EventId, newEpochs))) return new SettleReply();
        var certificates = ReshareSetup.VerifyCertificate(request, party => node.Trust.NodeIdentity(party.Certificate.Span, party.Name));
        var sessionId = ReshareSession.SessionIdOf(node, request.Start!);
        var pending = node.WithVault(v => v.PendingEvents()).FirstOrDefault(e => e.EventId == request.EventId);
        if (pending is not null)
        {
            var confirmed = certificates.OrderBy(c => c.Key).SelectMany(c => c.Value.TranscriptHash).ToArray();
            if (!pending.SessionId.AsSpan().SequenceEqual(sessionId) || !pending.TranscriptHash.AsSpan().SequenceEqual(confirmed))
                throw new SessionRefusedException($"the commit certificate of reshare {request.EventId} does not confirm this node's transcript");
        }
        var eraseBelow = EraseBelow(request.EventId, certificates);
        CrashPoint.Hit("before-activating");
        var (activated, erased) = node.WithVault(v => v.Activate(request.EventId, eraseBelow));
        var superseded = node.WithVault(v => v.DiscardSuperseded(
            certificates.Values.SelectMany(c => c.Event.Plans).ToDictionary(p => p.KeyId, p => p.NewEpoch), request.EventId));
        var changed = activated.Concat(erased).Select(s => s.KeyId).ToHashSet();
        node.Presigns.Forget(changed);
        // ECDSA presigns of those keys were made with the old epoch's material: close them now (they could not sign anyway).
        node.CloseWhere(s => s is EcdsaSignNodeSession e && changed.Any(e.IsUnusedPresignOf));
        var reply = new SettleReply();
        reply.Activated.AddRange(activated.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        reply.Erased.AddRange(erased.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        reply.Discarded.AddRange(superseded.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        return reply;
    });

    /// <summary>
    /// Commits a key generation (<see cref="DkgCommit"/>): the certificate must be of this node's own pending shards (the
    /// session its start request gives here) and, verified, confirm every member's signature over the transcript hash
    /// stored with them; then they become active, in one vault transaction. Idempotent: nothing pending, nothing to do.
    /// </summary>
    private SettleReply CommitKeyGeneration(CommitRequest request)
    {
        var reply = new SettleReply();
        var pending = node.WithVault(v => v.PendingEvents()).FirstOrDefault(e => e.EventId == request.EventId);
        if (pending is null) return reply;
        var sessionId = DkgSession.SessionIdOf(node, request.Start);
        if (!pending.SessionId.AsSpan().SequenceEqual(sessionId))
            throw new SessionRefusedException($"the commit certificate of key generation {request.EventId} is of another session than this node's pending shards");
        var confirmed = DkgCommit.Verify(request, sessionId, party => node.Trust.NodeIdentity(party.Certificate.Span, party.Name));
        if (!pending.TranscriptHash.AsSpan().SequenceEqual(confirmed))
            throw new SessionRefusedException($"the commit certificate of key generation {request.EventId} does not confirm this node's key packages");
        CrashPoint.Hit("dkg-before-activating");
        var (activated, _) = node.WithVault(v => v.Activate(request.EventId, new Dictionary<string, ulong>()));
        reply.Activated.AddRange(activated.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        return reply;
    }

    /// <summary>
    /// What a verified certificate allows this node to erase: for each wallet of the event, the epochs older than its new
    /// epoch, and only when the node then holds that new epoch (pending shards of this event, or already active) or is an
    /// old member that leaves (its identity is recorded in the old package, not among the new members). Before erasing an
    /// older epoch it checks that the certified event keeps the group key: the confirmations' new group keys equal the old
    /// packages' (the certificate binds them), and every share it would erase has the old package's group key (the whole
    /// old package when it is of the same epoch). Any mismatch refuses the commit; nothing is erased.
    /// </summary>
    private Dictionary<string, ulong> EraseBelow(string eventId, IReadOnlyDictionary<Scheme, ReshareCertificate> certificates)
    {
        var me = node.Identity.Public.SigningKey.ToArray();
        bool Mine(IEnumerable<byte[]> keys) => keys.Any(k => k.AsSpan().SequenceEqual(me));
        var eraseBelow = new Dictionary<string, ulong>();
        node.WithVault(v =>
        {
            var held = v.List();
            foreach (var cert in certificates.Values)
            {
                var keepsKeys = cert.KeepsGroupKeys(cert.Event.Plans.Select(p => p.Current));
                foreach (var plan in cert.Event.Plans)
                {
                    var mine = held.Where(s => s.KeyId == plan.KeyId).ToList();
                    var older = mine.Where(s => s.State == ShardState.Active && s.Epoch < plan.NewEpoch).ToList();
                    if (older.Count == 0) continue;
                    bool holdsNew = mine.Any(s => s.Epoch == plan.NewEpoch && (s.State == ShardState.Active || s.EventId == eventId));
                    bool leaves = Mine(plan.Current.MemberKeys.Values) && !Mine(plan.Session.NewMemberKeys.Values);
                    if (!holdsNew && !leaves) continue;
                    if (!keepsKeys)
                        throw new SessionRefusedException($"the certified reshare {eventId} does not keep the group keys of its wallets: nothing erased");
                    var currentDigest = ValidatedPackages.Digest(plan.Current);
                    var currentKey = plan.Current.GroupPublicKey.ToBytes();
                    foreach (var o in older)
                    {
                        var (digest, groupKey) = v.PublicOf(o.KeyId, o.Epoch, ShardState.Active)!.Value;
                        if (!groupKey.AsSpan().SequenceEqual(currentKey) || (o.Epoch == plan.Current.Epoch && digest != currentDigest))
                            throw new SessionRefusedException($"the certified reshare {eventId} is of another public package of key '{plan.KeyId}' than the epoch {o.Epoch} this node holds: nothing erased");
                    }
                    eraseBelow[plan.KeyId] = plan.NewEpoch;
                }
            }
        });
        return eraseBelow;
    }

    /// <summary>
    /// Discards the pending shards of a failed reshare event, only with proof that it can never commit: either the
    /// start request and signed renunciations of enough of its new members that no commit certificate can exist any
    /// more (each checked under the identity key of the member's CA-issued certificate, for the session this node's
    /// pending shards came from), or a verified commit certificate of a later event that took the same keys to the
    /// pending epoch or beyond. Without it nothing is discarded. The active epochs stay.
    /// </summary>
    public override async Task<SettleReply> Discard(DiscardRequest request, ServerCallContext context)
    {
        await CrashPoint.HangIf("hang-in-discard", context.CancellationToken);
        return DiscardNow(request);
    }

    private SettleReply DiscardNow(DiscardRequest request) => Guard(() =>
    {
        var reply = new SettleReply();
        if (request.SupersededBy is { } later)
        {
            if (later.EventId == request.EventId) throw new ArgumentException($"reshare {request.EventId} cannot supersede itself");
            var certificates = ReshareSetup.VerifyCertificate(later, party => node.Trust.NodeIdentity(party.Certificate.Span, party.Name));
            var gone = node.WithVault(v => v.DiscardSuperseded(certificates.Values.SelectMany(c => c.Event.Plans).ToDictionary(p => p.KeyId, p => p.NewEpoch), later.EventId));
            reply.Discarded.AddRange(gone.Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
            return reply;
        }
        var pending = node.WithVault(v => v.PendingEvents()).FirstOrDefault(e => e.EventId == request.EventId);
        if (pending is null) return reply;
        if (request.Start?.KindCase == StartRequest.KindOneofCase.Dkg) return DiscardKeyGeneration(request, pending);
        var start = request.Start?.Reshare is { } p && p.EventId == request.EventId ? request.Start
            : throw new SessionRefusedException($"node '{node.Name}' keeps its pending shards of reshare {request.EventId}: a discard needs proof that the event can never commit (its start request with renunciations, or a later certificate)");
        var sessionId = ReshareSession.SessionIdOf(node, start);
        if (!pending.SessionId.AsSpan().SequenceEqual(sessionId))
            throw new SessionRefusedException($"the start request given is not the one this node's pending shards of reshare {request.EventId} came from");
        var renounced = new HashSet<string>();
        foreach (var r in request.Renunciations)
        {
            var party = start.Reshare.NewMembers.FirstOrDefault(m => m.Name == r.Node)
                ?? throw new SessionRefusedException($"renunciation by '{r.Node}', who is not a new member of reshare {request.EventId}");
            if (r.EventId != request.EventId || !r.SessionId.Span.SequenceEqual(sessionId))
                throw new SessionRefusedException($"the renunciation by '{r.Node}' is for another event or session than reshare {request.EventId}");
            var keys = node.Trust.NodeIdentity(party.Certificate.Span, party.Name);
            if (!keys.Verify(ReshareSetup.RenunciationBytes(request.EventId, sessionId), r.Signature.Span))
                throw new SessionRefusedException($"the renunciation by '{r.Node}' does not verify under its identity key");
            renounced.Add(r.Node);
        }
        if (!ReshareSetup.CertificateImpossible(start.Reshare, renounced))
            throw new SessionRefusedException($"node '{node.Name}' keeps its pending shards of reshare {request.EventId}: {renounced.Count} renunciation(s) ({string.Join(", ", renounced.Order())}) do not rule out a commit certificate");
        reply.Discarded.AddRange(node.WithVault(v => v.Discard(request.EventId)).Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        return reply;
    });

    /// <summary>
    /// Discards the pending shards of a key generation that can never commit: the proof is a renunciation by one of its
    /// members (a certificate needs every member's confirmation), signed under that member's identity key, for the session
    /// this node's pending shards came from.
    /// </summary>
    private SettleReply DiscardKeyGeneration(DiscardRequest request, PendingEvent pending)
    {
        var sessionId = DkgSession.SessionIdOf(node, request.Start);
        if (DkgCommit.EventIdOf(sessionId) != request.EventId || !pending.SessionId.AsSpan().SequenceEqual(sessionId))
            throw new SessionRefusedException($"the start request given is not the one this node's pending shards of key generation {request.EventId} came from");
        var renounced = new List<string>();
        foreach (var r in request.Renunciations)
        {
            var party = request.Start.Dkg.Parties.FirstOrDefault(m => m.Name == r.Node)
                ?? throw new SessionRefusedException($"renunciation by '{r.Node}', who is not a member of key generation {request.EventId}");
            if (r.EventId != request.EventId || !r.SessionId.Span.SequenceEqual(sessionId))
                throw new SessionRefusedException($"the renunciation by '{r.Node}' is for another event or session than key generation {request.EventId}");
            if (!node.Trust.NodeIdentity(party.Certificate.Span, party.Name).Verify(ReshareSetup.RenunciationBytes(request.EventId, sessionId), r.Signature.Span))
                throw new SessionRefusedException($"the renunciation by '{r.Node}' does not verify under its identity key");
            renounced.Add(r.Node);
        }
        if (!DkgCommit.CertificateImpossible(request.Start.Dkg, renounced))
            throw new SessionRefusedException($"node '{node.Name}' keeps its pending shards of key generation {request.EventId}: a discard needs a member's renunciation");
        var reply = new SettleReply();
        reply.Discarded.AddRange(node.WithVault(v => v.Discard(request.EventId)).Select(a => new WalletEpoch { KeyId = a.KeyId, Epoch = a.Epoch }));
        return reply;
    }

    /// <summary>
    /// A new member's renunciation of a reshare event it has not confirmed: recorded durably before it is signed, so the
    /// node refuses ever to confirm the event afterwards (ReshareSession, ShareVault.PutPending). A member that did
    /// confirm does not renounce; it returns the output it confirmed with (public), so that the event can be completed.
    /// </summary>
    public override Task<RenounceReply> Renounce(RenounceRequest request, ServerCallContext context) => Task.FromResult(Guard(() =>
    {
        if (request.Start?.KindCase == StartRequest.KindOneofCase.Dkg) return RenounceKeyGeneration(request.Start);
        var start = request.Start?.Reshare is not null ? request.Start : throw new ArgumentException("renounce without a reshare start request");
        var p = start.Reshare;
        if (!p.NewMembers.Any(m => m.Name == node.Name))
            throw new SessionRefusedException($"node '{node.Name}' is not a new member of reshare {p.EventId}: nothing to renounce");
        var sessionId = ReshareSession.SessionIdOf(node, start);
        var confirmed = node.WithVault(v => v.Renounce(p.EventId, sessionId));
        if (confirmed is not null) return new RenounceReply { ConfirmedOutput = ByteString.CopyFrom(confirmed) };
        return new RenounceReply
        {
            Renunciation = new Renunciation
            {
                Node = node.Name, EventId = p.EventId, SessionId = ByteString.CopyFrom(sessionId),
                Signature = ByteString.CopyFrom(node.Identity.Sign(ReshareSetup.RenunciationBytes(p.EventId, sessionId))),
            },
        };
    }));

    /// <summary>A key generation's member renounces it unless it confirmed it (then it returns the output it confirmed with).</summary>
    private RenounceReply RenounceKeyGeneration(StartRequest start)
    {
        if (!start.Dkg.Parties.Any(m => m.Name == node.Name))
            throw new SessionRefusedException($"node '{node.Name}' is not a member of this key generation: nothing to renounce");
        var sessionId = DkgSession.SessionIdOf(node, start);
        var eventId = DkgCommit.EventIdOf(sessionId);
        var confirmed = node.WithVault(v => v.Renounce(eventId, sessionId));
        if (confirmed is not null) return new RenounceReply { ConfirmedOutput = ByteString.CopyFrom(confirmed) };
        return new RenounceReply
        {
            Renunciation = new Renunciation
            {
                Node = node.Name, EventId = eventId, SessionId = ByteString.CopyFrom(sessionId),
                Signature = ByteString.CopyFrom(node.Identity.Sign(ReshareSetup.RenunciationBytes(eventId, sessionId))),
            },
        };
    }

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
            // a fresh array that nothing else holds: wrapped, not copied (an ECDSA round-2 envelope is about 66 KB)
            reply.Envelopes.Add(UnsafeByteOperations.UnsafeWrap(Envelope.Seal(node.Identity, node.Name, m.Peer, keys, session.Id, m.Label, m.Payload).Encode()));
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
