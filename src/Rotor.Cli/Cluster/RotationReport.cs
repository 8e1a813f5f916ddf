using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Operations;
using Rotor.Rpc.Requests;

namespace Rotor.Cli.Cluster;

/// <summary>One wallet's line of the rotation report: its last committed reshare and whether its quorum's rotation policy finds it overdue.</summary>
public sealed record RotationRow(string Wallet, string Quorum, string Scheme, ulong Epoch, DateTimeOffset? LastReshare, string? Operation, string? Kind,
    string? Reason, string? RequestedBy, IReadOnlyList<string> Approvers, string? Every, DateTimeOffset? Due, bool Overdue)
{
    public JsonObject Json() => new()
    {
        ["wallet"] = Wallet, ["quorum"] = Quorum, ["scheme"] = Scheme, ["epoch"] = Epoch, ["lastReshare"] = LastReshare?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["operation"] = Operation, ["kind"] = Kind, ["reason"] = Reason, ["requestedBy"] = RequestedBy,
        ["approvers"] = Commands.Records.Strings(Approvers), ["rotationEvery"] = Every,
        ["due"] = Due?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), ["overdue"] = Overdue,
    };
}

/// <summary>
/// The compliance view of key rotation (<c>rotor report rotations</c> and the console's compliance page): for every
/// wallet, when it was last reshared (committed), why, who requested and who approved it, and whether it is overdue
/// under its quorum's rotation policy (no committed reshare within the policy's period, counted from the last reshare,
/// else from when the policy was set).
/// </summary>
public static class RotationReport
{
    public static async Task<IReadOnlyList<RotationRow>> BuildAsync(ClusterClient client, string? quorum, DateTimeOffset now)
    {
        var wallets = await client.Coordinator.ListWalletsAsync(new ListWalletsRequest { Quorum = quorum ?? "" });
        var ops = await client.Operations.ListResharesAsync(new ListResharesRequest { Quorum = quorum ?? "" });
        var policies = await client.Operations.ShowPoliciesAsync(new PolicyQuery { Quorum = quorum ?? "" });
        var requests = await client.Requests.ListAsync(new ListRequestsQuery());
        var approvers = ApproversByOperation(requests);
        var rows = new List<RotationRow>();
        foreach (var w in wallets.Wallets.OrderBy(w => w.Quorum, StringComparer.Ordinal).ThenBy(w => w.WalletId, StringComparer.Ordinal))
        {
            var last = ops.Operations.Where(o => o.Status == "committed" && o.Wallets.Any(c => c.Wallet == w.WalletId))
                .OrderByDescending(o => o.Finished).FirstOrDefault();
            var policy = policies.Policies.FirstOrDefault(p => p.Quorum == w.Quorum);
            DateTimeOffset? lastAt = last is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(last.Finished);
            DateTimeOffset? due = null;
            if (policy is not null && Period(policy.Every) is { } period)
                due = (lastAt ?? DateTimeOffset.FromUnixTimeMilliseconds(policy.SetAt)) + period;
            (string RequestedBy, IReadOnlyList<string> Approvers)? request = last is not null && approvers.TryGetValue(last.Id, out var a) ? a : null;
            rows.Add(new RotationRow(w.WalletId, w.Quorum, w.Scheme, w.Epoch, lastAt, last?.Id, last?.Kind, last?.Reason, request?.RequestedBy ?? last?.RequestedBy,
                request?.Approvers ?? [], policy?.Every, due, due is { } d && d < now));
        }
        return rows;
    }

    /// <summary>
    /// Who requested and who approved each reshare operation: the request that ran it (the operation itself is started
    /// by whoever gave the last approval, so its own requested_by is not the requester).
    /// </summary>
    public static Dictionary<string, (string RequestedBy, IReadOnlyList<string> Approvers)> ApproversByOperation(RequestList requests)
    {
        var map = new Dictionary<string, (string, IReadOnlyList<string>)>(StringComparer.Ordinal);
        foreach (var r in requests.Requests)
            if (r.Result?.Reshare is { } op && op.Id.Length > 0) map[op.Id] = (r.RequestedBy, r.Approvals.Select(a => a.Approver).ToList());
        return map;
    }

    /// <summary>"90d", "12h", "2w" as a period; null when unreadable.</summary>
    public static TimeSpan? Period(string every)
    {
        if (every.Length < 2 || !long.TryParse(every[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
        return every[^1] switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'w' => TimeSpan.FromDays(7 * n), 'm' => TimeSpan.FromMinutes(n), _ => null };
    }

    public static readonly string[] CsvHeader =
        ["wallet", "quorum", "scheme", "epoch", "last_reshare", "operation", "kind", "reason", "requested_by", "approvers", "rotation_every", "due", "overdue"];

    /// <summary>RFC 4180 CSV, one line per wallet.</summary>
    public static string Csv(IEnumerable<RotationRow> rows)
    {
        static string F(string? v) => v is null ? "" : v.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
        static string T(DateTimeOffset? t) => t?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "";
        var sb = new StringBuilder(string.Join(',', CsvHeader)).Append("\r\n");
        foreach (var r in rows)
            sb.Append(string.Join(',', new[]
            {
                F(r.Wallet), F(r.Quorum), F(r.Scheme), r.Epoch.ToString(CultureInfo.InvariantCulture), T(r.LastReshare), F(r.Operation), F(r.Kind), F(r.Reason),
                F(r.RequestedBy), F(string.Join(" ", r.Approvers)), F(r.Every), T(r.Due), r.Overdue ? "yes" : "no",
            })).Append("\r\n");
        return sb.ToString();
    }
}
