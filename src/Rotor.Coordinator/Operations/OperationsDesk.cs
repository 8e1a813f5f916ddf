using System.Collections.Concurrent;
using System.Security.Cryptography;
using Grpc.Core;
using Rotor.Coordinator.Audit;

namespace Rotor.Coordinator.Operations;

/// <summary>What the operator asks for: a reshare of a quorum's wallets, why, to whom, and when.</summary>
public sealed record ReshareRequest(string Quorum, IReadOnlyList<string> Wallets, string Reason, string? Note, IReadOnlyList<string> Members,
    int Threshold, IReadOnlyList<string> AllowOffline, string? WindowStart, string? WindowEnd);

/// <summary>A node needed by a reshare, in which role, and whether it answers now.</summary>
public sealed record NodeReadiness(string Name, string Role, bool Online, bool AllowedOffline);

/// <summary>A reshare operation with what a plan shows: the nodes needed, the preflight now, the backups a commit makes obsolete.</summary>
public sealed record OperationView(ReshareOperation Operation, IReadOnlyList<NodeReadiness> Nodes, PreflightResult Preflight, IReadOnlyList<string> ObsoleteBackups);

/// <summary>
/// The operator's side of reshares, made safe by construction: every reshare is an operation that is planned,
/// preflighted, scheduled into a maintenance window, run by the engine and recorded with each change of status in
/// the audit log; rotation policies schedule refreshes by themselves; a commit makes older backups obsolete.
/// <see cref="TickAsync"/> (called on every heartbeat) applies the scheduler's decisions.
/// </summary>
public sealed partial class OperationsDesk(Engine engine, OperationStore store, AuditLog audit, NodeClients clients, Func<DateTimeOffset> clock)
{
    /// <summary>Operations running in this process (the scheduler leaves them alone).</summary>
    private readonly ConcurrentDictionary<string, bool> runs = new();
    private readonly SemaphoreSlim runGate = new(1, 1);
    private readonly SemaphoreSlim tickGate = new(1, 1);

    public OperationStore Store => store;

    public Engine Engine => engine;

    public AuditLog Audit => audit;

    /// <summary>
    /// The operators' approval a reshare operation runs under when nothing on the calling flow carries one (the
    /// scheduler starting a scheduled reshare or a rotation policy's refresh): set by the request desk.
    /// </summary>
    public Func<ReshareOperation, Rotor.Rpc.Node.Authorization?>? Approval { get; set; }

    private Registry Registry => engine.Registry;

    private long Now => clock().ToUnixTimeMilliseconds();

    /// <summary>Appends an audit entry attributed to the current operator (or <paramref name="actor"/>).</summary>
    public void Record(string kind, string? quorum, string? subject, object details, string? actor = null) =>
        audit.Append(kind, actor ?? OperatorContext.Actor, quorum, subject, details);

    /// <summary>Records many entries of the current operator in one transaction.</summary>
    public void RecordAll(IReadOnlyList<AuditRecord> records) =>
        audit.AppendAll(OperatorContext.Actor, records.Select(r => (r.Kind, r.Quorum, r.Subject, r.Details)).ToList());

    // ------------------------------------------------------------------ planning

    /// <summary>Validates a request against the registry and makes the operation it describes (scheduled, not stored).</summary>
    public ReshareOperation Prepare(ReshareRequest r, string requestedBy, string? policy = null)
    {
        ReshareReason reason;
        MaintenanceWindow? window = null;
        try
        {
            reason = ReshareReason.Parse(r.Reason, r.Note);
            if (string.IsNullOrEmpty(r.WindowStart) != string.IsNullOrEmpty(r.WindowEnd))
                throw new ArgumentException("give both --window-start and --window-end, or neither");
            if (!string.IsNullOrEmpty(r.WindowStart)) window = MaintenanceWindow.Parse(r.WindowStart, r.WindowEnd!);
        }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
        if (window is not null && window.HasClosed(clock()))
            throw new CoordinatorException(StatusCode.InvalidArgument, $"the window {window} has already closed");
        var quorum = engine.RequireQuorum(r.Quorum);
        var all = Registry.ListWallets(quorum.Name);
        var wallets = r.Wallets.Count == 0 ? all.ToList() : r.Wallets.Distinct().Select(engine.RequireWallet).ToList();
        foreach (var w in wallets)
            if (w.Quorum != quorum.Name) throw new CoordinatorException(StatusCode.InvalidArgument, $"wallet '{w.Id}' belongs to quorum '{w.Quorum}', not '{quorum.Name}'");
        if (wallets.Count == 0) throw new CoordinatorException(StatusCode.FailedPrecondition, $"quorum '{quorum.Name}' has no wallets to reshare");
        var newMembers = r.Members.Count == 0 ? quorum.Members : r.Members.Distinct().ToList();
        foreach (var m in newMembers)
            if (Registry.FindNode(m) is null) throw new CoordinatorException(StatusCode.NotFound, $"no node named '{m}' is registered");
        var newThreshold = r.Threshold == 0 ? quorum.Threshold : r.Threshold;
        if (newThreshold < 1 || newThreshold > newMembers.Count)
            throw new CoordinatorException(StatusCode.InvalidArgument, $"threshold {newThreshold} is outside 1..{newMembers.Count}");
        var epochs = wallets.Select(w => Registry.FindEpoch(w.Id, w.Epoch)!).ToList();
        var oldMembers = epochs[0].Members;
        var oldThreshold = epochs[0].Threshold;
        if (epochs.Any(e => e.Threshold != oldThreshold || !e.Members.SequenceEqual(oldMembers)))
            throw new CoordinatorException(StatusCode.FailedPrecondition, "the wallets are held by different member sets; reshare them separately");
        var allowOffline = r.AllowOffline.Distinct().ToList();
        foreach (var a in allowOffline)
            if (!newMembers.Contains(a)) throw new CoordinatorException(StatusCode.InvalidArgument, $"--allow-offline {a}: '{a}' is not a new member");
        if (newMembers.Count - allowOffline.Count < newThreshold)
            throw new CoordinatorException(StatusCode.InvalidArgument,
                $"--allow-offline {string.Join(",", allowOffline)} leaves {newMembers.Count - allowOffline.Count} new members online, fewer than the new threshold {newThreshold}");
        var op = new ReshareOperation
        {
            Id = $"rs-{clock():yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}",
            Quorum = quorum.Name, Wallets = wallets.Select(w => new WalletAtEpoch(w.Id, w.Epoch)).ToList(), AllWallets = r.Wallets.Count == 0,
            Reason = reason, RequestedBy = requestedBy, OldMembers = oldMembers, OldThreshold = oldThreshold, NewMembers = newMembers,
            NewThreshold = newThreshold, AllowOffline = allowOffline, Window = window, Status = OperationStatus.Scheduled, Created = Now, Policy = policy,
        };
        if (op.IsRestructure && !op.AllWallets && wallets.Count != all.Count)
            throw new CoordinatorException(StatusCode.InvalidArgument, "changing members or threshold reshares every wallet of the quorum: leave out --wallets");
        return op;
    }

    /// <summary>The dry run: the operation with who is needed and online, the preflight now and the backups it would make obsolete.</summary>
    public async Task<OperationView> PlanAsync(ReshareRequest r) => await ViewOf(Prepare(r, OperatorContext.Actor));

    /// <summary>An operation with its readiness, preflight and the backups it makes obsolete.</summary>
    public async Task<OperationView> ViewOf(ReshareOperation op)
    {
        var view = await ClusterViewAsync(op);
        // Only a threshold of the old members deals (the first ones online, as the engine picks them); the others are
        // old members. Once the operation is over, who dealt is in its certificate, not here.
        var dealers = op.Status.IsFinal() ? [] : op.OldMembers.Where(n => view.Online.GetValueOrDefault(n)).Take(op.OldThreshold).ToHashSet();
        var nodes = op.OldMembers.Union(op.NewMembers).Select(n => new NodeReadiness(n,
            string.Join(", ", new[] { dealers.Contains(n) ? "dealer" : op.OldMembers.Contains(n) ? "old-member" : null, op.NewMembers.Contains(n) ? "new-member" : null }.OfType<string>()),
            view.Online.GetValueOrDefault(n), op.AllowOffline.Contains(n))).ToList();
        var preflight = op.Status == OperationStatus.Scheduled ? Scheduler.Preflight(op, view) : new PreflightResult([], []);
        var wallets = op.Wallets.Select(w => w.Wallet).ToHashSet();
        var obsolete = op.Status.IsFinal() && op.Status != OperationStatus.Committed
            ? []
            : store.ListBackups().Where(b => (b.Status == StoreStatus.Current || b.ObsoletedBy == op.Id) && b.Shards.Any(s => wallets.Contains(s.Wallet)))
                .Select(b => b.Id).ToList();
        return new OperationView(op, nodes, preflight, obsolete);
    }

    /// <summary>What the cluster looks like for an operation: quorum, wallet epochs, which nodes answer and what they hold.</summary>
    public async Task<ClusterView> ClusterViewAsync(ReshareOperation op)
    {
        var quorum = Registry.FindQuorum(op.Quorum);
        var epochs = Registry.ListWallets(op.Quorum).ToDictionary(w => w.Id, w => w.Epoch);
        var names = op.OldMembers.Union(op.NewMembers).ToList();
        var polled = await Task.WhenAll(names.Select(async n => Registry.FindNode(n) is { } node ? await engine.Nodes.PollAsync(node) : null));
        var online = new Dictionary<string, bool>();
        var shards = new Dictionary<string, IReadOnlyDictionary<string, NodeWalletState>>();
        for (int i = 0; i < names.Count; i++)
        {
            online[names[i]] = polled[i]?.Online == true;
            if (polled[i]?.Status is { } status)
                shards[names[i]] = status.Shards.GroupBy(s => s.KeyId).ToDictionary(g => g.Key, g => new NodeWalletState(
                    g.Where(s => s.State == "active").Select(s => s.Epoch).Order().ToList(), g.Where(s => s.State == "pending").Select(s => s.Epoch).Order().ToList()));
        }
        return new ClusterView(quorum?.Members, quorum?.Threshold ?? 0, epochs, online, shards);
    }

    // ------------------------------------------------------------------ running

    /// <summary>
    /// Records a reshare operation. With a window it is scheduled and returned at once; the scheduler starts it inside
    /// the window. Without one it runs now (after its preflight) and the outcome is returned.
    /// </summary>
    public async Task<ReshareOperation> StartAsync(ReshareRequest r)
    {
        var op = Prepare(r, OperatorContext.Actor);
        if (op.Window is not null)
        {
            store.Put(op);
            Record(AuditKinds.ReshareRequested, op.Quorum, op.Id, Describe(op));
            return op;
        }
        runs[op.Id] = true; // run here, not by the scheduler
        try
        {
            store.Put(op);
            Record(AuditKinds.ReshareRequested, op.Quorum, op.Id, Describe(op));
            if (Environment.GetEnvironmentVariable("ROTOR_TEST_CRASH_AT") == "coordinator-during-preflight")
                Environment.FailFast("ROTOR_TEST_CRASH_AT: coordinator-during-preflight");
            var preflight = Scheduler.Preflight(op, await ClusterViewAsync(op));
            if (!preflight.Ok)
            {
                op = Move(op, OperationStatus.PreflightFailed, preflight.ToString());
                throw new CoordinatorException(preflight.Invalid.Count > 0 ? StatusCode.FailedPrecondition : StatusCode.Unavailable,
                    $"reshare {op.Id} refused by its preflight, nothing changed: {preflight}");
            }
            return await RunAsync(op);
        }
        finally
        {
            try
            {
                if (store.Find(op.Id) is { Status: OperationStatus.Scheduled } stuck)
                    Move(stuck, OperationStatus.Failed, "interrupted before it started; nothing changed");
            }
            catch (Exception e) when (e is InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
            {
                Console.Error.WriteLine($"reshare {op.Id}: {e.Message}");
            }
            runs.TryRemove(op.Id, out _);
        }
    }

    /// <summary>Cancels a scheduled operation (a running one cannot be cancelled: it commits or fails as a whole).</summary>
    public ReshareOperation Cancel(string id)
    {
        var op = Require(id);
        if (op.Status != OperationStatus.Scheduled)
            throw new CoordinatorException(StatusCode.FailedPrecondition, $"reshare {id} is {op.Status.Name()}; only a scheduled reshare can be cancelled");
        return Move(op, OperationStatus.Cancelled, $"cancelled by {OperatorContext.Actor}");
    }

    public ReshareOperation Require(string id) =>
        store.Find(id) ?? throw new CoordinatorException(StatusCode.NotFound, $"no reshare operation '{id}'");

    /// <summary>
    /// Runs a scheduled operation through the engine: running, then committed, failed or expired. Runs under the
    /// quorum's lock: the operation is read again there and its plan checked against the registry (old epochs,
    /// members, threshold); when something moved since it was planned it becomes preflight-failed, naming what moved,
    /// and nothing changes. The engine asserts the same base again before it starts and at the commit.
    /// </summary>
    private async Task<ReshareOperation> RunAsync(ReshareOperation op)
    {
        runs[op.Id] = true;
        // Refused before it started (the quorum stayed busy): it stays scheduled; an immediate one is failed by its
        // caller (StartAsync), one with a window is tried again by the scheduler.
        try { return await engine.Locks.RunAsync(op.Quorum, $"reshare {op.Id}", () => RunLockedAsync(op)); }
        finally { runs.TryRemove(op.Id, out _); }
    }

    private async Task<ReshareOperation> RunLockedAsync(ReshareOperation op)
    {
        if (!await runGate.WaitAsync(TimeSpan.FromSeconds(1)))
            throw new CoordinatorException(StatusCode.FailedPrecondition, "another reshare operation is running; try again when it has finished");
        try
        {
            if (store.Find(op.Id) is not { Status: OperationStatus.Scheduled } fresh)
                throw new CoordinatorException(StatusCode.FailedPrecondition, $"reshare {op.Id} is no longer scheduled");
            var moved = BaseOf(fresh).Drift(Registry, fresh.Quorum);
            if (moved.Count > 0)
            {
                var problem = $"the plan no longer matches the registry: {string.Join("; ", moved)}";
                Move(fresh, OperationStatus.PreflightFailed, problem, OperatorContext.Coordinator);
                throw new CoordinatorException(StatusCode.FailedPrecondition, $"reshare {op.Id} refused, nothing changed: {problem}");
            }
            op = Move(fresh, OperationStatus.Running, null, OperatorContext.Current ?? OperatorContext.Coordinator);
            using var approval = Governance.ActionContext.Use(Governance.ActionContext.Current ?? Approval?.Invoke(op));
            try
            {
                var ev = await engine.ReshareAsync(op.Quorum, op.AllWallets ? [] : op.Wallets.Select(w => w.Wallet).ToList(), $"{op.Reason} [{op.Id}]",
                    op.NewMembers, op.NewThreshold, OptionsFor(op) with { Expected = BaseOf(op) });
                op = WithEvent(op, ev);
                op = Move(op, OperationStatus.Committed, null, OperatorContext.Coordinator);
                await AfterCommitAsync(op);
                return op;
            }
            catch (CoordinatorException e)
            {
                var ev = EventOf(op);
                var expired = op.Window?.HasClosed(clock()) == true;
                op = Move(op with { EventId = ev?.Id }, expired ? OperationStatus.Expired : OperationStatus.Failed, e.Message, OperatorContext.Coordinator);
                throw new CoordinatorException(e.Code, $"reshare {op.Id}: {e.Message}");
            }
        }
        finally { runGate.Release(); }
    }

    /// <summary>The state an operation was planned against (old epochs, members, threshold).</summary>
    private static ReshareBase BaseOf(ReshareOperation op) =>
        new(op.Wallets.ToDictionary(w => w.Wallet, w => w.Epoch), op.OldMembers, op.OldThreshold);

    /// <summary>The engine event an operation ran as (the engine's reason ends with the operation's id).</summary>
    private EventEntry? EventOf(ReshareOperation op) =>
        op.EventId is { } id ? Registry.FindEvent(id) : Registry.ListEvents().LastOrDefault(x => x.Quorum == op.Quorum && x.Reason.EndsWith($"[{op.Id}]", StringComparison.Ordinal));

    /// <summary>The operation with its event's outcome: id, certificate, transcript hash and the wallets (at the epochs) the event actually reshared.</summary>
    private ReshareOperation WithEvent(ReshareOperation op, EventEntry ev) => op with
    {
        EventId = ev.Id, Certificate = ev.Certificate, TranscriptHash = TranscriptHash(ev),
        Wallets = ev.Wallets.Select(w => new WalletAtEpoch(w.Wallet, w.OldEpoch)).ToList(),
    };

    /// <summary>Stores a status change and records it in the audit log.</summary>
    private ReshareOperation Move(ReshareOperation op, OperationStatus to, string? problem, string? actor = null)
    {
        var moved = op.MoveTo(to, Now, problem);
        store.Put(moved);
        Record(AuditKinds.ReshareStatus, op.Quorum, op.Id, new
        {
            from = op.Status.Name(), to = to.Name(), event_id = moved.EventId, transcript_hash = moved.TranscriptHash, problem = moved.Problem,
            wallets = moved.Wallets.Select(w => new { wallet = w.Wallet, epoch = to == OperationStatus.Committed ? w.Epoch + 1 : w.Epoch }),
        }, actor);
        return moved;
    }

    private static object Describe(ReshareOperation op) => new
    {
        reason = op.Reason.KindName, note = op.Reason.Note, wallets = op.Wallets.Select(w => new { wallet = w.Wallet, epoch = w.Epoch }),
        old_members = op.OldMembers, old_threshold = op.OldThreshold, new_members = op.NewMembers, new_threshold = op.NewThreshold,
        allow_offline = op.AllowOffline, window_start = op.Window is { } w ? MaintenanceWindow.Format(w.Start) : null,
        window_end = op.Window is { } w2 ? MaintenanceWindow.Format(w2.End) : null, policy = op.Policy,
    };

    /// <summary>Hex of the transcript hash the new members confirmed, from the commit certificate.</summary>
    private string? TranscriptHash(EventEntry ev)
    {
        if (ev.Certificate is null) return null;
        var cert = Rotor.Rpc.Node.CommitRequest.Parser.ParseFrom(ev.Certificate);
        var first = cert.Certificate.FirstOrDefault();
        if (first is null) return null;
        var scheme = Rotor.Protocols.Schemes.Parse(engine.RequireWallet(ev.Wallets[0].Wallet).Scheme);
        return Convert.ToHexStringLower(Rotor.Protocols.Resharing.SignedReshareConfirmation.Decode(scheme, first.Signed.Span).Confirmation.TranscriptHash);
    }

    // ------------------------------------------------------------------ the scheduler's heartbeat

    /// <summary>
    /// Applies the scheduler to every open operation (start inside the window after a preflight, expire when the
    /// window closed first, settle operations left running by a restart), keeps each rotation policy's next refresh
    /// scheduled and marks backups made obsolete by commits.
    /// </summary>
    public async Task TickAsync()
    {
        if (!await tickGate.WaitAsync(0)) return;
        try
        {
            OperatorContext.Set(null);
            // Each operation's tick, and each other duty, in its own try/catch: one operation's error (logged) never
            // stops the others, the policies, the backups or the mailbox.
            foreach (var op in store.List(activeOnly: true))
            {
                if (runs.ContainsKey(op.Id)) continue;
                try { await TickOneAsync(op); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"operations heartbeat: reshare {op.Id}: {e.Message}");
                }
            }
            Guarded("policies", EnsurePolicies);
            // A run in progress marks the backups its commit makes obsolete itself, naming its operation.
            if (runs.IsEmpty) Guarded("backups", MarkObsoleteBackups);
            try { await DeliverMailAsync(); }
            catch (Exception e) when (e is not OperationCanceledException) { Console.Error.WriteLine($"operations heartbeat: mailbox: {e.Message}"); }
        }
        finally { tickGate.Release(); }
    }

    private static void Guarded(string what, Action duty)
    {
        try { duty(); }
        catch (Exception e) when (e is not OperationCanceledException) { Console.Error.WriteLine($"operations heartbeat: {what}: {e.Message}"); }
    }

    /// <summary>One operation's heartbeat: what the scheduler decides for it, applied.</summary>
    private async Task TickOneAsync(ReshareOperation op)
    {
        switch (Scheduler.Decide(op, clock()))
        {
            case Decision.Start when op.Status == OperationStatus.Scheduled && op.Window is null:
                // An immediate reshare whose caller is gone (a coordinator restart): never start it behind the operator's back.
                Move(op, OperationStatus.Failed, "interrupted before it started (the coordinator restarted); nothing changed", OperatorContext.Coordinator);
                break;
            case Decision.Start when op.Status == OperationStatus.Scheduled:
                await TryStartAsync(op);
                break;
            case Decision.Expire:
                Move(op, OperationStatus.Expired, "the window closed before the reshare could start" + (op.Problem is null ? "" : $" ({op.Problem})"), OperatorContext.Coordinator);
                break;
            case Decision.Start or Decision.Abandon or Decision.Wait when op.Status == OperationStatus.Running:
                Reconcile(op);
                break;
        }
    }

    private async Task TryStartAsync(ReshareOperation op)
    {
        var preflight = Scheduler.Preflight(op, await ClusterViewAsync(op));
        if (preflight.Invalid.Count > 0)
        {
            Move(op, OperationStatus.PreflightFailed, preflight.ToString(), OperatorContext.Coordinator);
            return;
        }
        if (preflight.Blocking.Count > 0)
        {
            if (op.Problem != preflight.ToString()) store.Put(op with { Problem = preflight.ToString() });
            return;
        }
        runs[op.Id] = true;
        _ = Task.Run(async () =>
        {
            try { await RunAsync(op); }
            catch (CoordinatorException) { }
        });
    }

    /// <summary>An operation left running by a coordinator restart takes its engine event's outcome.</summary>
    private void Reconcile(ReshareOperation op)
    {
        var ev = EventOf(op);
        // A running event of an operation not run by this process is the engine's own (it fails those on restart);
        // the heartbeat comes back to it.
        if (ev?.Status == EventStatus.Running) return;
        if (ev?.Status == EventStatus.Committed)
            Move(WithEvent(op, ev), OperationStatus.Committed, null, OperatorContext.Coordinator);
        else
            Move(op with { EventId = ev?.Id }, OperationStatus.Failed, ev?.Error ?? "the coordinator restarted before the reshare started", OperatorContext.Coordinator);
    }
}
