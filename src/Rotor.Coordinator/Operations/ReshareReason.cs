namespace Rotor.Coordinator.Operations;

/// <summary>Why a reshare is done; the CLI's names are kebab-case.</summary>
public enum ReshareReasonKind
{
    /// <summary>Routine refresh required by policy (rotation policies use this).</summary>
    SecurityPolicy,
    /// <summary>A member's shard may have been exposed.</summary>
    SuspectedCompromise,
    /// <summary>An operator of a member left or joined.</summary>
    PersonnelChange,
    /// <summary>An audit or regulation requires it.</summary>
    Compliance,
    /// <summary>Response to a confirmed security incident.</summary>
    SecurityIncident,
}

/// <summary>A reshare's reason: one of the kinds, and free text.</summary>
public sealed record ReshareReason(ReshareReasonKind Kind, string Note)
{
    /// <summary>The names the CLI accepts, in order.</summary>
    public static readonly IReadOnlyList<string> Names = Enum.GetValues<ReshareReasonKind>().Select(NameOf).ToArray();

    public static string NameOf(ReshareReasonKind kind) => kind switch
    {
        ReshareReasonKind.SecurityPolicy => "security-policy",
        ReshareReasonKind.SuspectedCompromise => "suspected-compromise",
        ReshareReasonKind.PersonnelChange => "personnel-change",
        ReshareReasonKind.Compliance => "compliance",
        ReshareReasonKind.SecurityIncident => "security-incident",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses a kind name and free text (at most 500 characters); throws naming the accepted kinds.</summary>
    public static ReshareReason Parse(string kind, string? note)
    {
        var k = Enum.GetValues<ReshareReasonKind>().Where(v => NameOf(v) == kind?.Trim().ToLowerInvariant()).Cast<ReshareReasonKind?>().FirstOrDefault()
            ?? throw new ArgumentException($"unknown reason '{kind}': use one of {string.Join(", ", Names)}");
        note = note?.Trim() ?? "";
        if (note.Length > 500) throw new ArgumentException("the reason's text is longer than 500 characters");
        return new ReshareReason(k, note);
    }

    public string KindName => NameOf(Kind);

    /// <summary>"kind: note", or the kind alone.</summary>
    public override string ToString() => Note.Length == 0 ? KindName : $"{KindName}: {Note}";
}
