using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Grpc.Core;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Operations;
using Rotor.Rpc.Requests;

namespace Rotor.Cli.WebConsole;

/// <summary>
/// The console's pages, rendered on the server as plain HTML (minimal APIs; every value goes through one HTML encoder).
/// The only script is /assets/console.js, which signs with the operator's key in the browser; everything else works
/// without script (live progress is a meta refresh while an operation runs).
/// </summary>
public static class ConsolePages
{
    public static readonly string[] Reasons = ["security-policy", "suspected-compromise", "personnel-change", "compliance", "security-incident"];
    private const string SignInDomain = "rotor/console-sign-in/v1\n";

    private static string E(object? v) => HtmlEncoder.Default.Encode(v?.ToString() ?? "");
    private static string Time(long ms) => ms <= 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
    private static string Short(string hex, int n = 16) => hex.Length > n ? hex[..n] + "…" : hex;

    public static void Map(WebApplication app, ConsoleServer s)
    {
        app.MapGet("/assets/{name}", (string name) =>
        {
            var type = name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8" : name.EndsWith(".css", StringComparison.Ordinal) ? "text/css; charset=utf-8" : null;
            return type is not null && ConsoleServer.Asset(name) is { } bytes ? Results.Bytes(bytes, type) : Results.NotFound();
        });
        app.MapGet("/favicon.ico", () => Results.NoContent());
        app.MapGet("/signin", (HttpContext ctx) => Html(SignInPage(ctx, s, null)));
        app.MapPost("/signin", Post((HttpContext ctx) => Guarded(ctx, () => SignIn(ctx, s))));
        app.MapPost("/signout", Post((HttpContext ctx) => Guarded(ctx, async () =>
        {
            if (Session(ctx, s) is { } session)
            {
                s.Sessions.TryRemove(session.Id, out _);
                await ConsoleServer.As(session.Operator, async () => await s.Client.Operations.RecordConsoleEventAsync(new ConsoleEvent { Kind = "sign-out", Operator = session.Operator }));
            }
            ctx.Response.Cookies.Delete(ConsoleServer.SessionCookie, CookieOptions());
            return Results.Redirect("/signin");
        })));
        Page(app, s, "/", Overview);
        Page(app, s, "/wallets/{id}", Wallet);
        Page(app, s, "/reshare", (ctx, s, op) => ReshareGet(ctx, s, op));
        Page(app, s, "/requests", Requests);
        Page(app, s, "/requests/{id}", (ctx, s, op) => RequestPage(ctx, s, op, null, null));
        Page(app, s, "/policies", Policies);
        Page(app, s, "/backups", Backups);
        Page(app, s, "/audit", Audit);
        Page(app, s, "/compliance", Compliance);
        app.MapGet("/compliance.csv", async (HttpContext ctx) =>
        {
            if (Session(ctx, s) is not { } op) return Results.Redirect("/signin");
            var rows = await ConsoleServer.As(op.Operator, () => RotationReport.BuildAsync(s.Client, Q(ctx, "quorum"), DateTimeOffset.UtcNow));
            ctx.Response.Headers.ContentDisposition = "attachment; filename=\"rotations.csv\"";
            return Results.Text(RotationReport.Csv(rows), "text/csv; charset=utf-8");
        });
        app.MapPost("/reshare", Post((HttpContext ctx) => Guarded(ctx, async () =>
            Session(ctx, s) is { } op ? Html(await ConsoleServer.As(op.Operator, () => ReshareSubmit(ctx, s, op)), ctx, s, op) : Results.Redirect("/signin"))));
        app.MapPost("/requests/{id}/approve", Post((HttpContext ctx) => Guarded(ctx, async () =>
            Session(ctx, s) is { } op ? await ConsoleServer.As(op.Operator, () => Approve(ctx, s, op, (string)ctx.Request.RouteValues["id"]!)) : Results.Redirect("/signin"))));
    }

    /// <summary>Typed as a Delegate so that minimal APIs write the returned result (a lambda returning a Task would bind as a RequestDelegate and drop it).</summary>
    private static Delegate Post(Func<HttpContext, Task<IResult>> handler) => handler;

    private delegate Task<string> Handler(HttpContext ctx, ConsoleServer s, ConsoleSession op);

    private static void Page(WebApplication app, ConsoleServer s, string route, Handler handler) =>
        app.MapGet(route, async (HttpContext ctx) =>
        {
            if (Session(ctx, s) is not { } op) return Results.Redirect("/signin");
            try { return Html(await ConsoleServer.As(op.Operator, () => handler(ctx, s, op)), ctx, s, op); }
            catch (RpcException e) { return Html(Layout("Error", $"<div class=\"error\">the coordinator answered: {E(e.Status.Detail)}</div>", ctx, s, op)); }
        });

    private static IResult Html(string body) => Results.Content(body, "text/html; charset=utf-8");
    private static IResult Html(string body, HttpContext ctx, ConsoleServer s, ConsoleSession op) => Html(body);

    /// <summary>Every POST first checks the antiforgery token: a form from elsewhere changes nothing.</summary>
    private static async Task<IResult> Guarded(HttpContext ctx, Func<Task<IResult>> action)
    {
        try { await ctx.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(ctx); }
        catch (AntiforgeryValidationException)
        {
            return Results.Content("<!doctype html><title>Refused</title><p>The form's anti-forgery token is missing or wrong: nothing was done. Reload the page and try again.</p>",
                "text/html; charset=utf-8", statusCode: 400);
        }
        return await action();
    }

    private static CookieOptions CookieOptions() => new() { Secure = true, HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true };

    /// <summary>The signed-in operator, or null (no cookie, unknown, idle too long or too old: the session ends).</summary>
    public static ConsoleSession? Session(HttpContext ctx, ConsoleServer s)
    {
        if (!ctx.Request.Cookies.TryGetValue(ConsoleServer.SessionCookie, out var id) || id is null || !s.Sessions.TryGetValue(id, out var session)) return null;
        var now = DateTimeOffset.UtcNow;
        if (now - session.LastSeen > ConsoleServer.IdleTimeout || now - session.Created > ConsoleServer.SessionLifetime)
        {
            s.Sessions.TryRemove(id, out _);
            return null;
        }
        session.LastSeen = now;
        return session;
    }

    private static string? Q(HttpContext ctx, string name) => ctx.Request.Query.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;

    private static string Csrf(HttpContext ctx)
    {
        var tokens = ctx.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(ctx);
        return $"<input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken)}\">";
    }

    private static string Layout(string title, string body, HttpContext ctx, ConsoleServer s, ConsoleSession? op, bool refresh = false)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
        if (refresh) sb.Append("<meta http-equiv=\"refresh\" content=\"2\">");
        sb.Append($"<title>{E(title)} · Rotor console</title><link rel=\"stylesheet\" href=\"/assets/console.css\"><script src=\"/assets/console.js\" defer></script></head><body><header><strong>Rotor</strong>");
        if (op is not null)
        {
            foreach (var (href, label) in new[] { ("/", "Overview"), ("/reshare", "Reshare"), ("/requests", "Requests"), ("/policies", "Policies"), ("/backups", "Backups"), ("/audit", "Audit log"), ("/compliance", "Compliance") })
                sb.Append($"<a href=\"{href}\">{label}</a>");
            sb.Append($"<span class=\"who\">signed in as <strong id=\"operator\">{E(op.Operator)}</strong> <code>{E(Short(op.Key))}</code></span>");
            sb.Append($"<form method=\"post\" action=\"/signout\">{Csrf(ctx)}<button type=\"submit\">Sign out</button></form>");
        }
        sb.Append($"</header><main><h1>{E(title)}</h1>{body}</main></body></html>");
        return sb.ToString();
    }

    // ------------------------------------------------------------------ sign-in

    private static string SignInPage(HttpContext ctx, ConsoleServer s, string? error)
    {
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var text = SignInDomain + ctx.Request.Host.Value + "\n" + nonce;
        var now = DateTimeOffset.UtcNow;
        foreach (var (k, v) in s.Challenges) if (v.Expires < now) s.Challenges.TryRemove(k, out _);
        // Unauthenticated visitors cannot grow the table without bound: past 10 000 live challenges the oldest go.
        if (s.Challenges.Count > 10_000)
            foreach (var (k, _) in s.Challenges.OrderBy(x => x.Value.Expires).Take(s.Challenges.Count - 10_000)) s.Challenges.TryRemove(k, out _);
        s.Challenges[nonce] = (text, now.AddMinutes(5));
        var body = $"""
            <p>Sign in with your operator key file (made by <code>rotor operator keygen</code>). The key is read and used in this
            browser only, to sign the challenge below; only your public key and the signature are sent.</p>
            {(error is null ? "" : $"<div class=\"error\" id=\"signin-error\">{E(error)}</div>")}
            <form id="signin-form" class="stack" method="post" action="/signin" data-challenge="{E(text)}">
              {Csrf(ctx)}
              <input type="hidden" name="challenge" value="{E(nonce)}"><input type="hidden" name="key"><input type="hidden" name="signature">
              <label for="keyfile">Operator key file</label>
              <input type="file" id="keyfile" accept=".key,.json,application/json"><span class="field-error" data-for="keyfile"></span>
              <p class="hint">Challenge: <code>{E(text.Replace("\n", " | "))}</code></p>
              <button type="submit" id="signin">Sign in</button>
            </form>
            """;
        return Layout("Sign in", body, ctx, s, null);
    }

    private static async Task<IResult> SignIn(HttpContext ctx, ConsoleServer s)
    {
        var form = await ctx.Request.ReadFormAsync();
        string nonce = form["challenge"].ToString(), keyHex = form["key"].ToString(), sigHex = form["signature"].ToString();
        if (!s.Challenges.TryRemove(nonce, out var challenge) || challenge.Expires < DateTimeOffset.UtcNow)
            return Html(SignInPage(ctx, s, "the sign-in challenge is unknown, used or expired: sign in again"));
        byte[] key, signature;
        try { key = Convert.FromHexString(keyHex); signature = Convert.FromHexString(sigHex); }
        catch (FormatException) { return Html(SignInPage(ctx, s, "the key or signature is not hex: nothing was signed in")); }
        if (key.Length != 32 || signature.Length != 64) return Html(SignInPage(ctx, s, "the key must be 32 bytes and the signature 64 bytes"));
        var message = Encoding.UTF8.GetBytes(challenge.Text);
        if (!Verify(key, message, signature)) return Html(SignInPage(ctx, s, "the signature does not verify under the key file's public key: the key file is damaged or altered"));
        var policy = await PolicyAsync(s);
        if (policy is null) return Html(SignInPage(ctx, s, "the nodes pin no common governance policy (or none is online): there are no approvers to sign in as"));
        var approver = policy.Approvers.FirstOrDefault(a => string.Equals(a.Key, keyHex, StringComparison.OrdinalIgnoreCase));
        if (approver is null) return Html(SignInPage(ctx, s, $"the key {Short(keyHex.ToLowerInvariant())} is not an approver in the policy the nodes pin: not signed in"));
        await ConsoleServer.As(approver.Name, async () => await s.Client.Operations.RecordConsoleEventAsync(new ConsoleEvent
        {
            Kind = "sign-in", Operator = approver.Name, Key = Google.Protobuf.ByteString.CopyFrom(key),
            Challenge = Google.Protobuf.ByteString.CopyFrom(message), Signature = Google.Protobuf.ByteString.CopyFrom(signature),
        }));
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        s.Sessions[id] = new ConsoleSession(id, approver.Name, approver.Key, DateTimeOffset.UtcNow);
        ctx.Response.Cookies.Append(ConsoleServer.SessionCookie, id, CookieOptions());
        return Results.Redirect("/");
    }

    private static bool Verify(byte[] key, byte[] message, byte[] signature)
    {
        try
        {
            var pub = NSec.Cryptography.PublicKey.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, key, NSec.Cryptography.KeyBlobFormat.RawPublicKey);
            return NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(pub, message, signature);
        }
        catch (FormatException) { return false; }
    }

    private static async Task<GovernancePolicy?> PolicyAsync(ConsoleServer s)
    {
        var g = await s.Client.Requests.GovernanceAsync(new GovernanceQuery());
        if (g.Policy.IsEmpty) return null;
        try { return GovernancePolicy.Decode(g.Policy.Span); }
        catch (ApprovalException) { return null; }
    }

    // ------------------------------------------------------------------ overview

    private static async Task<string> Overview(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var nodes = await s.Client.Coordinator.ListNodesAsync(new ListNodesRequest());
        var wallets = await s.Client.Coordinator.ListWalletsAsync(new ListWalletsRequest());
        var awaiting = await s.Client.Requests.ListAsync(new ListRequestsQuery { Status = RequestFlow.Awaiting });
        var policies = await s.Client.Operations.ShowPoliciesAsync(new PolicyQuery());
        var sb = new StringBuilder();
        sb.Append("<h2>Quorums</h2><table id=\"quorums\"><tr><th>quorum</th><th>threshold</th><th>members</th><th>wallets</th><th></th></tr>");
        var epochs = new Dictionary<string, SortedSet<ulong>>(StringComparer.Ordinal);
        foreach (var g in wallets.Wallets.GroupBy(w => w.Quorum).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var status = await s.Client.Coordinator.GetQuorumStatusAsync(new QuorumStatusRequest { Name = g.Key });
            foreach (var w in status.Wallets)
                foreach (var n in w.Nodes)
                    foreach (var e in n.ActiveEpochs) (epochs.TryGetValue(n.Node, out var set) ? set : epochs[n.Node] = []).Add(e);
            sb.Append($"<tr><td>{E(g.Key)}</td><td>{status.Quorum.Threshold} of {status.Quorum.Members.Count}</td><td>{E(string.Join(", ", status.Quorum.Members))}</td>" +
                      $"<td>{g.Count()}</td><td><a href=\"/reshare?quorum={Uri.EscapeDataString(g.Key)}\">reshare…</a></td></tr>");
        }
        sb.Append("</table>");
        sb.Append("<h2>Nodes</h2><table id=\"nodes\"><tr><th>node</th><th>online</th><th>last seen</th><th>active epochs held</th></tr>");
        foreach (var n in nodes.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
            sb.Append($"<tr><td>{E(n.Name)}</td><td>{(n.Online ? "<span class=\"ok\">online</span>" : "<span class=\"bad\">offline</span>")}</td><td>{Time(n.LastSeen)}</td>" +
                      $"<td>{E(epochs.TryGetValue(n.Name, out var set) ? string.Join(", ", set) : "-")}</td></tr>");
        sb.Append("</table>");
        sb.Append("<h2>Wallets by scheme</h2>");
        foreach (var g in wallets.Wallets.GroupBy(w => w.Scheme).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.Append($"<h3>{E(g.Key)} ({g.Count()})</h3><table class=\"wallets\"><tr><th>wallet</th><th>quorum</th><th>epoch</th><th>address</th></tr>");
            foreach (var w in g.OrderBy(w => w.WalletId, StringComparer.Ordinal))
                sb.Append($"<tr><td><a href=\"/wallets/{Uri.EscapeDataString(w.WalletId)}\">{E(w.WalletId)}</a></td><td>{E(w.Quorum)}</td><td>{w.Epoch}</td><td><code>{E(w.Address)}</code></td></tr>");
            sb.Append("</table>");
        }
        if (wallets.Wallets.Count == 0) sb.Append("<p>No wallets yet.</p>");
        sb.Append($"<h2>Requests awaiting approval ({awaiting.Requests.Count})</h2>");
        sb.Append(RequestTable(awaiting.Requests));
        sb.Append("<h2>Next scheduled rotation</h2>");
        var next = policies.Policies.Where(p => p.NextWindowStart.Length > 0).OrderBy(p => p.NextWindowStart, StringComparer.Ordinal).FirstOrDefault();
        sb.Append(next is null ? "<p id=\"next-rotation\">No rotation policy is set.</p>"
            : $"<p id=\"next-rotation\">{E(next.Quorum)}: {E(next.NextWindowStart)} to {E(next.NextWindowEnd)} (every {E(next.Every)})</p>");
        return Layout("Overview", sb.ToString(), ctx, s, op);
    }

    private static string RequestTable(IEnumerable<RequestRecord> requests)
    {
        var list = requests.ToList();
        if (list.Count == 0) return "<p>None.</p>";
        var sb = new StringBuilder("<table class=\"requests\"><tr><th>request</th><th>action</th><th>status</th><th>approvals</th><th>requested by</th><th>created</th></tr>");
        foreach (var r in list)
            sb.Append($"<tr><td><a href=\"/requests/{E(r.Id)}\">{E(Short(r.Id, 12))}</a></td><td>{E(r.Action)}</td><td>{StatusHtml(r.Status)}</td>" +
                      $"<td>{r.Approvals.Count} of {r.ApprovalsNeeded}{(r.Approvals.Count > 0 ? " (" + E(string.Join(", ", r.Approvals.Select(a => a.Approver))) + ")" : "")}</td>" +
                      $"<td>{E(r.RequestedBy)}</td><td>{Time(r.Created)}</td></tr>");
        return sb.Append("</table>").ToString();
    }

    private static string StatusHtml(string status) => status switch
    {
        "done" or "committed" => $"<span class=\"ok\">{E(status)}</span>",
        "failed" or "expired" or "cancelled" => $"<span class=\"bad\">{E(status)}</span>",
        _ => $"<span class=\"warn\">{E(status)}</span>",
    };

    // ------------------------------------------------------------------ wallet

    private static async Task<string> Wallet(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var id = (string)ctx.Request.RouteValues["id"]!;
        var wallets = await s.Client.Coordinator.ListWalletsAsync(new ListWalletsRequest());
        var w = wallets.Wallets.FirstOrDefault(x => x.WalletId == id);
        if (w is null) return Layout("Wallet", $"<div class=\"error\">no wallet '{E(id)}'</div>", ctx, s, op);
        var ops = await s.Client.Operations.ListResharesAsync(new ListResharesRequest { Quorum = w.Quorum });
        var approvers = RotationReport.ApproversByOperation(await s.Client.Requests.ListAsync(new ListRequestsQuery()));
        var backups = await s.Client.Operations.ListBackupsAsync(new ListBackupsRequest { Wallet = id });
        var sb = new StringBuilder();
        sb.Append($"<table id=\"wallet\"><tr><th>wallet</th><td>{E(w.WalletId)}</td></tr><tr><th>scheme</th><td>{E(w.Scheme)}</td></tr>" +
                  $"<tr><th>quorum</th><td>{E(w.Quorum)} ({w.Threshold} of {E(string.Join(", ", w.Members))})</td></tr>" +
                  $"<tr><th>address ({E(AddressFormat(w.Scheme))})</th><td><code id=\"address\">{E(w.Address)}</code></td></tr>" +
                  (Commands.Records.AddressesOf(w.Scheme, w.PublicKey)?["bitcoin"] is { } btc ? $"<tr><th>address (Bitcoin P2WPKH, bech32)</th><td><code id=\"address-bitcoin\">{E((string)btc!)}</code></td></tr>" : "") +
                  $"<tr><th>group public key</th><td><code>{E(w.PublicKey)}</code></td></tr><tr><th>current epoch</th><td id=\"epoch\">{w.Epoch}</td></tr></table>");
        sb.Append("<h2>Timeline of epochs</h2><table id=\"timeline\"><tr><th>epochs</th><th>kind</th><th>status</th><th>when</th><th>reason</th><th>requested by</th><th>approved by</th><th>members</th><th>certificate</th></tr>");
        foreach (var o in ops.Operations.Where(o => o.Wallets.Any(c => c.Wallet == id)).OrderByDescending(o => o.Created))
        {
            var change = o.Wallets.First(c => c.Wallet == id);
            sb.Append($"<tr class=\"epoch-row\"><td>{change.OldEpoch} → {change.NewEpoch}</td><td>{E(o.Kind)}</td><td>{StatusHtml(o.Status)}</td><td>{Time(o.Finished > 0 ? o.Finished : o.Created)}</td>" +
                      $"<td class=\"reason\">{E(o.Reason)}{(o.Note.Length > 0 ? "<br><small>" + E(o.Note) + "</small>" : "")}</td>" +
                      $"<td class=\"requested-by\">{E(approvers.TryGetValue(o.Id, out var a) ? a.RequestedBy : o.RequestedBy)}</td>" +
                      $"<td class=\"approved-by\">{E(a.Approvers is { } list ? string.Join(", ", list) : o.Policy.Length > 0 ? "rotation policy" : "-")}</td>" +
                      $"<td>{o.OldThreshold} of {E(string.Join(",", o.OldMembers))} → {o.NewThreshold} of {E(string.Join(",", o.NewMembers))}</td>" +
                      $"<td>{(o.Certificate.Length > 0 ? $"<details><summary><code>{E(Short(o.Certificate, 24))}</code></summary><code>{E(o.Certificate)}</code></details>" : "-")}</td></tr>");
        }
        var first = ops.Operations.SelectMany(o => o.Wallets).Where(c => c.Wallet == id).Select(c => (ulong?)c.OldEpoch).Min() ?? w.Epoch;
        sb.Append($"<tr><td>epoch {first}</td><td>created</td><td><span class=\"ok\">committed</span></td><td colspan=\"6\">distributed key generation</td></tr></table>");
        sb.Append("<h2>Backups</h2>");
        sb.Append(BackupTable(backups.Backups));
        sb.Append($"<p><a href=\"/reshare?quorum={Uri.EscapeDataString(w.Quorum)}\">Request a reshare of {E(w.Quorum)}…</a></p>");
        return Layout($"Wallet {w.WalletId}", sb.ToString(), ctx, s, op);
    }

    private static string AddressFormat(string scheme) => scheme switch
    {
        "ed25519" => "Ed25519, base58 public key (Solana)", "secp256k1" => "secp256k1 FROST, compressed public key", "bip340" => "BIP-340, bech32m P2TR (Bitcoin taproot)",
        "ecdsa-secp256k1" => "ECDSA secp256k1, EIP-55 (Ethereum)", _ => scheme,
    };

    private static string BackupTable(IEnumerable<BackupRecord> backups)
    {
        var list = backups.ToList();
        if (list.Count == 0) return "<p>No backups registered.</p>";
        var sb = new StringBuilder("<table class=\"backups\"><tr><th>backup</th><th>node</th><th>shards</th><th>created</th><th>status</th><th>obsoleted by</th></tr>");
        foreach (var b in list.OrderByDescending(b => b.Created))
            sb.Append($"<tr class=\"backup\" data-status=\"{E(b.Status)}\"><td><code>{E(Short(b.Id, 12))}</code></td><td>{E(b.Node)}</td><td>{E(string.Join(", ", b.Shards.Select(x => $"{Short(x.Wallet, 12)}@{x.Epoch}")))}</td>" +
                      $"<td>{Time(b.Created)}</td><td>{(b.Status == "current" ? "<span class=\"ok\">current</span>" : $"<span class=\"bad\">{E(b.Status)}</span>")}</td><td>{E(b.ObsoletedBy)}</td></tr>");
        return sb.Append("</table>").ToString();
    }

    // ------------------------------------------------------------------ reshare

    private sealed record ReshareForm(string Quorum, string Reason, string Note, string Members, string Threshold, string When, string WindowStart, string WindowEnd);

    private static async Task<string> ReshareGet(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var quorum = Q(ctx, "quorum");
        if (quorum is null)
        {
            var wallets = await s.Client.Coordinator.ListWalletsAsync(new ListWalletsRequest());
            var sb = new StringBuilder("<p>Pick the quorum whose wallets to reshare:</p><ul>");
            foreach (var q in wallets.Wallets.Select(w => w.Quorum).Distinct().Order(StringComparer.Ordinal))
                sb.Append($"<li><a href=\"/reshare?quorum={Uri.EscapeDataString(q)}\">{E(q)}</a></li>");
            return Layout("Reshare", sb.Append("</ul>").ToString(), ctx, s, op);
        }
        return await ReshareForm_(ctx, s, op, new ReshareForm(quorum, "", "", "", "", "now", "", ""), new Dictionary<string, string>(), null);
    }

    private static async Task<string> ReshareForm_(HttpContext ctx, ConsoleServer s, ConsoleSession op, ReshareForm f, Dictionary<string, string> errors, string? error)
    {
        ReshareOperationRecord plan;
        var planSpec = new ReshareSpec { Quorum = f.Quorum, Reason = Reasons.Contains(f.Reason) ? f.Reason : Reasons[0] };
        try { plan = await s.Client.Operations.PlanReshareAsync(planSpec); }
        catch (RpcException e) { return Layout("Reshare", $"<div class=\"error\" id=\"form-error\">cannot plan a reshare of '{E(f.Quorum)}': {E(e.Status.Detail)}</div>", ctx, s, op); }
        // Once the form names valid members and threshold, the plan is of those (what changes, who is needed).
        if (f.Members.Length > 0 && !errors.ContainsKey("members") && !errors.ContainsKey("threshold")
            && uint.TryParse(f.Threshold, NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t > 0)
        {
            planSpec.Members.AddRange(Commands.RootCommandBuilder.List(f.Members));
            planSpec.Threshold = t;
            try { plan = await s.Client.Operations.PlanReshareAsync(planSpec); }
            catch (RpcException) { }
        }
        string Err(string field) => $"<span class=\"field-error\" id=\"error-{field}\">{(errors.TryGetValue(field, out var m) ? E(m) : "")}</span>";
        var members = f.Members.Length > 0 ? f.Members : string.Join(",", plan.OldMembers);
        var threshold = f.Threshold.Length > 0 ? f.Threshold : plan.OldThreshold.ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append($"<h2>Plan (preflight)</h2><table id=\"plan\"><tr><th>quorum</th><td>{E(plan.Quorum)}</td></tr><tr><th>now</th><td>{plan.OldThreshold} of {E(string.Join(", ", plan.OldMembers))}</td></tr>" +
                  $"<tr><th>after</th><td>{plan.NewThreshold} of {E(string.Join(", ", plan.NewMembers))} ({E(plan.Kind.Length > 0 ? plan.Kind : "refresh")})</td></tr>" +
                  $"<tr><th>wallets</th><td>{E(string.Join(", ", plan.Wallets.Select(c => $"{c.Wallet} epoch {c.OldEpoch} → {c.NewEpoch}")))}</td></tr>" +
                  $"<tr><th>nodes needed</th><td>{E(string.Join(", ", plan.Nodes.Select(n => $"{n.Name} ({n.Role}, {(n.Online ? "online" : "OFFLINE")})")))}</td></tr>" +
                  $"<tr><th>preflight</th><td>{(plan.Preflight.Count == 0 ? "<span class=\"ok\">ready</span>" : "<span class=\"bad\">" + E(string.Join("; ", plan.Preflight)) + "</span>")}</td></tr>" +
                  $"<tr><th>backups made obsolete</th><td>{E(plan.ObsoleteBackups.Count == 0 ? "none" : string.Join(", ", plan.ObsoleteBackups))}</td></tr></table>");
        sb.Append("<p class=\"hint\">Same members and threshold: a refresh (new shares, same key and address). Other members or threshold: a restructure.</p>");
        if (error is not null) sb.Append($"<div class=\"error\" id=\"form-error\">{E(error)}</div>");
        sb.Append($"""
            <h2>Request</h2>
            <form method="post" action="/reshare" class="stack" id="reshare-form">
              {Csrf(ctx)}<input type="hidden" name="quorum" value="{E(f.Quorum)}">
              <label for="reason">Reason</label>
              <select name="reason" id="reason"><option value="">choose…</option>{string.Concat(Reasons.Select(r => $"<option{(r == f.Reason ? " selected" : "")}>{E(r)}</option>"))}</select>{Err("reason")}
              <label for="note">Note <span class="hint">(optional, recorded and signed)</span></label>
              <input type="text" name="note" id="note" size="60" value="{E(f.Note)}">{Err("note")}
              <label for="members">Members <span class="hint">(node names, comma-separated)</span></label>
              <input type="text" name="members" id="members" size="40" value="{E(members)}">{Err("members")}
              <label for="threshold">Threshold</label>
              <input type="text" name="threshold" id="threshold" size="4" value="{E(threshold)}">{Err("threshold")}
              <label>When</label>
              <input type="radio" name="when" id="when-now" value="now"{(f.When != "window" ? " checked" : "")}> <label for="when-now" style="display:inline;font-weight:normal">now, once approved</label>
              <input type="radio" name="when" id="when-window" value="window"{(f.When == "window" ? " checked" : "")}> <label for="when-window" style="display:inline;font-weight:normal">in a window</label>{Err("when")}
              <div id="window-fields">
                <label for="window_start">Window start <span class="hint">(ISO 8601 UTC, e.g. 2026-12-06T02:00:00Z)</span></label>
                <input type="text" name="window_start" id="window_start" value="{E(f.WindowStart)}">{Err("window_start")}
                <label for="window_end">Window end</label>
                <input type="text" name="window_end" id="window_end" value="{E(f.WindowEnd)}">{Err("window_end")}
              </div>
              <button type="submit" id="request">Request (the approvers sign it next)</button>
            </form>
            """);
        return Layout($"Reshare {f.Quorum}", sb.ToString(), ctx, s, op);
    }

    private static async Task<string> ReshareSubmit(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var form = await ctx.Request.ReadFormAsync();
        string V(string k) => form[k].ToString().Trim();
        var f = new ReshareForm(V("quorum"), V("reason"), V("note"), V("members"), V("threshold"), V("when"), V("window_start"), V("window_end"));
        var errors = new Dictionary<string, string>();
        if (!Reasons.Contains(f.Reason)) errors["reason"] = $"choose one of: {string.Join(", ", Reasons)}";
        if (f.Note.Length > 500) errors["note"] = "at most 500 characters";
        else if (f.Note.Any(char.IsControl)) errors["note"] = "no control characters";
        var nodes = (await s.Client.Coordinator.ListNodesAsync(new ListNodesRequest())).Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var members = Commands.RootCommandBuilder.List(f.Members);
        if (members.Count == 0) errors["members"] = "name at least one node";
        else if (members.FirstOrDefault(m => !nodes.Contains(m)) is { } unknown) errors["members"] = $"'{unknown}' is not a registered node (known: {string.Join(", ", nodes.Order(StringComparer.Ordinal))})";
        else if (members.Distinct(StringComparer.Ordinal).Count() != members.Count) errors["members"] = "a node is named twice";
        if (!uint.TryParse(f.Threshold, NumberStyles.None, CultureInfo.InvariantCulture, out var threshold) || threshold < 1)
            errors["threshold"] = $"a whole number from 1 to the number of members, got '{f.Threshold}'";
        else if (members.Count > 0 && threshold > members.Count) errors["threshold"] = $"{threshold} is more than the {members.Count} member(s)";
        DateTimeOffset start = default, end = default;
        if (f.When is not ("now" or "window")) errors["when"] = "choose now or a window";
        else if (f.When == "window")
        {
            if (!DateTimeOffset.TryParse(f.WindowStart, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out start)) errors["window_start"] = $"not an ISO 8601 time: '{f.WindowStart}'";
            if (!DateTimeOffset.TryParse(f.WindowEnd, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out end)) errors["window_end"] = $"not an ISO 8601 time: '{f.WindowEnd}'";
            else if (!errors.ContainsKey("window_start") && end <= start) errors["window_end"] = "the window must end after it starts";
        }
        if (errors.Count > 0) return await ReshareForm_(ctx, s, op, f, errors, "nothing was requested: correct the fields marked below");
        var spec = new ReshareSpec { Quorum = f.Quorum, Reason = f.Reason, Note = f.Note, Threshold = threshold };
        spec.Members.AddRange(members);
        if (f.When == "window")
        {
            spec.WindowStart = start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            spec.WindowEnd = end.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }
        RequestRecord record;
        try { record = await s.Client.Requests.SubmitAsync(new ActionSpec { Reshare = spec }); }
        catch (RpcException e) { return await ReshareForm_(ctx, s, op, f, errors, $"the coordinator refused the request, nothing was requested: {e.Status.Detail}"); }
        ctx.Response.Redirect($"/requests/{record.Id}");
        return "";
    }

    // ------------------------------------------------------------------ requests

    private static async Task<string> Requests(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var list = await s.Client.Requests.ListAsync(new ListRequestsQuery());
        return Layout("Requests", RequestTable(list.Requests.OrderByDescending(r => r.Created)), ctx, s, op);
    }

    private static async Task<string> RequestPage(HttpContext ctx, ConsoleServer s, ConsoleSession op, string? notice, string? error)
    {
        var id = (string)ctx.Request.RouteValues["id"]!;
        RequestRecord r;
        try { r = await s.Client.Requests.ShowAsync(new RequestRef { Id = id }); }
        catch (RpcException e) { return Layout("Request", $"<div class=\"error\">{E(e.Status.Detail)}</div>", ctx, s, op); }
        var sb = new StringBuilder();
        if (notice is not null) sb.Append($"<div class=\"notice\" id=\"notice\">{E(notice)}</div>");
        if (error is not null) sb.Append($"<div class=\"error\" id=\"approve-error\">{E(error)}</div>");
        sb.Append($"<table id=\"request\"><tr><th>status</th><td id=\"request-status\">{StatusHtml(r.Status)}</td></tr>" +
                  $"<tr><th>action</th><td>{E(r.Action)}</td></tr><tr><th>approvals</th><td id=\"approvals\">{r.Approvals.Count} of {r.ApprovalsNeeded}" +
                  $"{(r.Approvals.Count > 0 ? " (" + E(string.Join(", ", r.Approvals.Select(a => a.Approver))) + ")" : "")}</td></tr>" +
                  $"<tr><th>requested by</th><td>{E(r.RequestedBy)} at {Time(r.Created)}</td></tr><tr><th>expires</th><td>{E(r.Expires)}</td></tr>" +
                  $"<tr><th>policy</th><td>{E(r.Policy)}</td></tr>" +
                  (r.Error.Length > 0 ? $"<tr><th>error</th><td class=\"bad\">{E(r.Error)}</td></tr>" : "") +
                  (r.Result is { } res && RequestFlow.Summary(res) is { } summary ? $"<tr><th>result</th><td id=\"result\">{E(summary)}</td></tr>" : "") + "</table>");
        var refresh = r.Status == "running";
        if (r.Result?.Reshare is { } done)
        {
            var live = await s.Client.Operations.ShowReshareAsync(new OperationRef { Id = done.Id });
            refresh |= live.Status is not ("committed" or "failed" or "cancelled");
            sb.Append($"<h2>Operation {E(live.Id)}</h2><p>status: <span id=\"operation-status\">{StatusHtml(live.Status)}</span>" +
                      $"{(live.Problem.Length > 0 ? " — " + E(live.Problem) : "")}{(live.WindowStart.Length > 0 ? $" (window {E(live.WindowStart)} to {E(live.WindowEnd)})" : "")}</p>");
            sb.Append("<ul>" + string.Concat(live.Wallets.Select(c => $"<li><a href=\"/wallets/{Uri.EscapeDataString(c.Wallet)}\">{E(c.Wallet)}</a>: epoch {c.OldEpoch} → {c.NewEpoch}</li>")) + "</ul>");
        }
        sb.Append("<h2>What is approved</h2><p class=\"hint\">Every field of the canonical description. An approval is an Ed25519 signature over " +
                  "<code>\"rotor/approval/v1\\n\"</code> followed by exactly these bytes, the same as <code>rotor approve</code> signs; every node checks it.</p>");
        ActionRequest? request = null;
        try { request = RequestFlow.Check(r); }
        catch (CliException e) { sb.Append($"<div class=\"error\">{E(e.Message)}</div>"); }
        if (request is not null)
        {
            sb.Append("<table id=\"description\">");
            foreach (var (field, value) in request.Describe()) sb.Append($"<tr><th>{E(field)}</th><td>{E(value)}</td></tr>");
            sb.Append("</table>");
            sb.Append($"<details><summary>canonical bytes (sha256 {E(r.Digest)})</summary><pre id=\"canonical\">{E(Encoding.UTF8.GetString(r.Description.Span))}</pre></details>");
        }
        if (r.Status == RequestFlow.Awaiting && request is not null)
        {
            var already = r.Approvals.Any(a => string.Equals(a.Key, op.Key, StringComparison.OrdinalIgnoreCase));
            sb.Append(already ? "<p class=\"notice\">You have approved this request.</p>" : $"""
                <h2>Approve</h2>
                <form id="approve-form" class="stack" method="post" action="/requests/{E(r.Id)}/approve" data-description="{Convert.ToBase64String(r.Description.Span)}">
                  {Csrf(ctx)}<input type="hidden" name="key"><input type="hidden" name="signature">
                  <label for="keyfile">Your operator key file ({E(op.Operator)})</label>
                  <input type="file" id="keyfile" accept=".key,.json,application/json"><span class="field-error" data-for="keyfile"></span>
                  <button type="submit" id="approve">Sign and approve</button>
                </form>
                """);
        }
        return Layout($"Request {r.Id}", sb.ToString(), ctx, s, op, refresh);
    }

    private static async Task<IResult> Approve(HttpContext ctx, ConsoleServer s, ConsoleSession op, string id)
    {
        var form = await ctx.Request.ReadFormAsync();
        string keyHex = form["key"].ToString(), sigHex = form["signature"].ToString();
        async Task<IResult> Back(string? notice, string? error) => Html(await RequestPage(ctx, s, op, notice, error));
        byte[] key, signature;
        try { key = Convert.FromHexString(keyHex); signature = Convert.FromHexString(sigHex); }
        catch (FormatException) { return await Back(null, "the approval is not hex: nothing was recorded"); }
        if (key.Length != 32 || signature.Length != 64) return await Back(null, "the approval must carry a 32-byte key and a 64-byte signature: nothing was recorded");
        if (!string.Equals(Convert.ToHexStringLower(key), op.Key, StringComparison.Ordinal))
            return await Back(null, $"you are signed in as {op.Operator}, but the approval is signed with another key ({Short(Convert.ToHexStringLower(key))}): nothing was recorded");
        RequestRecord r;
        try { r = await s.Client.Requests.ShowAsync(new RequestRef { Id = id }); }
        catch (RpcException e) { return await Back(null, e.Status.Detail); }
        if (!Verify(key, ApprovalVerifier.SignedBytes(r.Description.Span), signature))
            return await Back(null, $"refused: the approval's signature does not verify over request {id}'s description (it was altered, or signed over something else); nothing was recorded");
        try
        {
            var after = await s.Client.Requests.ApproveAsync(new ApproveRequest
            {
                Id = id, Key = Google.Protobuf.ByteString.CopyFrom(key), Signature = Google.Protobuf.ByteString.CopyFrom(signature),
            });
            return await Back(after.Status == RequestFlow.Awaiting ? $"approval recorded: {after.Approvals.Count} of {after.ApprovalsNeeded}"
                : $"approval recorded: the request is {after.Status}", null);
        }
        catch (RpcException e) { return await Back(null, $"the coordinator refused the approval: {e.Status.Detail}"); }
    }

    // ------------------------------------------------------------------ policies, backups, audit, compliance

    private static async Task<string> Policies(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var list = await s.Client.Operations.ShowPoliciesAsync(new PolicyQuery());
        var sb = new StringBuilder("<h2>Rotation policies</h2>");
        if (list.Policies.Count == 0) sb.Append("<p>No rotation policy is set (<code>rotor policy set --quorum Q --every 90d --window \"Sun 02:00-04:00\"</code>).</p>");
        else
        {
            sb.Append("<table id=\"policies\"><tr><th>quorum</th><th>every</th><th>window</th><th>set by</th><th>last refresh</th><th>next window</th><th>next operation</th></tr>");
            foreach (var p in list.Policies)
                sb.Append($"<tr><td>{E(p.Quorum)}</td><td>{E(p.Every)}</td><td>{E(p.Window)}</td><td>{E(p.SetBy)} at {Time(p.SetAt)}</td><td>{Time(p.LastRefresh)}</td>" +
                          $"<td>{E(p.NextWindowStart)} to {E(p.NextWindowEnd)}</td><td>{E(p.NextOperation)}</td></tr>");
            sb.Append("</table>");
        }
        sb.Append("<h2>Governance policy the nodes pin</h2>");
        var g = await s.Client.Requests.GovernanceAsync(new GovernanceQuery());
        sb.Append("<table id=\"governance\"><tr><th>node</th><th>online</th><th>policy digest</th><th>problem</th></tr>");
        foreach (var n in g.Nodes) sb.Append($"<tr><td>{E(n.Node)}</td><td>{(n.Online ? "yes" : "no")}</td><td><code>{E(Short(n.Digest, 24))}</code></td><td>{E(n.Error)}</td></tr>");
        sb.Append("</table>");
        if (await PolicyAsync(s) is { } policy)
        {
            sb.Append($"<p>Serial {policy.Serial}. Approvers:</p><ul>{string.Concat(policy.Approvers.Select(a => $"<li>{E(a.Name)} <code>{E(a.Key)}</code></li>"))}</ul>");
            sb.Append("<table><tr><th>action class</th><th>approvals needed</th></tr>" + string.Concat(Actions.Classes.Select(c => $"<tr><td>{E(Actions.Name(c))}</td><td>{policy.Required(c)}</td></tr>")) + "</table>");
        }
        return Layout("Policies", sb.ToString(), ctx, s, op);
    }

    private static async Task<string> Backups(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var list = await s.Client.Operations.ListBackupsAsync(new ListBackupsRequest());
        return Layout("Backups", "<p>A backup is obsolete once a committed reshare has replaced the shards it holds: it can no longer be restored, make a new one.</p>" + BackupTable(list.Backups), ctx, s, op);
    }

    private static async Task<string> Audit(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var sb = new StringBuilder();
        var pinned = s.Cluster.PinnedAuditKey();
        if (pinned is null) sb.Append($"<div class=\"error\" id=\"audit-verdict\">not verified: no pinned audit key ({E(s.Cluster.AuditPinFile)})</div>");
        else
        {
            var verdict = await AuditVerifier.VerifyAsync(s.Client, s.Cluster, pinned);
            sb.Append(verdict.Intact
                ? $"<div class=\"notice\" id=\"audit-verdict\"><span class=\"ok\">verified</span>: {verdict.Chain.Entries} entries, chain and signatures checked here against the pinned audit key <code>{E(Short(Convert.ToHexStringLower(pinned), 24))}</code>; witnessed by {E(string.Join(", ", verdict.Witnesses.Where(w => w.Valid).Select(w => w.Node)))}</div>"
                : $"<div class=\"error\" id=\"audit-verdict\"><span class=\"bad\">NOT intact</span>: {E(verdict.Problem)}{(verdict.FirstBad is { } b ? $" (first bad entry {b})" : "")}</div>");
        }
        var log = await s.Client.Operations.ReadLogAsync(new LogQuery { Quorum = Q(ctx, "quorum") ?? "" });
        sb.Append("<table id=\"log\"><tr><th>#</th><th>time</th><th>kind</th><th>actor</th><th>quorum</th><th>subject</th><th>details</th></tr>");
        foreach (var e in log.Entries.Reverse())
            sb.Append($"<tr><td>{e.Seq}</td><td>{Time(e.Time)}</td><td>{E(e.Kind)}</td><td>{E(e.Actor)}</td><td>{E(e.Quorum)}</td><td>{E(Short(e.Subject, 20))}</td><td><code>{E(e.Details)}</code></td></tr>");
        sb.Append("</table>");
        return Layout("Audit log", sb.ToString(), ctx, s, op);
    }

    private static async Task<string> Compliance(HttpContext ctx, ConsoleServer s, ConsoleSession op)
    {
        var quorum = Q(ctx, "quorum");
        var rows = await RotationReport.BuildAsync(s.Client, quorum, DateTimeOffset.UtcNow);
        var sb = new StringBuilder($"<p>Every wallet's last committed reshare and whether its quorum's rotation policy finds it overdue. <a id=\"csv\" href=\"/compliance.csv{(quorum is null ? "" : "?quorum=" + Uri.EscapeDataString(quorum))}\">Export CSV</a> (the same as <code>rotor report rotations --csv</code>).</p>");
        sb.Append("<table id=\"compliance\"><tr><th>wallet</th><th>quorum</th><th>epoch</th><th>last reshare</th><th>reason</th><th>requested by</th><th>approved by</th><th>policy</th><th>due</th><th>overdue</th></tr>");
        foreach (var r in rows)
            sb.Append($"<tr><td><a href=\"/wallets/{Uri.EscapeDataString(r.Wallet)}\">{E(Short(r.Wallet, 14))}</a></td><td>{E(r.Quorum)}</td><td>{r.Epoch}</td>" +
                      $"<td>{E(r.LastReshare?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "never")}</td><td>{E(r.Reason ?? "-")}</td><td>{E(r.RequestedBy ?? "-")}</td>" +
                      $"<td>{E(string.Join(", ", r.Approvers))}</td><td>{E(r.Every is null ? "none" : "every " + r.Every)}</td>" +
                      $"<td>{E(r.Due?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-")}</td><td>{(r.Overdue ? "<span class=\"bad\">overdue</span>" : "no")}</td></tr>");
        sb.Append("</table>");
        return Layout("Compliance: key rotation", sb.ToString(), ctx, s, op);
    }
}
