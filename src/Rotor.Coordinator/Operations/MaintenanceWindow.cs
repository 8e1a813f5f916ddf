using System.Globalization;

namespace Rotor.Coordinator.Operations;

/// <summary>A half-open interval [Start, End) in which a scheduled reshare may start and must commit.</summary>
public sealed record MaintenanceWindow
{
    public MaintenanceWindow(DateTimeOffset start, DateTimeOffset end)
    {
        if (end <= start) throw new ArgumentException($"window end {Format(end)} is not after its start {Format(start)}");
        Start = start.ToUniversalTime();
        End = end.ToUniversalTime();
    }

    public DateTimeOffset Start { get; }
    public DateTimeOffset End { get; }

    public bool IsOpen(DateTimeOffset now) => now >= Start && now < End;

    public bool HasClosed(DateTimeOffset now) => now >= End;

    /// <summary>Parses ISO 8601 times (a time without an offset is UTC).</summary>
    public static MaintenanceWindow Parse(string start, string end) => new(ParseTime(start, "--window-start"), ParseTime(end, "--window-end"));

    public static DateTimeOffset ParseTime(string text, string what) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new ArgumentException($"{what} '{text}' is not an ISO 8601 time (e.g. 2025-06-01T02:00:00Z)");

    public static string Format(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public override string ToString() => $"{Format(Start)} – {Format(End)}";
}
