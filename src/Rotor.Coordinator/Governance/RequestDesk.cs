using Google.Protobuf;
using Grpc.Core;
using Rotor.Coordinator.Audit;
using Rotor.Coordinator.Operations;
using Rotor.Crypto.Signatures;
using Rotor.Protocols;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Node;
using Rotor.Rpc.Operations;
using Rotor.Rpc.Requests;
using Authorization = Rotor.Rpc.Node.Authorization;

namespace Rotor.Coordinator.Governance;

/// <summary>Audit kinds of the request flow.</summary>
public static class RequestAuditKinds
{
    public const string Submitted = "request.submitted";
    public const string Approved = "request.approved";
    public const string ApprovalRefused = "request.approval-refused";
    public const string Done = "request.done";
    public const string Failed = "request.failed";
    public const string Expired = "request.expired";
    public const string PolicyUpdated = "governance.updated";
}

/// <summary>
/// The request desk: every sensitive action is first a request. <see cref="SubmitAsync"/> builds the canonical
/// description (<see cref="ActionRequest"/>) from the registry (a fresh request id, an expiry, every member with the
/// identity key of its certificate) and stores it awaiting approval; <see cref="ApproveAsync"/> adds one operator's
/// signature, checked against the policy the nodes pin; once enough are in, the stored action runs through the
/// existing code paths under <see cref="ActionContext.Use"/>, so every node receives the approvals and verifies them
/// itself. The coordinator's count is for liveness only: it cannot make or alter an approval, and the nodes decide.
/// </summary>
public sealed class RequestDesk(Engine engine, OperationsDesk desk, RequestStore store, NodeClients clients, Func<DateTimeOffset> clock) : IRepairRequests
{
    /// <summary>How long a request may wait for approvals and be used, unless its submitter says otherwise.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(24);

    /// <summary>How long an approved rotation policy lets the scheduler refresh, unless its submitter says otherwise.</summary>
    public static readonly TimeSpan DefaultPolicyLifetime = TimeSpan.FromDays(365);

    /// <summary>Longest lifetime a request may ask for (10 years, the longest rotation interval).</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3660);

    private readonly Lock gate = new();

    public RequestStore Store => store;

    private Registry Registry => engine.Registry;

    private long Now => clock().ToUnixTimeMilliseconds();

    // ------------------------------------------------------------------ submit

    /// <summary>Builds the request's canonical description from the registry and stores it awaiting approval.</summary>
    public async Task<RequestRecord> SubmitAsync(ActionSpec spec, string? requestedBy = null)
    {
        if (spec.ActionCase == ActionSpec.ActionOneofCase.None) throw new CoordinatorException(StatusCode.InvalidArgument, "the request names no action");
        var lifetime = spec.LifetimeSeconds == 0
            ? spec.ActionCase == ActionSpec.ActionOneofCase.RotationPolicy ? DefaultPolicyLifetime : DefaultLifetime
            : TimeSpan.FromSeconds(spec.LifetimeSeconds);
        if (lifetime > MaxLifetime) throw new CoordinatorException(StatusCode.InvalidArgument, $"a request may live at most {MaxLifetime.TotalDays} days");
        var pinned = await PinnedPolicyAsync();
        var (request, quorum) = Describe(spec, ActionRequest.NewRequestId(), lifetime, null, pinned.Policy);
        var record = new RequestRecord
        {
            Id = request.RequestId, Action = request.Action, Status = RequestStatus.Awaiting, Description = ByteString.CopyFrom(request.Encode()),
            ApprovalsNeeded = (uint)Needed(pinned.Policy, request), Expires = Iso(request.Expires), RequestedBy = requestedBy ?? OperatorContext.Actor, Created = Now,
            Spec = spec, Digest = request.Digest(), Policy = pinned.Text,
        };
        store.Put(new StoredRequest(record, new Authorization { Description = record.Description }, quorum, null));
        desk.Record(RequestAuditKinds.Submitted, quorum, record.Id, new
        {
            action = record.Action, digest = record.Digest, expires = record.Expires, approvals_needed = record.ApprovalsNeeded,
            description = System.Text.Encoding.UTF8.GetString(record.Description.Span),
        }, requestedBy is null ? null : OperatorContext.Coordinator);
        return record;
    }

    /// <summary>
    /// The canonical description of <paramref name="spec"/> as the registry stands now, with the given request id and
    /// expiry (<paramref name="expires"/>, or <paramref name="lifetime"/> from now); also the quorum it concerns.
    /// </summary>
    private (ActionRequest Request, string? Quorum) Describe(ActionSpec spec, string requestId, TimeSpan lifetime, DateTimeOffset? expires, GovernancePolicy? pinned)
    {
        var until = expires ?? ActionRequest.ExpiryFrom(clock(), lifetime);
        ActionRequest Base(string action) => new() { Action = action, RequestId = requestId, Expires = until };
        switch (spec.ActionCase)
        {
            case ActionSpec.ActionOneofCase.CreateWallets:
            {
                var s = spec.CreateWallets;
                if (!Schemes.TryParse(s.Scheme, out var scheme))
                    throw new CoordinatorException(StatusCode.InvalidArgument, $"unknown scheme '{s.Scheme}' (expected ed25519, secp256k1, bip340 or ecdsa-secp256k1)");
                var count = s.Count == 0 ? 1 : (int)s.Count;
                if (count is < 1 or > 100_000) throw new CoordinatorException(StatusCode.InvalidArgument, $"count {count} is outside 1..100000");
                var quorum = engine.RequireQuorum(s.Quorum);
                return (Base(Actions.CreateWallets) with
                {
                    Quorum = quorum.Name, Scheme = scheme.Name(), Count = count, NewThreshold = quorum.Threshold, NewMembers = Members(quorum.Members),
                }, quorum.Name);
            }
            case ActionSpec.ActionOneofCase.Sign:
            {
                var s = spec.Sign;
                var wallet = engine.RequireWallet(s.WalletId);
                // The derivation path, canonical, is part of what is approved: the nodes sign only for the approved path.
                var path = Engine.ParsePath(s.Path);
                EcdsaPairs.CheckMessage(wallet, s.Message.Span);
                if (!path.IsRoot && wallet.ChainCode is null)
                    throw new CoordinatorException(StatusCode.FailedPrecondition, new Rotor.Protocols.Keys.Hd.HdUnavailableException(wallet.Id).Message);
                return (Base(Actions.Sign) with
                {
                    Quorum = wallet.Quorum, Scheme = wallet.Scheme, Wallets = [new ApprovedWallet(wallet.Id, null)], Message = ApprovedMessage.Of(s.Message.Span),
                    Path = path.IsRoot ? null : path.ToString(),
                }, wallet.Quorum);
            }
            case ActionSpec.ActionOneofCase.Reshare:
            {
                var op = desk.Prepare(OperationsService.ToRequest(spec.Reshare), OperatorContext.Actor);
                // A scheduled reshare's approval must outlive its window.
                if (expires is null && op.Window is { } w && w.End > until) until = DateTimeOffset.FromUnixTimeSeconds(w.End.ToUnixTimeSeconds() + 1);
                return (Base(op.IsRestructure ? Actions.Restructure : Actions.Refresh) with
                {
                    Expires = until, Quorum = op.Quorum, Wallets = op.Wallets.Select(x => new ApprovedWallet(x.Wallet, x.Epoch)).ToList(),
                    OldThreshold = op.OldThreshold, OldMembers = Members(op.OldMembers), NewThreshold = op.NewThreshold, NewMembers = Members(op.NewMembers),
                    Reason = op.Reason.KindName, Note = op.Reason.Note.Length > 0 ? op.Reason.Note : null,
                }, op.Quorum);
            }
            case ActionSpec.ActionOneofCase.Repair:
            {
                var s = spec.Repair;
                var wallet = engine.RequireWallet(s.Wallet);
                var epoch = Registry.FindEpoch(wallet.Id, wallet.Epoch)!;
                if (!epoch.Members.Contains(s.Node))
                    throw new CoordinatorException(StatusCode.InvalidArgument,
                        $"'{s.Node}' is not a member of wallet '{wallet.Id}' at its current epoch {epoch.Epoch} (members: {string.Join(", ", epoch.Members)})");
                return (Base(Actions.Repair) with
                {
                    Quorum = wallet.Quorum, Wallets = [new ApprovedWallet(wallet.Id, wallet.Epoch)], RepairTarget = Member(RequireNode(s.Node)),
                }, wallet.Quorum);
            }
            case ActionSpec.ActionOneofCase.Backup:
            {
                var s = spec.Backup;
                var node = RequireNode(s.Node);
                foreach (var w in s.Wallets) engine.RequireWallet(w);
                string? recipient = null;
                if (s.LockCase == CreateBackupRequest.LockOneofCase.Recipient)
                {
                    if (s.Recipient.Length != 64 || !s.Recipient.All(Uri.IsHexDigit))
                        throw new CoordinatorException(StatusCode.InvalidArgument, $"--recipient must be a 32-byte X25519 public key in hex, got '{s.Recipient}'");
                    recipient = s.Recipient.ToLowerInvariant();
                }
                else if (s.LockCase == CreateBackupRequest.LockOneofCase.None)
                    throw new CoordinatorException(StatusCode.InvalidArgument, "a backup needs --passphrase-file or --recipient");
                var quorum = s.Wallets.Select(w => engine.RequireWallet(w).Quorum).FirstOrDefault();
                return (Base(Actions.BackupExport) with
                {
                    Nodes = [node.Name], Wallets = s.Wallets.Distinct().Select(w => new ApprovedWallet(w, null)).ToList(), BackupRecipient = recipient,
                }, quorum);
            }
            case ActionSpec.ActionOneofCase.Restore:
            {
                var node = RequireNode(spec.Restore.Node);
                if (spec.Restore.File.IsEmpty) throw new CoordinatorException(StatusCode.InvalidArgument, "the restore names no backup file");
                // The approval names every wallet of the file at the epoch the registry holds now: the node restores
                // only shards of exactly those epochs (an approver sees which epoch is being put back).
                var file = OperationsDesk.ParseBackup(spec.Restore.File.Span);
                var restored = file.Shards.Select(s => engine.RequireWallet(s.Wallet)).ToList();
                return (Base(Actions.Restore) with
                {
                    Nodes = [node.Name], BackupFile = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(spec.Restore.File.Span)),
                    Wallets = restored.DistinctBy(w => w.Id).Select(w => new ApprovedWallet(w.Id, w.Epoch)).ToList(),
                }, restored.Select(w => w.Quorum).FirstOrDefault());
            }
            case ActionSpec.ActionOneofCase.RotationPolicy:
            {
                var s = spec.RotationPolicy;
                var quorum = engine.RequireQuorum(s.Quorum);
                RotationInterval every;
                RecurringWindow window;
                try
                {
                    every = RotationInterval.Parse(s.Every);
                    window = RecurringWindow.Parse(s.Window);
                }
                catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
                return (Base(Actions.RotationPolicy) with { Quorum = quorum.Name, Schedule = $"every {every.Text} in {window}" }, quorum.Name);
            }
            case ActionSpec.ActionOneofCase.Governance:
            {
                GovernancePolicy proposed;
                try { proposed = GovernancePolicy.Decode(spec.Governance.Policy.Span); }
                catch (ApprovalException e) { throw new CoordinatorException(StatusCode.InvalidArgument, $"the new policy: {e.Message}"); }
                return (Base(Actions.PolicyChange) with { Policy = proposed with { Serial = (pinned?.Serial ?? 0) + 1 } }, null);
            }
            default:
                throw new CoordinatorException(StatusCode.InvalidArgument, $"unknown action {spec.ActionCase}");
        }
    }

    private NodeEntry RequireNode(string name) =>
        Registry.FindNode(name) ?? throw new CoordinatorException(StatusCode.NotFound, $"no node named '{name}' is registered");

    private IReadOnlyList<ApprovedMember> Members(IEnumerable<string> names) => names.Select(n => Member(RequireNode(n))).ToList();

    /// <summary>A member as approvals name it: the identity key is the one in the node's CA-issued certificate.</summary>
    private static ApprovedMember Member(NodeEntry n) => new(n.Name, n.Index, n.SigningKey.ToLowerInvariant());

    private static int Needed(GovernancePolicy? policy, ActionRequest request) => policy is null ? 1 : policy.Required(request.Class);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ the pinned policy

    /// <summary>The policy the nodes pin, as they report it, and a line saying where it comes from.</summary>
    public sealed record Pinned(GovernancePolicy? Policy, string Text);

    /// <summary>Every registered node's pinned policy (NodeInfo.policy), asked now.</summary>
    public async Task<IReadOnlyList<(NodeEntry Node, GovernancePolicy? Policy, string? Error)>> NodePoliciesAsync()
    {
        var nodes = Registry.ListNodes();
        return await Task.WhenAll(nodes.Select(async n =>
        {
            try
            {
                var info = await clients.For(n).GetInfoAsync(new GetInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                if (info.Policy.IsEmpty) return (n, (GovernancePolicy?)null, (string?)"the node reports no pinned policy");
                return (n, GovernancePolicy.Decode(info.Policy.Span), null);
            }
            catch (RpcException e) { return (n, null, $"unreachable: {e.Status.Detail}"); }
            catch (ApprovalException e) { return (n, null, $"reports an unreadable policy: {e.Message}"); }
        }));
    }

    /// <summary>
    /// The policy the nodes pin: the one with the highest serial among those the reachable nodes report (they agree
    /// unless a change is half-applied). Null when none reports one. Only used to count approvals for liveness.
    /// </summary>
    public async Task<Pinned> PinnedPolicyAsync()
    {
        if (pinnedCache is { } cached && DateTime.UtcNow - cached.At < PinnedFresh) return cached.Pinned;
        var pinned = await AskPinnedPolicyAsync();
        pinnedCache = new PinnedAt(pinned, DateTime.UtcNow);
        return pinned;
    }

    /// <summary>How long the policy the nodes reported is used before they are asked again (it changes only by an approved policy change, which clears it).</summary>
    private static readonly TimeSpan PinnedFresh = TimeSpan.FromSeconds(2);

    private sealed record PinnedAt(Pinned Pinned, DateTime At);

    private volatile PinnedAt? pinnedCache;

    private async Task<Pinned> AskPinnedPolicyAsync()
    {
        var policies = (await NodePoliciesAsync()).Where(x => x.Policy is not null).Select(x => x.Policy!).ToList();
        if (policies.Count == 0) return new Pinned(null, "the nodes report no pinned policy: one approval is asked for, the nodes decide");
        var top = policies.MaxBy(p => p.Serial)!;
        return new Pinned(top, $"policy serial {top.Serial} ({top.Digest()[..16]}…) pinned by the nodes");
    }

    // ------------------------------------------------------------------ approve

    /// <summary>A request, its status brought up to date (an awaiting request past its expiry is expired).</summary>
    public StoredRequest Require(string id)
    {
        var r = store.Find(id?.Trim().ToLowerInvariant() ?? "") ?? throw new CoordinatorException(StatusCode.NotFound, $"no request '{id}'");
        return Expire(r);
    }

    public IReadOnlyList<RequestRecord> List(string? status)
    {
        if (status is not null && !RequestStatus.All.Contains(status))
            throw new CoordinatorException(StatusCode.InvalidArgument, $"unknown status '{status}' (known: {string.Join(", ", RequestStatus.All)})");
        return store.List().Select(Expire).Select(r => r.Record).Where(r => status is null || r.Status == status).ToList();
    }

    private StoredRequest Expire(StoredRequest r)
    {
        if (r.Record.Status != RequestStatus.Awaiting || clock() < ActionRequest.Decode(r.Record.Description.Span).Expires) return r;
        lock (gate)
        {
            var fresh = store.Find(r.Record.Id)!;
            if (fresh.Record.Status != RequestStatus.Awaiting) return fresh;
            var record = fresh.Record.Clone();
            record.Status = RequestStatus.Expired;
            record.Error = $"expired at {record.Expires} before enough approvals came in";
            record.Finished = Now;
            var expired = fresh with { Record = record };
            store.Put(expired);
            desk.Record(RequestAuditKinds.Expired, fresh.Quorum, record.Id, new { action = record.Action, approvals = record.Approvals.Count, needed = record.ApprovalsNeeded },
                OperatorContext.Coordinator);
            return expired;
        }
    }

    /// <summary>
    /// Adds one approval: the key must be an approver of the policy the nodes pin (or, for signing, an API client
    /// allowed for the quorum), and the signature must verify over the stored description. When enough approvals
    /// are in, runs the action and returns its outcome.
    /// </summary>
    public async Task<RequestRecord> ApproveAsync(string id, byte[] key, byte[] signature)
    {
        var stored = Require(id);
        var record = stored.Record;
        if (record.Status != RequestStatus.Awaiting)
            throw new CoordinatorException(StatusCode.FailedPrecondition, $"request {record.Id} is {record.Status}{(record.Error.Length > 0 ? $" ({record.Error})" : "")}; it takes no more approvals");
        var request = ActionRequest.Decode(record.Description.Span);
        var keyHex = Convert.ToHexStringLower(key);
        var pinned = await PinnedPolicyAsync();
        string approver;
        bool apiClient = false;
        if (pinned.Policy is { } policy)
        {
            var a = policy.Approvers.FirstOrDefault(x => x.Key == keyHex);
            var c = request.Action == Actions.Sign ? policy.ApiClients.FirstOrDefault(x => x.Key == keyHex) : null;
            if (a is null && c is null)
                throw Refused(stored, keyHex, StatusCode.PermissionDenied,
                    $"key {keyHex} is not an approver the nodes pin ({string.Join(", ", policy.Approvers.Select(x => x.Name))}); the approval is not counted and request {record.Id} stays {RequestStatus.Awaiting} ({record.Approvals.Count} of {Needed(policy, request)})");
            if (a is null && c!.Quorums.Count > 0 && (request.Quorum is null || !c.Quorums.Contains(request.Quorum)))
                throw Refused(stored, keyHex, StatusCode.PermissionDenied, $"api client '{c.Name}' may sign for quorums [{string.Join(", ", c.Quorums)}], not '{request.Quorum}'");
            approver = a?.Name ?? c!.Name;
            apiClient = a is null;
        }
        else approver = keyHex;
        if (key.Length != 32 || signature.Length != 64 || !Ed25519Verifier.Verify(key, ApprovalVerifier.SignedBytes(record.Description.Span), signature))
            throw Refused(stored, keyHex, StatusCode.InvalidArgument,
                $"the signature of {(pinned.Policy is null ? $"key {keyHex}" : $"approver '{approver}'")} does not verify over request {record.Id} (tampered, or signed over another description); not counted");

        StoredRequest updated;
        bool run;
        lock (gate)
        {
            var fresh = store.Find(record.Id)!;
            if (fresh.Record.Status != RequestStatus.Awaiting)
                throw new CoordinatorException(StatusCode.FailedPrecondition, $"request {record.Id} is {fresh.Record.Status}; it takes no more approvals");
            var r = fresh.Record.Clone();
            var auth = fresh.Authorization.Clone();
            if (r.Approvals.All(x => x.Key != keyHex))
            {
                r.Approvals.Add(new Rotor.Rpc.Requests.Approval { Approver = approver, Key = keyHex, Time = Now });
                auth.Approvals.Add(new ApprovalSig { Key = ByteString.CopyFrom(key), Signature = ByteString.CopyFrom(signature) });
            }
            r.ApprovalsNeeded = (uint)Needed(pinned.Policy, request);
            r.Policy = pinned.Text;
            run = apiClient || r.Approvals.Select(x => x.Approver).Distinct().Count() >= r.ApprovalsNeeded;
            if (run) r.Status = RequestStatus.Running;
            updated = fresh with { Record = r, Authorization = auth };
            store.Put(updated);
        }
        desk.Record(RequestAuditKinds.Approved, stored.Quorum, record.Id, new
        {
            action = record.Action, approver, key = keyHex, digest = record.Digest, approvals = updated.Record.Approvals.Count, needed = updated.Record.ApprovalsNeeded,
        });
        return run ? await RunAsync(updated, request) : updated.Record;
    }

    private CoordinatorException Refused(StoredRequest r, string key, StatusCode code, string message)
    {
        desk.Record(RequestAuditKinds.ApprovalRefused, r.Quorum, r.Record.Id, new { action = r.Record.Action, key, problem = message });
        return new CoordinatorException(code, message);
    }

    // ------------------------------------------------------------------ run

    /// <summary>
    /// Runs an approved request: checks that its description still matches the registry (else it fails, asking for a
    /// new request), then runs the stored action with the approvals attached, and records done or failed.
    /// </summary>
    private async Task<RequestRecord> RunAsync(StoredRequest stored, ActionRequest approved)
    {
        var record = stored.Record.Clone();
        string? operation = null;
        try
        {
            var pinned = await PinnedPolicyAsync();
            ActionRequest now;
            try { now = Describe(record.Spec, approved.RequestId, TimeSpan.Zero, approved.Expires, pinned.Policy).Request; }
            catch (CoordinatorException e) { throw new CoordinatorException(e.Code, $"the cluster changed since request {record.Id} was made ({e.Message}); submit a new request"); }
            if (!now.Encode().AsSpan().SequenceEqual(record.Description.Span))
                throw new CoordinatorException(StatusCode.FailedPrecondition,
                    $"the cluster changed since request {record.Id} was made ({Difference(approved, now)}); nothing was done: submit a new request");
            using (ActionContext.Use(stored.Authorization))
            {
                (record.Result, operation) = await ExecuteAsync(record.Spec, stored.Authorization);
            }
            record.Status = RequestStatus.Done;
            if (record.Result.KindCase == ActionResult.KindOneofCase.Governance && record.Result.Governance.Failed.Count > 0)
            {
                record.Status = RequestStatus.Failed;
                record.Error = $"policy change applied on {(record.Result.Governance.Updated.Count == 0 ? "no node" : string.Join(", ", record.Result.Governance.Updated))}; refused or unreachable: {string.Join("; ", record.Result.Governance.Failed)}";
            }
        }
        catch (Exception e) when (e is CoordinatorException or ProtocolException or ArgumentException or InvalidOperationException or RpcException or Rotor.Crypto.RotorCryptoException)
        {
            record.Status = RequestStatus.Failed;
            record.Error = e is RpcException r ? r.Status.Detail : e.Message;
        }
        record.Finished = Now;
        store.Put(stored with { Record = record, Operation = operation });
        var result = record.Result;
        desk.Record(record.Status == RequestStatus.Done ? RequestAuditKinds.Done : RequestAuditKinds.Failed, stored.Quorum, record.Id, new
        {
            action = record.Action, approvers = record.Approvals.Select(a => a.Approver), error = record.Error.Length > 0 ? record.Error : null,
            operation, result = result?.KindCase.ToString(),
        });
        return record;
    }

    /// <summary>The first field where what was approved and what the registry says now differ.</summary>
    private static string Difference(ActionRequest approved, ActionRequest now)
    {
        var a = System.Text.Json.JsonDocument.Parse(approved.Encode()).RootElement;
        var b = System.Text.Json.JsonDocument.Parse(now.Encode()).RootElement;
        foreach (var p in a.EnumerateObject())
        {
            var other = b.GetProperty(p.Name).GetRawText();
            if (p.Value.GetRawText() != other) return $"{p.Name}: approved {Brief(p.Value.GetRawText())}, now {Brief(other)}";
        }
        return "the description differs";
    }

    private static string Brief(string s) => s.Length <= 300 ? s : s[..300] + "…";

    /// <summary>Runs the action through the coordinator's existing code paths (the approvals ride on ActionContext).</summary>
    private async Task<(ActionResult Result, string? Operation)> ExecuteAsync(ActionSpec spec, Authorization authorization)
    {
        switch (spec.ActionCase)
        {
            case ActionSpec.ActionOneofCase.CreateWallets:
            {
                var s = spec.CreateWallets;
                var created = await engine.KeyGeneration.CreateWalletsAsync(s.Quorum, s.Scheme, s.Count == 0 ? 1 : (int)s.Count);
                var list = new WalletList();
                list.Wallets.AddRange(created.Select(w => CoordinatorService.WalletRecordOf(engine, w)));
                return (new ActionResult { Wallets = list }, null);
            }
            case ActionSpec.ActionOneofCase.Sign:
            {
                var sig = await CoordinatorService.SignLoggedAsync(engine, spec.Sign);
                return (new ActionResult { Signature = CoordinatorService.SignReplyOf(sig) }, null);
            }
            case ActionSpec.ActionOneofCase.Reshare:
            {
                var op = await desk.StartAsync(OperationsService.ToRequest(spec.Reshare));
                return (new ActionResult { Reshare = OperationsService.ToRecord(await desk.ViewOf(op)) }, op.Id);
            }
            case ActionSpec.ActionOneofCase.Repair:
            {
                var s = spec.Repair;
                var r = await desk.RepairAsync(s.Node, s.Wallet, s.Helpers.ToList());
                var reply = new RepairReply { Node = r.Node, Wallet = r.Wallet, Epoch = r.Epoch };
                reply.Helpers.AddRange(r.Helpers);
                return (new ActionResult { Repair = reply }, null);
            }
            case ActionSpec.ActionOneofCase.Backup:
                return (new ActionResult { Backup = await OperationsService.CreateBackup(desk, spec.Backup) }, null);
            case ActionSpec.ActionOneofCase.Restore:
                return (new ActionResult { Restore = await OperationsService.RestoreBackup(desk, spec.Restore) }, null);
            case ActionSpec.ActionOneofCase.RotationPolicy:
            {
                var s = spec.RotationPolicy;
                return (new ActionResult { RotationPolicy = OperationsService.ToRecord(desk.SetPolicy(s.Quorum, s.Every, s.Window)) }, null);
            }
            case ActionSpec.ActionOneofCase.Governance:
            {
                var outcome = new GovernanceOutcome();
                var update = new PolicyUpdate { Authorization = authorization };
                var results = await Task.WhenAll(Registry.ListNodes().Select(async n =>
                {
                    try
                    {
                        var info = await clients.For(n).UpdatePolicyAsync(update, deadline: DateTime.UtcNow.AddSeconds(30));
                        return (n.Name, Problem: (string?)null, Policy: info.Policy);
                    }
                    catch (RpcException e) { return (n.Name, Problem: (string?)$"{n.Name}: {e.Status.Detail}", Policy: ByteString.Empty); }
                }));
                foreach (var (name, problem, policy) in results)
                {
                    if (problem is null) outcome.Updated.Add(name);
                    else outcome.Failed.Add(problem);
                    if (problem is null && outcome.Policy.IsEmpty) outcome.Policy = policy;
                }
                pinnedCache = null;
                desk.Record(RequestAuditKinds.PolicyUpdated, null, null, new { updated = outcome.Updated, failed = outcome.Failed });
                return (new ActionResult { Governance = outcome }, null);
            }
            default:
                throw new CoordinatorException(StatusCode.InvalidArgument, $"unknown action {spec.ActionCase}");
        }
    }

    /// <summary>Requests left running by a coordinator restart failed with it (their action's own records say how far it got).</summary>
    public void FailInterrupted()
    {
        foreach (var r in store.List(RequestStatus.Running))
        {
            var record = r.Record.Clone();
            record.Status = RequestStatus.Failed;
            record.Error = "interrupted: the coordinator stopped while it ran (see the reshare operations and events for how far it got)";
            record.Finished = Now;
            store.Put(r with { Record = record });
            desk.Record(RequestAuditKinds.Failed, r.Quorum, record.Id, new { action = record.Action, error = record.Error }, OperatorContext.Coordinator);
        }
    }

    // ------------------------------------------------------------------ repairs the mailbox needs

    private static string MailMarker(MailboxEntry mail) => $"coordinator (mailbox {mail.Id}: {mail.Node} failed to catch up)";

    /// <summary>The newest repair request filed for each wallet of a mail.</summary>
    private Dictionary<string, RequestRecord> Filed(MailboxEntry mail)
    {
        var marker = MailMarker(mail);
        return store.List().Where(r => r.Record.Action == Actions.Repair && r.Record.RequestedBy == marker)
            .Select(r => Expire(r).Record).GroupBy(r => r.Spec.Repair.Wallet).ToDictionary(g => g.Key, g => g.MaxBy(r => r.Created)!);
    }

    public RepairState? State(MailboxEntry mail)
    {
        var filed = Filed(mail);
        if (filed.Count == 0) return null;
        if (mail.Wallets.All(w => filed.TryGetValue(w, out var r) && r.Status == RequestStatus.Done)) return RepairState.Done;
        if (mail.Wallets.Any(w => filed.TryGetValue(w, out var r) && r.Status is RequestStatus.Awaiting or RequestStatus.Running)) return RepairState.Waiting;
        return RepairState.Closed;
    }

    public async Task FileAsync(MailboxEntry mail)
    {
        var filed = Filed(mail);
        foreach (var wallet in mail.Wallets)
        {
            if (filed.TryGetValue(wallet, out var r) && r.Status is RequestStatus.Done or RequestStatus.Awaiting or RequestStatus.Running) continue;
            try { await SubmitAsync(new ActionSpec { Repair = new RepairRequest { Node = mail.Node, Wallet = wallet } }, MailMarker(mail)); }
            catch (CoordinatorException e)
            {
                desk.Record(RequestAuditKinds.Failed, Registry.FindWallet(wallet)?.Quorum, mail.Node, new { action = Actions.Repair, wallet, error = e.Message }, OperatorContext.Coordinator);
            }
        }
    }

    public async Task FileBackupAsync(ReshareOperation op, string node, string recipient)
    {
        var spec = new CreateBackupRequest { Node = node, BackupId = Rotor.Rpc.Backups.BackupFile.NewId(), Recipient = recipient, KeepOnNode = true };
        spec.Wallets.AddRange(op.Wallets.Select(w => w.Wallet));
        try { await SubmitAsync(new ActionSpec { Backup = spec }, $"coordinator (automatic backup after {op.Id})"); }
        catch (CoordinatorException e)
        {
            desk.Record(RequestAuditKinds.Failed, op.Quorum, op.Id, new { action = Actions.BackupExport, node, error = e.Message }, OperatorContext.Coordinator);
        }
    }

    // ------------------------------------------------------------------ the scheduler's approvals

    /// <summary>
    /// The approval a reshare operation runs under when the scheduler starts it: the request that scheduled it, or
    /// for a rotation policy's refresh the newest approved, unexpired rotation-policy request of its quorum.
    /// </summary>
    public Authorization? AuthorizationFor(ReshareOperation op)
    {
        if (store.ForOperation(op.Id) is { } scheduled) return scheduled.Authorization;
        if (op.Policy is null) return null;
        foreach (var r in store.Done(Actions.RotationPolicy, op.Policy))
            if (clock() < ActionRequest.Decode(r.Record.Description.Span).Expires) return r.Authorization;
        return null;
    }
}
