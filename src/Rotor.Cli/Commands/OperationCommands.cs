using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Operations;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// Reshares as operations (<c>rotor reshare plan|schedule|cancel|list|show</c>), rotation policies
/// (<c>rotor policy set|show|clear</c>) and the audit log (<c>rotor log</c>).
/// </summary>
public static class OperationCommands
{
    /// <summary>The options a reshare is described by, shared by plan, schedule and the immediate reshare.</summary>
    public sealed class SpecOptions
    {
        public Option<string?> Dir { get; } = RootCommandBuilder.Dir();
        public Option<string> Quorum { get; } = new("--quorum") { Description = "Quorum name", Required = true };
        public Option<string?> Wallets { get; } = new("--wallets") { Description = "Comma-separated wallet ids (default: every wallet of the quorum)" };
        public Option<string> Reason { get; } = new("--reason") { Description = "security-policy, suspected-compromise, personnel-change, compliance or security-incident", Required = true };
        public Option<string?> Note { get; } = new("--note") { Description = "Free text recorded with the reason" };
        public Option<string?> Members { get; } = new("--members") { Description = "New member set (default: unchanged)" };
        public Option<int> Threshold { get; } = new("--threshold") { Description = "New threshold (default: unchanged)" };
        public Option<string?> AllowOffline { get; } = new("--allow-offline") { Description = "New members that may be offline: their shares wait in the coordinator's mailbox" };

        public Option<string?> ApproveWith { get; } = RequestFlow.ApproveWith();

        /// <summary>The key files to approve with (<c>--approve-with</c>, else the cluster's operator.key).</summary>
        public IReadOnlyList<string> Keys(ParseResult p, LocalCluster cluster) => RequestFlow.KeyFiles(p.GetValue(ApproveWith), cluster);

        public SpecOptions() => Reason.AcceptOnlyFromAmong("security-policy", "suspected-compromise", "personnel-change", "compliance", "security-incident");

        public void AddTo(Command c, bool approvals = true)
        {
            c.Add(Dir); c.Add(Quorum); c.Add(Wallets); c.Add(Reason); c.Add(Note); c.Add(Members); c.Add(Threshold); c.Add(AllowOffline);
            if (approvals) c.Add(ApproveWith);
        }

        public ReshareSpec Read(ParseResult p)
        {
            var s = new ReshareSpec { Quorum = p.GetValue(Quorum)!, Reason = p.GetValue(Reason)!, Note = p.GetValue(Note) ?? "", Threshold = (uint)p.GetValue(Threshold) };
            s.Wallets.AddRange(RootCommandBuilder.List(p.GetValue(Wallets)));
            s.Members.AddRange(RootCommandBuilder.List(p.GetValue(Members)));
            s.AllowOffline.AddRange(RootCommandBuilder.List(p.GetValue(AllowOffline)));
            return s;
        }
    }

    /// <summary>Adds plan, schedule, cancel, list and show under <c>rotor reshare</c>.</summary>
    public static void AddReshareSubcommands(Command reshare)
    {
        var plan = new Command("plan", "Dry run: the wallets, the nodes needed and which are online, what changes, which backups become obsolete");
        var planSpec = new SpecOptions();
        planSpec.AddTo(plan, approvals: false);
        plan.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(planSpec.Dir)).Connect();
            var r = await o.Progress("checking the cluster", async () => await client.Operations.PlanReshareAsync(planSpec.Read(p)));
            o.Result(Json(r), () => Print(r));
        }));

        var schedule = new Command("schedule", "Schedule a reshare into a maintenance window; it starts inside the window after a preflight, or expires");
        var spec = new SpecOptions();
        spec.AddTo(schedule);
        var start = new Option<string>("--window-start") { Description = "ISO 8601 time the window opens (UTC unless an offset is given)", Required = true };
        var end = new Option<string>("--window-end") { Description = "ISO 8601 time the window closes", Required = true };
        schedule.Add(start); schedule.Add(end);
        schedule.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var s = spec.Read(p);
            // An empty window is not "no window" (which would reshare at once): refused before anything is sent.
            if (string.IsNullOrWhiteSpace(p.GetValue(start))) throw new CliException("--window-start is empty: give an ISO 8601 time, e.g. 2026-01-04T02:00:00Z");
            if (string.IsNullOrWhiteSpace(p.GetValue(end))) throw new CliException("--window-end is empty: give an ISO 8601 time, e.g. 2026-01-04T04:00:00Z");
            var cluster = LocalCluster.From(p.GetValue(spec.Dir));
            using var client = cluster.Connect();
            s.WindowStart = p.GetValue(start)!;
            s.WindowEnd = p.GetValue(end)!;
            var request = await RequestFlow.SubmitAsync(client, new ActionSpec { Reshare = s }, spec.Keys(p, cluster), o, "scheduling the reshare");
            if (RequestFlow.Outcome(request, o) is not { } outcome) return;
            var r = outcome.Reshare;
            o.Result(RequestFlow.Stamp(Json(r), request), () =>
            {
                RequestFlow.PrintApproved(o, request);
                Print(r);
            });
        }));

        var cancel = new Command("cancel", "Cancel a scheduled reshare");
        var cdir = RootCommandBuilder.Dir();
        var cid = new Argument<string>("id") { Description = "Operation id (rs-...)" };
        cancel.Add(cdir); cancel.Add(cid);
        cancel.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(cdir)).Connect();
            var r = await client.Operations.CancelReshareAsync(new OperationRef { Id = p.GetValue(cid)! });
            o.Result(Json(r), () => Print(r));
        }));

        var list = new Command("list", "Reshare operations, oldest first");
        var ldir = RootCommandBuilder.Dir();
        var lquorum = new Option<string?>("--quorum") { Description = "Only this quorum's" };
        list.Add(ldir); list.Add(lquorum);
        list.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(ldir)).Connect();
            var r = await client.Operations.ListResharesAsync(new ListResharesRequest { Quorum = p.GetValue(lquorum) ?? "" });
            o.Result(new JsonObject { ["operations"] = new JsonArray(r.Operations.Select(x => (JsonNode)Json(x)).ToArray()) }, () =>
            {
                var table = new Table().AddColumns("operation", "quorum", "kind", "reason", "window", "status", "requested by");
                foreach (var x in r.Operations)
                    table.AddRow(x.Id, x.Quorum, x.Kind, Markup.Escape(x.Reason), x.WindowStart.Length > 0 ? $"{x.WindowStart} – {x.WindowEnd}" : "now", Status(x.Status), Markup.Escape(x.RequestedBy));
                AnsiConsole.Write(table);
            });
        }));

        var show = new Command("show", "One reshare operation in full");
        var sdir = RootCommandBuilder.Dir();
        var sid = new Argument<string>("id") { Description = "Operation id (rs-...)" };
        show.Add(sdir); show.Add(sid);
        show.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(sdir)).Connect();
            var r = await client.Operations.ShowReshareAsync(new OperationRef { Id = p.GetValue(sid)! });
            o.Result(Json(r), () => Print(r));
        }));

        reshare.Add(plan);
        reshare.Add(schedule);
        reshare.Add(cancel);
        reshare.Add(list);
        reshare.Add(show);
    }

    public static Command Policy()
    {
        var policy = new Command("policy", "Rotation policies: the coordinator schedules refreshes by itself");

        var set = new Command("set", "Refresh a quorum every interval, inside a weekly (or daily) window in UTC");
        var dir = RootCommandBuilder.Dir();
        var quorum = new Option<string>("--quorum") { Description = "Quorum name", Required = true };
        var every = new Option<string>("--every") { Description = "Interval, e.g. 90d, 2w, 12h", Required = true };
        var window = new Option<string>("--window") { Description = "Window, e.g. \"Sun 02:00-04:00\" or \"daily 01:00-02:00\" (UTC)", Required = true };
        var valid = new Option<string?>("--valid-for") { Description = "How long the approved policy lets the scheduler refresh, e.g. 365d (default), 2w, 12h" };
        var approveWith = RequestFlow.ApproveWith();
        set.Add(dir); set.Add(quorum); set.Add(every); set.Add(window); set.Add(valid); set.Add(approveWith);
        set.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var cluster = LocalCluster.From(p.GetValue(dir));
            using var client = cluster.Connect();
            var spec = new ActionSpec { RotationPolicy = new PolicySpec { Quorum = p.GetValue(quorum)!, Every = p.GetValue(every)!, Window = p.GetValue(window)! } };
            if (p.GetValue(valid) is { } v)
            {
                try { spec.LifetimeSeconds = (ulong)Rotor.Coordinator.Operations.RotationInterval.Parse(v).Value.TotalSeconds; }
                catch (ArgumentException e) { throw new CliException($"--valid-for: {e.Message}"); }
            }
            var request = await RequestFlow.SubmitAsync(client, spec, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, "setting the rotation policy");
            if (RequestFlow.Outcome(request, o) is not { } outcome) return;
            var r = outcome.RotationPolicy;
            o.Result(RequestFlow.Stamp(Json(r), request), () =>
            {
                RequestFlow.PrintApproved(o, request);
                Print([r]);
            });
        }));

        var show = new Command("show", "Policies and when each one's next refresh runs");
        var sdir = RootCommandBuilder.Dir();
        var squorum = new Option<string?>("--quorum") { Description = "Only this quorum's" };
        show.Add(sdir); show.Add(squorum);
        show.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(sdir)).Connect();
            var r = await client.Operations.ShowPoliciesAsync(new PolicyQuery { Quorum = p.GetValue(squorum) ?? "" });
            o.Result(new JsonObject { ["policies"] = new JsonArray(r.Policies.Select(x => (JsonNode)Json(x)).ToArray()) }, () => Print(r.Policies));
        }));

        var clear = new Command("clear", "Remove a quorum's policy and cancel the refresh it scheduled");
        var cdir = RootCommandBuilder.Dir();
        var cquorum = new Option<string>("--quorum") { Description = "Quorum name", Required = true };
        clear.Add(cdir); clear.Add(cquorum);
        clear.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(cdir)).Connect();
            var r = await client.Operations.ClearPolicyAsync(new PolicyQuery { Quorum = p.GetValue(cquorum)! });
            o.Result(new JsonObject { ["cleared"] = p.GetValue(cquorum), ["policies"] = new JsonArray(r.Policies.Select(x => (JsonNode)Json(x)).ToArray()) },
                () => o.Line($"policy of {p.GetValue(cquorum)!} removed"));
        }));

        policy.Add(set);
        policy.Add(show);
        policy.Add(clear);
        return policy;
    }

    public static Command Log()
    {
        var log = new Command("log", "The coordinator's append-only, hash-chained, signed audit log");
        var dir = RootCommandBuilder.Dir();
        var quorum = new Option<string?>("--quorum") { Description = "Only this quorum's entries" };
        var verify = new Option<bool>("--verify")
        {
            Description = "Verify here, not on the coordinator: the chain, every signature against the pinned audit key, the signed genesis, "
                + "and the nodes' signed witness statements of the head (truncation, emptying, rollback); name the first bad entry",
        };
        var auditKey = new Option<string?>("--audit-key") { Description = "The pinned audit public key (hex); default: DIR/audit-key.pub" };
        log.Add(dir); log.Add(quorum); log.Add(verify); log.Add(auditKey);
        log.SetAction(async p =>
        {
            var intact = true;
            var code = await Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
            {
                var cluster = LocalCluster.From(p.GetValue(dir));
                using var client = cluster.Connect();
                if (p.GetValue(verify))
                {
                    var pinned = p.GetValue(auditKey) is { } a ? RootCommandBuilder.Hex(a, "--audit-key")
                        : cluster.PinnedAuditKey() ?? throw new CliException($"no pinned audit key: pass --audit-key HEX (the key printed by coordinator init) or keep it in {cluster.AuditPinFile}");
                    if (pinned.Length != 32) throw new CliException("--audit-key must be a 32-byte Ed25519 public key (64 hex digits)");
                    var v = await AuditVerifier.VerifyAsync(client, cluster, pinned);
                    intact = v.Intact;
                    o.Result(v.Json(), () =>
                    {
                        o.Line(v.Intact
                            ? (FormattableString)$"[green]audit log intact[/] (verified here against pinned key {Convert.ToHexStringLower(pinned)}): {v.Chain.Entries} entries, head {v.Chain.HeadHash![..16]}…"
                            : $"[red]audit log NOT intact[/]{(v.FirstBad is { } b ? $" at entry {b}" : "")}: {v.Problem}");
                        foreach (var w in v.Witnesses) o.Line($"  witness {w.Node}: {w.Describe()}");
                    });
                    return;
                }
                var r = await client.Operations.ReadLogAsync(new LogQuery { Quorum = p.GetValue(quorum) ?? "" });
                o.Result(new JsonObject
                {
                    ["publicKey"] = r.PublicKey,
                    ["entries"] = new JsonArray(r.Entries.Select(e => (JsonNode)new JsonObject
                    {
                        ["seq"] = e.Seq, ["time"] = DateTimeOffset.FromUnixTimeMilliseconds(e.Time).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"), ["kind"] = e.Kind,
                        ["quorum"] = e.Quorum.Length > 0 ? e.Quorum : null, ["subject"] = e.Subject.Length > 0 ? e.Subject : null, ["actor"] = e.Actor,
                        ["details"] = JsonNode.Parse(e.Details), ["hash"] = e.Hash,
                    }).ToArray()),
                }, () =>
                {
                    // One entry per line, like a log (a table wraps the details into unreadable columns).
                    foreach (var e in r.Entries)
                        AnsiConsole.MarkupLineInterpolated(
                            $"[grey]{e.Seq,5}  {DateTimeOffset.FromUnixTimeMilliseconds(e.Time):u}[/]  [bold]{e.Kind}[/] {e.Subject}{(e.Quorum.Length > 0 ? $" (quorum {e.Quorum})" : "")} by {e.Actor}  [grey]{e.Details}[/]");
                });
            });
            return code != 0 ? code : intact ? 0 : 3;
        });
        return log;
    }

    // ------------------------------------------------------------------ rendering

    public static JsonObject Json(ReshareOperationRecord r) => new()
    {
        ["id"] = r.Id.Length > 0 ? r.Id : null, ["quorum"] = r.Quorum, ["kind"] = r.Kind, ["status"] = r.Status,
        ["reason"] = r.Reason, ["note"] = r.Note, ["requestedBy"] = r.RequestedBy, ["policy"] = r.Policy.Length > 0 ? r.Policy : null,
        ["wallets"] = new JsonArray(r.Wallets.Select(w => (JsonNode)new JsonObject { ["wallet"] = w.Wallet, ["oldEpoch"] = w.OldEpoch, ["newEpoch"] = w.NewEpoch }).ToArray()),
        ["allWallets"] = r.AllWallets,
        ["oldMembers"] = Records.Strings(r.OldMembers), ["oldThreshold"] = r.OldThreshold,
        ["newMembers"] = Records.Strings(r.NewMembers), ["newThreshold"] = r.NewThreshold, ["allowOffline"] = Records.Strings(r.AllowOffline),
        ["windowStart"] = r.WindowStart.Length > 0 ? r.WindowStart : null, ["windowEnd"] = r.WindowEnd.Length > 0 ? r.WindowEnd : null,
        ["created"] = r.Created, ["started"] = r.Started > 0 ? r.Started : null, ["finished"] = r.Finished > 0 ? r.Finished : null,
        ["eventId"] = r.EventId.Length > 0 ? r.EventId : null, ["transcriptHash"] = r.TranscriptHash.Length > 0 ? r.TranscriptHash : null,
        ["certificate"] = r.Certificate.Length > 0 ? r.Certificate : null, ["problem"] = r.Problem.Length > 0 ? r.Problem : null,
        ["nodes"] = new JsonArray(r.Nodes.Select(n => (JsonNode)new JsonObject { ["name"] = n.Name, ["role"] = n.Role, ["online"] = n.Online, ["allowedOffline"] = n.AllowedOffline }).ToArray()),
        ["preflight"] = Records.Strings(r.Preflight), ["obsoleteBackups"] = Records.Strings(r.ObsoleteBackups),
    };

    private static void Print(ReshareOperationRecord r)
    {
        static string E(string s) => Markup.Escape(s);
        static string Members(uint t, IEnumerable<string> m) => E($"{t}-of-{{{string.Join(", ", m)}}}");
        AnsiConsole.MarkupLine($"{(r.Id.Length > 0 ? $"reshare [bold]{E(r.Id)}[/]" : "[bold]plan[/] (dry run, nothing changed)")} of quorum [bold]{E(r.Quorum)}[/]: {E(r.Kind)}, {Status(r.Status)}");
        AnsiConsole.MarkupLine($"  reason:   {E(r.Reason)}{(r.Note.Length > 0 ? " — " + E(r.Note) : "")}; requested by {E(r.RequestedBy)}");
        AnsiConsole.MarkupLine($"  members:  {Members(r.OldThreshold, r.OldMembers)} -> {Members(r.NewThreshold, r.NewMembers)}" +
                               (r.AllowOffline.Count > 0 ? E($" (may be offline: {string.Join(", ", r.AllowOffline)})") : ""));
        if (r.WindowStart.Length > 0) AnsiConsole.MarkupLine($"  window:   {E(r.WindowStart)} – {E(r.WindowEnd)}");
        // One wallet per line, its id alone at the start (a table would wrap ids mid-token at 80 columns or through a pipe).
        var committed = r.Status == "committed";
        foreach (var w in r.Wallets)
        {
            Output.Token("  wallet ", w.Wallet);
            AnsiConsole.MarkupLine(committed ? $"    epoch {w.OldEpoch} -> {w.NewEpoch} (committed)"
                : r.Status is "plan" or "scheduled" or "running" ? $"    epoch {w.OldEpoch} now, {w.NewEpoch} after the commit"
                : $"    stays at epoch {w.OldEpoch} (planned {w.NewEpoch}; not committed)");
        }
        foreach (var n in r.Nodes)
            AnsiConsole.MarkupLine($"  node {E(n.Name)}: {E(n.Role)}, {(n.Online ? "[green]online[/]" : n.AllowedOffline ? "[yellow]offline (allowed)[/]" : "[red]offline[/]")}");
        foreach (var f in r.Preflight) AnsiConsole.MarkupLine($"  [yellow]preflight:[/] {E(f)}");
        AnsiConsole.MarkupLine(r.ObsoleteBackups.Count > 0
            ? $"  backups made obsolete by the commit: {E(string.Join(", ", r.ObsoleteBackups))}"
            : "  backups made obsolete by the commit: none registered");
        if (r.EventId.Length > 0) AnsiConsole.MarkupLine($"  event {E(r.EventId)}{(r.TranscriptHash.Length > 0 ? $", transcript {E(r.TranscriptHash[..16])}…" : "")}");
        if (r.Problem.Length > 0) AnsiConsole.MarkupLine($"  [red]{E(r.Problem)}[/]");
    }

    private static string Status(string s) => s switch
    {
        "committed" => "[green]committed[/]",
        "scheduled" or "running" or "plan" => $"[blue]{s}[/]",
        _ => $"[red]{s}[/]",
    };

    private static JsonObject Json(PolicyRecord r) => new()
    {
        ["quorum"] = r.Quorum, ["every"] = r.Every, ["window"] = r.Window, ["setBy"] = r.SetBy, ["setAt"] = r.SetAt, ["lastRefresh"] = r.LastRefresh,
        ["nextWindowStart"] = r.NextWindowStart, ["nextWindowEnd"] = r.NextWindowEnd, ["nextOperation"] = r.NextOperation.Length > 0 ? r.NextOperation : null,
    };

    private static void Print(IEnumerable<PolicyRecord> policies)
    {
        var table = new Table().AddColumns("quorum", "every", "window (UTC)", "next refresh", "operation");
        foreach (var r in policies)
            table.AddRow(Markup.Escape(r.Quorum), Markup.Escape(r.Every), Markup.Escape(r.Window), Markup.Escape($"{r.NextWindowStart} – {r.NextWindowEnd}"), Markup.Escape(r.NextOperation));
        AnsiConsole.Write(table);
    }
}
