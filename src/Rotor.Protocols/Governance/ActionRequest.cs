using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Rotor.Protocols.Governance;

/// <summary>A member of a quorum as an approval names it: node name, protocol identifier and Ed25519 identity key (hex).</summary>
public sealed record ApprovedMember(string Name, ulong Index, string Identity);

/// <summary>A wallet as an approval names it; <see cref="Epoch"/> is null where the action is not bound to one (signing).</summary>
public sealed record ApprovedWallet(string KeyId, ulong? Epoch);

/// <summary>The message a signing approval covers: its SHA-256 and length (the message itself may be large).</summary>
public sealed record ApprovedMessage(string Sha256, long Length)
{
    public static ApprovedMessage Of(ReadOnlySpan<byte> message) => new(Convert.ToHexStringLower(SHA256.HashData(message)), message.Length);
}

/// <summary>
/// Exactly what an approval approves: a canonical, domain-separated description of one action. Operators sign its
/// canonical bytes (<see cref="Encode"/>: compact JSON, fields in a fixed order, every field present, lists sorted);
/// nodes decode it, refuse any form that is not canonical, and compare every field with what they are asked to do.
/// Readable on purpose: <c>rotor requests show</c> prints it and the console shows it before signing.
/// </summary>
public sealed record ActionRequest
{
    public const string Domain = "rotor/action/v1";

    public required string Action { get; init; }

    /// <summary>128 random bits, hex: a node uses a single-use action's request id once.</summary>
    public required string RequestId { get; init; }

    /// <summary>After this instant (UTC, whole seconds) the approval is refused.</summary>
    public required DateTimeOffset Expires { get; init; }

    public string? Quorum { get; init; }
    public string? Scheme { get; init; }
    public IReadOnlyList<ApprovedWallet> Wallets { get; init; } = [];
    /// <summary>How many wallets a key generation makes.</summary>
    public int? Count { get; init; }
    public int? OldThreshold { get; init; }
    public IReadOnlyList<ApprovedMember> OldMembers { get; init; } = [];
    public int? NewThreshold { get; init; }
    public IReadOnlyList<ApprovedMember> NewMembers { get; init; } = [];
    public string? Reason { get; init; }
    public string? Note { get; init; }
    public ApprovedMessage? Message { get; init; }
    /// <summary>A derivation path (HD wallets), when the action signs for a child key.</summary>
    public string? Path { get; init; }
    /// <summary>The X25519 recipient key (hex) a backup is sealed to.</summary>
    public string? BackupRecipient { get; init; }
    /// <summary>The nodes a backup export or restore runs on.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];
    public ApprovedMember? RepairTarget { get; init; }
    /// <summary>The policy a policy change pins, in full.</summary>
    public GovernancePolicy? Policy { get; init; }
    /// <summary>A rotation policy's schedule, for people reading it (nodes do not enforce times).</summary>
    public string? Schedule { get; init; }

    public ActionClass Class => Actions.ClassOf(Action);

    /// <summary>A new request id (128 random bits).</summary>
    public static string NewRequestId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>An expiry <paramref name="lifetime"/> from <paramref name="now"/>, truncated to whole seconds.</summary>
    public static DateTimeOffset ExpiryFrom(DateTimeOffset now, TimeSpan lifetime) =>
        DateTimeOffset.FromUnixTimeSeconds((now + lifetime).ToUnixTimeSeconds());

    /// <summary>The canonical bytes operators sign.</summary>
    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("domain", Domain);
            w.WriteString("action", Action);
            w.WriteString("requestId", RequestId);
            w.WriteString("expires", Expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            Canonical.String(w, "quorum", Quorum);
            Canonical.String(w, "scheme", Scheme);
            w.WriteStartArray("wallets");
            foreach (var x in Wallets.OrderBy(x => x.KeyId, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("keyId", x.KeyId);
                Canonical.Number(w, "epoch", x.Epoch);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Canonical.Number(w, "count", Count);
            Canonical.Number(w, "oldThreshold", OldThreshold);
            Members(w, "oldMembers", OldMembers);
            Canonical.Number(w, "newThreshold", NewThreshold);
            Members(w, "newMembers", NewMembers);
            Canonical.String(w, "reason", Reason);
            Canonical.String(w, "note", Note);
            if (Message is null) w.WriteNull("message");
            else
            {
                w.WriteStartObject("message");
                w.WriteString("sha256", Message.Sha256);
                w.WriteNumber("length", Message.Length);
                w.WriteEndObject();
            }
            Canonical.String(w, "path", Path);
            Canonical.String(w, "backupRecipient", BackupRecipient);
            w.WriteStartArray("nodes");
            foreach (var n in Nodes.OrderBy(n => n, StringComparer.Ordinal)) w.WriteStringValue(n);
            w.WriteEndArray();
            if (RepairTarget is null) w.WriteNull("repairTarget");
            else { w.WritePropertyName("repairTarget"); Member(w, RepairTarget); }
            if (Policy is null) w.WriteNull("policy");
            else { w.WritePropertyName("policy"); Policy.Write(w); }
            Canonical.String(w, "schedule", Schedule);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>Decodes canonical bytes; refuses anything that does not re-encode to exactly the same bytes.</summary>
    public static ActionRequest Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) throw new ApprovalException(ApprovalFault.Missing, "the request carries no approved description");
        if (bytes.Length > MaxLength) throw new ApprovalException(ApprovalFault.Malformed, $"the approved description is {bytes.Length} bytes (at most {MaxLength})");
        ActionRequest request;
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var r = doc.RootElement;
            if (Canonical.Str(r, "domain") != Domain) throw new ApprovalException(ApprovalFault.Malformed, $"the description is not a {Domain} description");
            request = new ActionRequest
            {
                Action = Canonical.Str(r, "action") ?? "",
                RequestId = Canonical.Str(r, "requestId") ?? "",
                Expires = DateTimeOffset.ParseExact(Canonical.Str(r, "expires") ?? "", "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                Quorum = Canonical.Str(r, "quorum"),
                Scheme = Canonical.Str(r, "scheme"),
                Wallets = r.GetProperty("wallets").EnumerateArray()
                    .Select(x => new ApprovedWallet(Canonical.Str(x, "keyId") ?? "", Canonical.U64(x, "epoch"))).ToList(),
                Count = Canonical.I32(r, "count"),
                OldThreshold = Canonical.I32(r, "oldThreshold"),
                OldMembers = ReadMembers(r.GetProperty("oldMembers")),
                NewThreshold = Canonical.I32(r, "newThreshold"),
                NewMembers = ReadMembers(r.GetProperty("newMembers")),
                Reason = Canonical.Str(r, "reason"),
                Note = Canonical.Str(r, "note"),
                Message = r.GetProperty("message") is { ValueKind: JsonValueKind.Object } m
                    ? new ApprovedMessage(Canonical.Str(m, "sha256") ?? "", m.GetProperty("length").GetInt64()) : null,
                Path = Canonical.Str(r, "path"),
                BackupRecipient = Canonical.Str(r, "backupRecipient"),
                Nodes = r.GetProperty("nodes").EnumerateArray().Select(n => n.GetString() ?? "").ToList(),
                RepairTarget = r.GetProperty("repairTarget") is { ValueKind: JsonValueKind.Object } t ? ReadMember(t) : null,
                Policy = r.GetProperty("policy") is { ValueKind: JsonValueKind.Object } p ? GovernancePolicy.Read(p) : null,
                Schedule = Canonical.Str(r, "schedule"),
            };
        }
        catch (ApprovalException) { throw; }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new ApprovalException(ApprovalFault.Malformed, $"the approved description cannot be decoded ({Canonical.Brief(e)})");
        }
        Actions.ClassOf(request.Action);
        if (request.RequestId.Length != 32 || !request.RequestId.All(Uri.IsHexDigit) || request.RequestId.Any(char.IsUpper))
            throw new ApprovalException(ApprovalFault.Malformed, "the request id is not 32 lower-case hex digits");
        if (!bytes.SequenceEqual(request.Encode()))
            throw new ApprovalException(ApprovalFault.Malformed, "the approved description is not in canonical form");
        return request;
    }

    /// <summary>Largest description accepted (a restructure of many wallets is a few hundred bytes a wallet).</summary>
    public const int MaxLength = 4 * 1024 * 1024;

    /// <summary>SHA-256 of the canonical bytes, hex: how people refer to a description.</summary>
    public string Digest() => Convert.ToHexStringLower(SHA256.HashData(Encode()));

    /// <summary>
    /// Throws <see cref="ApprovalFault.Mismatched"/> naming <paramref name="field"/> unless what was approved equals
    /// what is being done.
    /// </summary>
    public static void Expect<T>(string field, T approved, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(approved, actual))
            throw new ApprovalException(ApprovalFault.Mismatched, $"the approval's {field} is {Show(approved)}, the request's is {Show(actual)}");
    }

    /// <summary>Like <see cref="Expect{T}"/> for sets of values (order does not matter).</summary>
    public static void ExpectSet(string field, IEnumerable<string> approved, IEnumerable<string> actual)
    {
        var a = approved.OrderBy(x => x, StringComparer.Ordinal).ToList();
        var b = actual.OrderBy(x => x, StringComparer.Ordinal).ToList();
        if (!a.SequenceEqual(b))
            throw new ApprovalException(ApprovalFault.Mismatched, $"the approval's {field} are [{string.Join(", ", a)}], the request's are [{string.Join(", ", b)}]");
    }

    /// <summary>Compares member lists by name, identifier and identity key.</summary>
    public static void ExpectMembers(string field, IReadOnlyList<ApprovedMember> approved, IReadOnlyList<ApprovedMember> actual) =>
        ExpectSet(field, approved.Select(MemberText), actual.Select(MemberText));

    private static string MemberText(ApprovedMember m) => $"{m.Name}#{m.Index}:{m.Identity}";

    private static string Show<T>(T value) => value is null ? "none" : value.ToString() ?? "";

    private static void Members(Utf8JsonWriter w, string name, IReadOnlyList<ApprovedMember> members)
    {
        w.WriteStartArray(name);
        foreach (var m in members.OrderBy(m => m.Index)) Member(w, m);
        w.WriteEndArray();
    }

    private static void Member(Utf8JsonWriter w, ApprovedMember m)
    {
        w.WriteStartObject();
        w.WriteString("name", m.Name);
        w.WriteNumber("index", m.Index);
        w.WriteString("identity", m.Identity);
        w.WriteEndObject();
    }

    private static List<ApprovedMember> ReadMembers(JsonElement e) => e.EnumerateArray().Select(ReadMember).ToList();

    private static ApprovedMember ReadMember(JsonElement e) =>
        new(Canonical.Str(e, "name") ?? "", e.GetProperty("index").GetUInt64(), Canonical.Str(e, "identity") ?? "");

    /// <summary>A readable multi-line rendering: what <c>rotor requests show</c> prints before anyone approves.</summary>
    public IEnumerable<(string Field, string Value)> Describe()
    {
        yield return ("action", Action);
        yield return ("request id", RequestId);
        yield return ("expires", Expires.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        if (Quorum is not null) yield return ("quorum", Quorum);
        if (Scheme is not null) yield return ("scheme", Scheme);
        foreach (var x in Wallets) yield return ("wallet", x.Epoch is { } e ? $"{x.KeyId} at epoch {e}" : x.KeyId);
        if (Count is not null) yield return ("wallets to create", Count.ToString()!);
        if (OldThreshold is not null) yield return ("old threshold", OldThreshold.ToString()!);
        foreach (var m in OldMembers) yield return ("old member", $"{m.Name} (#{m.Index}, identity {m.Identity})");
        if (NewThreshold is not null) yield return ("new threshold", NewThreshold.ToString()!);
        foreach (var m in NewMembers) yield return ("new member", $"{m.Name} (#{m.Index}, identity {m.Identity})");
        if (Reason is not null) yield return ("reason", Reason);
        if (Note is not null) yield return ("note", Note);
        if (Message is not null) yield return ("message", $"sha256 {Message.Sha256} ({Message.Length} bytes)");
        if (Path is not null) yield return ("path", Path);
        if (BackupRecipient is not null) yield return ("backup recipient", BackupRecipient);
        foreach (var n in Nodes) yield return ("node", n);
        if (RepairTarget is { } t) yield return ("repair target", $"{t.Name} (#{t.Index}, identity {t.Identity})");
        if (Policy is { } p)
        {
            yield return ("policy serial", p.Serial.ToString(CultureInfo.InvariantCulture));
            foreach (var a in p.Approvers) yield return ("approver", $"{a.Name} {a.Key}");
            foreach (var c in Actions.Classes) yield return ($"approvals for {Actions.Name(c)}", p.Required(c).ToString(CultureInfo.InvariantCulture));
            foreach (var c in p.ApiClients) yield return ("api client", $"{c.Name} {c.Key}" + (c.Quorums.Count > 0 ? $" (quorums {string.Join(", ", c.Quorums)})" : ""));
            foreach (var r in p.BackupRecipients) yield return ("backup recipient", r);
        }
        if (Schedule is not null) yield return ("schedule", Schedule);
        yield return ("digest", Digest());
    }
}

/// <summary>Helpers for the canonical JSON of approvals and policies.</summary>
internal static class Canonical
{
    public static void String(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    public static void Number(Utf8JsonWriter w, string name, ulong? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteNumber(name, value.Value);
    }

    public static void Number(Utf8JsonWriter w, string name, int? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteNumber(name, value.Value);
    }

    public static string? Str(JsonElement e, string name) =>
        e.GetProperty(name) is { ValueKind: JsonValueKind.Null } ? null : e.GetProperty(name).GetString();

    public static ulong? U64(JsonElement e, string name) =>
        e.GetProperty(name) is { ValueKind: JsonValueKind.Null } ? null : e.GetProperty(name).GetUInt64();

    public static int? I32(JsonElement e, string name) =>
        e.GetProperty(name) is { ValueKind: JsonValueKind.Null } ? null : e.GetProperty(name).GetInt32();

    public static string Brief(Exception e) => e switch
    {
        KeyNotFoundException => "a field is missing",
        JsonException => "not valid JSON",
        FormatException => "a value has the wrong format",
        _ => "a value has the wrong type",
    };
}
