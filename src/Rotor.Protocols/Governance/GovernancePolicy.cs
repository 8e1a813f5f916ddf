using System.Security.Cryptography;
using System.Text.Json;

namespace Rotor.Protocols.Governance;

/// <summary>An operator who approves actions: a person's name and the Ed25519 public key (hex) they sign with.</summary>
public sealed record Approver(string Name, string Key);

/// <summary>
/// A custody platform's transaction engine: its key's signature alone authorises signing, within the quorums the
/// operators delegated to it (all when <see cref="Quorums"/> is empty). It authorises nothing else.
/// </summary>
public sealed record ApiClient(string Name, string Key, IReadOnlyList<string> Quorums);

/// <summary>
/// The governance policy a node pins at init: who approves, how many approvals each action class needs, which API
/// clients may sign alone, and to which recipient keys backups may be sealed. Changing it is itself an action that
/// needs the current policy's <see cref="ActionClass.PolicyChange"/> approvals, and each change raises
/// <see cref="Serial"/> by one, so an old policy cannot be replayed over a newer one.
/// </summary>
public sealed record GovernancePolicy
{
    public const string Domain = "rotor/policy/v1";

    public ulong Serial { get; init; }
    public required IReadOnlyList<Approver> Approvers { get; init; }
    public required IReadOnlyDictionary<ActionClass, int> Approvals { get; init; }
    public IReadOnlyList<ApiClient> ApiClients { get; init; } = [];
    /// <summary>X25519 public keys (hex) backups may be sealed to.</summary>
    public IReadOnlyList<string> BackupRecipients { get; init; } = [];

    /// <summary>A policy where every class needs <paramref name="approvals"/> of <paramref name="approvers"/>.</summary>
    public static GovernancePolicy Uniform(IReadOnlyList<Approver> approvers, int approvals, IReadOnlyList<string>? backupRecipients = null) =>
        new GovernancePolicy
        {
            Approvers = approvers,
            Approvals = Actions.Classes.ToDictionary(c => c, _ => approvals),
            BackupRecipients = backupRecipients ?? [],
        }.Validated();

    public int Required(ActionClass c) => Approvals.TryGetValue(c, out var m) ? m : int.MaxValue;

    /// <summary>Checks the policy's shape: keys are 32-byte hex, names distinct, every class needs 1..approvers.</summary>
    public GovernancePolicy Validated()
    {
        if (Approvers.Count == 0) throw Invalid("a policy needs at least one approver");
        foreach (var a in Approvers) CheckKey($"approver '{a.Name}'", a.Key);
        if (Approvers.Select(a => a.Key).Distinct().Count() != Approvers.Count) throw Invalid("an approver key is listed twice");
        if (Approvers.Select(a => a.Name).Distinct().Count() != Approvers.Count) throw Invalid("an approver name is listed twice");
        foreach (var c in Actions.Classes)
        {
            if (!Approvals.TryGetValue(c, out var m)) throw Invalid($"the policy does not say how many approvals '{Actions.Name(c)}' needs");
            if (m < 1 || m > Approvers.Count) throw Invalid($"'{Actions.Name(c)}' needs {m} approvals, outside 1..{Approvers.Count} (the number of approvers)");
        }
        foreach (var c in ApiClients) CheckKey($"api client '{c.Name}'", c.Key);
        foreach (var r in BackupRecipients) CheckKey("backup recipient", r);
        return this;
    }

    private static void CheckKey(string who, string hex)
    {
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit) || hex.Any(char.IsUpper))
            throw Invalid($"{who}: a key must be 64 lower-case hex digits (32 bytes)");
    }

    private static ApprovalException Invalid(string message) => new(ApprovalFault.InvalidPolicy, message);

    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) Write(w);
        return stream.ToArray();
    }

    public static GovernancePolicy Decode(ReadOnlySpan<byte> bytes)
    {
        GovernancePolicy policy;
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            policy = Read(doc.RootElement);
        }
        catch (ApprovalException) { throw; }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw Invalid($"the policy cannot be decoded ({Canonical.Brief(e)})");
        }
        if (!bytes.SequenceEqual(policy.Encode())) throw Invalid("the policy is not in canonical form");
        return policy;
    }

    /// <summary>SHA-256 of the canonical bytes, hex.</summary>
    public string Digest() => Convert.ToHexStringLower(SHA256.HashData(Encode()));

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("domain", Domain);
        w.WriteNumber("serial", Serial);
        w.WriteStartArray("approvers");
        foreach (var a in Approvers.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", a.Name);
            w.WriteString("key", a.Key);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("approvals");
        foreach (var c in Actions.Classes) w.WriteNumber(Actions.Name(c), Required(c) == int.MaxValue ? 0 : Required(c));
        w.WriteEndObject();
        w.WriteStartArray("apiClients");
        foreach (var c in ApiClients.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            w.WriteString("key", c.Key);
            w.WriteStartArray("quorums");
            foreach (var q in c.Quorums.OrderBy(q => q, StringComparer.Ordinal)) w.WriteStringValue(q);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("backupRecipients");
        foreach (var r in BackupRecipients.OrderBy(r => r, StringComparer.Ordinal)) w.WriteStringValue(r);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    internal static GovernancePolicy Read(JsonElement e)
    {
        if (Canonical.Str(e, "domain") != Domain) throw Invalid($"not a {Domain} policy");
        var approvals = e.GetProperty("approvals");
        return new GovernancePolicy
        {
            Serial = e.GetProperty("serial").GetUInt64(),
            Approvers = e.GetProperty("approvers").EnumerateArray().Select(a => new Approver(Canonical.Str(a, "name") ?? "", Canonical.Str(a, "key") ?? "")).ToList(),
            Approvals = Actions.Classes.ToDictionary(c => c, c => approvals.GetProperty(Actions.Name(c)).GetInt32()),
            ApiClients = e.GetProperty("apiClients").EnumerateArray().Select(c => new ApiClient(Canonical.Str(c, "name") ?? "", Canonical.Str(c, "key") ?? "",
                c.GetProperty("quorums").EnumerateArray().Select(q => q.GetString() ?? "").ToList())).ToList(),
            BackupRecipients = e.GetProperty("backupRecipients").EnumerateArray().Select(r => r.GetString() ?? "").ToList(),
        }.Validated();
    }

    public bool Equals(GovernancePolicy? other) => other is not null && Encode().AsSpan().SequenceEqual(other.Encode());
    public override int GetHashCode() => Digest().GetHashCode(StringComparison.Ordinal);
}
