using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Rotor.Cli.Cluster;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Requests;
using Spectre.Console;

namespace Rotor.Cli.Governance;

/// <summary>
/// How every action command goes through the operators' approval: it submits the action as a request (the
/// coordinator describes it canonically), signs the description with each key given by <c>--approve-with</c> (or,
/// with a cluster folder, DIR/operator.key), and either prints the outcome (enough approvals: the action ran) or
/// <c>status: awaiting-approval</c> with the request id and the approvals so far and needed.
/// </summary>
public static class RequestFlow
{
    public const string Awaiting = "awaiting-approval", Done = "done", Failed = "failed";

    public static Option<string?> ApproveWith() => new("--approve-with")
    {
        Description = "Operator key files (comma-separated) to approve the request with at once (default: DIR/operator.key of the cluster folder, if there is one)",
    };

    /// <summary>The key files to approve with: those given, else the cluster folder's operator.key when it exists.</summary>
    public static IReadOnlyList<string> KeyFiles(string? approveWith, LocalCluster cluster)
    {
        if (approveWith is not null)
        {
            var files = Commands.RootCommandBuilder.List(approveWith);
            if (files.Count == 0) throw new CliException("--approve-with names no key file");
            return files;
        }
        return File.Exists(cluster.OperatorKeyPath) ? [cluster.OperatorKeyPath] : [];
    }

    /// <summary>Submits <paramref name="spec"/> and approves it with every key file; returns the request as it stands.</summary>
    public static async Task<RequestRecord> SubmitAsync(ClusterClient client, ActionSpec spec, IReadOnlyList<string> keyFiles, Output o, string what)
    {
        var record = await client.Requests.SubmitAsync(spec);
        foreach (var file in keyFiles)
        {
            if (record.Status != Awaiting) break;
            record = await ApproveAsync(client, record, file, o, what);
        }
        return record;
    }

    /// <summary>Signs the request's description with one key file (after checking it is a well-formed description of this very request) and submits the approval.</summary>
    public static async Task<RequestRecord> ApproveAsync(ClusterClient client, RequestRecord record, string keyFile, Output o, string what)
    {
        var request = Check(record);
        var signature = OperatorKeyFile.Approve(keyFile, record.Description.Span);
        var id = record.Id;
        return await o.Progress(what, async () => await client.Requests.ApproveAsync(new ApproveRequest
        {
            Id = id, Key = ByteString.CopyFrom(signature.Key), Signature = ByteString.CopyFrom(signature.Signature),
        }));
    }

    /// <summary>The decoded description; refuses one that is not canonical or names another request id.</summary>
    public static ActionRequest Check(RequestRecord record)
    {
        ActionRequest request;
        try { request = ActionRequest.Decode(record.Description.Span); }
        catch (ApprovalException e) { throw new CliException($"request {record.Id}: the coordinator's description is unusable, nothing signed: {e.Message}"); }
        if (request.RequestId != record.Id)
            throw new CliException($"request {record.Id}: the description is of request {request.RequestId}, nothing signed");
        return request;
    }

    /// <summary>
    /// The outcome: the action's result when it ran; null after printing the awaiting status when it waits for
    /// approvals; a failure becomes the command's error.
    /// </summary>
    public static ActionResult? Outcome(RequestRecord r, Output o)
    {
        switch (r.Status)
        {
            case Done: return r.Result;
            case Awaiting:
                o.Result(AwaitingJson(r), () => PrintAwaiting(o, r));
                return null;
            default:
                throw new CliException(r.Error.Length > 0 ? $"request {r.Id} {r.Status}: {r.Error}" : $"request {r.Id} is {r.Status}");
        }
    }

    public static JsonObject AwaitingJson(RequestRecord r) => new()
    {
        ["status"] = r.Status, ["requestId"] = r.Id, ["action"] = r.Action, ["approvals"] = r.Approvals.Count, ["approvalsNeeded"] = r.ApprovalsNeeded,
        ["approvers"] = Commands.Records.Strings(r.Approvals.Select(a => a.Approver)), ["expires"] = r.Expires, ["digest"] = r.Digest,
    };

    public static void PrintAwaiting(Output o, RequestRecord r)
    {
        o.Line($"status: [yellow]{r.Status}[/]");
        o.Line($"request: [bold]{r.Id}[/] ({r.Action}), expires {r.Expires}");
        o.Line($"approvals: {r.Approvals.Count} of {r.ApprovalsNeeded}{(r.Approvals.Count > 0 ? $" ({string.Join(", ", r.Approvals.Select(a => a.Approver))})" : "")}");
        o.Line($"approve with: rotor approve {r.Id} --key FILE");
    }

    /// <summary>Adds who approved to a command's JSON result, and says it in human mode.</summary>
    public static JsonObject Stamp(JsonObject json, RequestRecord r)
    {
        json["requestId"] = r.Id;
        json["approvedBy"] = Commands.Records.Strings(r.Approvals.Select(a => a.Approver));
        return json;
    }

    /// <summary>One line: who approved which request.</summary>
    public static void PrintApproved(Output o, RequestRecord r) =>
        o.Line($"[grey]request {r.Id} ({r.Action}) approved by {string.Join(", ", r.Approvals.Select(a => a.Approver))}[/]");

    /// <summary>A request as JSON: the record and exactly the description that is signed.</summary>
    public static JsonObject Json(RequestRecord r)
    {
        var json = new JsonObject
        {
            ["id"] = r.Id, ["action"] = r.Action, ["status"] = r.Status, ["approvals"] = r.Approvals.Count, ["approvalsNeeded"] = r.ApprovalsNeeded,
            ["approvers"] = new JsonArray(r.Approvals.Select(a => (JsonNode)new JsonObject
            {
                ["approver"] = a.Approver, ["key"] = a.Key, ["time"] = DateTimeOffset.FromUnixTimeMilliseconds(a.Time).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            }).ToArray()),
            ["expires"] = r.Expires, ["requestedBy"] = r.RequestedBy,
            ["created"] = DateTimeOffset.FromUnixTimeMilliseconds(r.Created).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            ["finished"] = r.Finished > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(r.Finished).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") : null,
            ["error"] = r.Error.Length > 0 ? r.Error : null, ["policy"] = r.Policy, ["digest"] = r.Digest,
            ["description"] = JsonNode.Parse(r.Description.Span),
            ["canonical"] = Encoding.UTF8.GetString(r.Description.Span),
            ["result"] = r.Result is null ? null : JsonNode.Parse(JsonFormatter.Default.Format(r.Result)),
        };
        return json;
    }

    /// <summary>The readable form: the record, then every field of what is (or was) signed.</summary>
    public static void Print(RequestRecord r, bool withDescription = true)
    {
        static string E(string s) => Markup.Escape(s);
        var status = r.Status switch { Done => "[green]done[/]", Failed => "[red]failed[/]", Awaiting => "[yellow]awaiting-approval[/]", _ => E(r.Status) };
        AnsiConsole.MarkupLine($"request [bold]{E(r.Id)}[/]: {E(r.Action)}, {status}");
        AnsiConsole.MarkupLine($"  approvals: {r.Approvals.Count} of {r.ApprovalsNeeded}" +
                               (r.Approvals.Count > 0 ? E($" ({string.Join(", ", r.Approvals.Select(a => a.Approver))})") : "") + $"  [grey]{E(r.Policy)}[/]");
        AnsiConsole.MarkupLine($"  requested by {E(r.RequestedBy)} at {DateTimeOffset.FromUnixTimeMilliseconds(r.Created):u}, expires {E(r.Expires)}");
        if (r.Error.Length > 0) AnsiConsole.MarkupLine($"  [red]error:[/] {E(r.Error)}");
        if (r.Result is { } result && Summary(result) is { } summary) AnsiConsole.MarkupLine($"  result: {E(summary)}");
        if (!withDescription) return;
        AnsiConsole.MarkupLine("  [bold]what is approved[/] (signed as \"rotor/approval/v1\\n\" + the canonical description):");
        PrintDescription(Check(r));
    }

    public static void PrintDescription(ActionRequest request)
    {
        var table = new Table().HideHeaders().AddColumns("field", "value");
        foreach (var (field, value) in request.Describe()) table.AddRow(Markup.Escape(field), Markup.Escape(value));
        AnsiConsole.Write(table);
    }

    /// <summary>One line on what an action did.</summary>
    public static string? Summary(ActionResult r) => r.KindCase switch
    {
        ActionResult.KindOneofCase.Wallets => $"{r.Wallets.Wallets.Count} wallet(s) created: {string.Join(", ", r.Wallets.Wallets.Take(5).Select(w => w.WalletId))}{(r.Wallets.Wallets.Count > 5 ? ", …" : "")}",
        ActionResult.KindOneofCase.Signature => $"signature {Convert.ToHexStringLower(r.Signature.Signature.Span)} by {string.Join(", ", r.Signature.Signers)} (epoch {r.Signature.Epoch})",
        ActionResult.KindOneofCase.Reshare => $"reshare {r.Reshare.Id} {r.Reshare.Status}" + (r.Reshare.Wallets.Count > 0 ? $", epoch {r.Reshare.Wallets.Min(w => w.OldEpoch)} -> {r.Reshare.Wallets.Max(w => w.NewEpoch)}" : ""),
        ActionResult.KindOneofCase.Repair => $"{r.Repair.Node}'s shard of {r.Repair.Wallet} epoch {r.Repair.Epoch} rebuilt with {string.Join(", ", r.Repair.Helpers)}",
        ActionResult.KindOneofCase.Backup => $"backup {r.Backup.Id} of {r.Backup.Node}: {string.Join(", ", r.Backup.Shards.Select(s => $"{s.Wallet}@{s.Epoch}"))}",
        ActionResult.KindOneofCase.Restore => $"backup {r.Restore.BackupId} restored onto {r.Restore.Node}: {string.Join(", ", r.Restore.Restored)}",
        ActionResult.KindOneofCase.RotationPolicy => $"rotation policy of {r.RotationPolicy.Quorum}: every {r.RotationPolicy.Every} in {r.RotationPolicy.Window}, next {r.RotationPolicy.NextWindowStart}",
        ActionResult.KindOneofCase.Governance => $"policy updated on {(r.Governance.Updated.Count == 0 ? "no node" : string.Join(", ", r.Governance.Updated))}" +
                                                 (r.Governance.Failed.Count > 0 ? $"; failed: {string.Join("; ", r.Governance.Failed)}" : ""),
        _ => null,
    };
}
