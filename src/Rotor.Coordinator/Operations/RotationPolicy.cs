using System.Globalization;

namespace Rotor.Coordinator.Operations;

/// <summary>How often a quorum is refreshed: a whole number of hours, days or weeks ("12h", "90d", "2w").</summary>
public sealed record RotationInterval
{
    private RotationInterval(TimeSpan value, string text)
    {
        Value = value;
        Text = text;
    }

    public TimeSpan Value { get; }

    /// <summary>The canonical text, e.g. "90d".</summary>
    public string Text { get; }

    public static RotationInterval Parse(string text)
    {
        var t = text?.Trim().ToLowerInvariant() ?? "";
        if (t.Length >= 2 && int.TryParse(t[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            TimeSpan? value = t[^1] switch { 'h' => TimeSpan.FromHours(n), 'd' => TimeSpan.FromDays(n), 'w' => TimeSpan.FromDays(7.0 * n), _ => null };
            if (value is { } v && v <= TimeSpan.FromDays(3660)) return new RotationInterval(v, $"{n}{t[^1]}");
        }
        throw new ArgumentException($"interval '{text}' is not a positive number of hours, days or weeks up to 10 years (e.g. 12h, 90d, 2w)");
    }

    public override string ToString() => Text;
}

/// <summary>
/// A recurring maintenance window, in UTC: one weekday (or every day) from a start time to an end time; an end at or
/// before the start ends on the next day ("Sat 23:00-01:00"). Written "Sun 02:00-04:00" or "daily 02:00-04:00".
/// </summary>
public sealed record RecurringWindow
{
    private static readonly string[] FullDays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

    private RecurringWindow(DayOfWeek? day, TimeOnly start, TimeOnly end)
    {
        Day = day;
        Start = start;
        End = end;
    }

    /// <summary>The weekday it starts on; null: every day.</summary>
    public DayOfWeek? Day { get; }
    public TimeOnly Start { get; }
    public TimeOnly End { get; }

    /// <summary>How long each occurrence lasts (TimeOnly subtraction wraps past midnight).</summary>
    public TimeSpan Length => End - Start;

    public static RecurringWindow Parse(string text)
    {
        var parts = (text ?? "").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var times = parts.Length == 2 ? parts[1].Split('-') : [];
        if (parts.Length == 2 && times.Length == 2
            && TimeOnly.TryParseExact(times[0], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            && TimeOnly.TryParseExact(times[1], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end)
            && start != end)
        {
            var d = parts[0].ToLowerInvariant();
            if (d is "daily" or "*") return new RecurringWindow(null, start, end);
            var i = Array.FindIndex(FullDays, full => d == full || d == full[..3]);
            if (i >= 0) return new RecurringWindow((DayOfWeek)i, start, end);
        }
        throw new ArgumentException($"window '{text}' is not of the form \"Sun 02:00-04:00\" (a weekday or 'daily', then HH:mm-HH:mm in UTC, start and end different)");
    }

    /// <summary>The occurrences that start on or after the day of <paramref name="from"/> minus one (so one in progress is included), in order.</summary>
    public IEnumerable<MaintenanceWindow> Occurrences(DateTimeOffset from)
    {
        var day = DateOnly.FromDateTime(from.UtcDateTime).AddDays(-1);
        for (int i = 0; i < 3700; i++, day = day.AddDays(1))
        {
            if (Day is { } d && day.DayOfWeek != d) continue;
            var start = new DateTimeOffset(day.ToDateTime(Start), TimeSpan.Zero);
            yield return new MaintenanceWindow(start, start + Length);
        }
    }

    public override string ToString() =>
        (Day is { } d ? char.ToUpperInvariant(FullDays[(int)d][0]) + FullDays[(int)d][1..3] : "daily") + $" {Start:HH\\:mm}-{End:HH\\:mm}";
}

/// <summary>A quorum's rotation policy: refresh every <see cref="Every"/>, inside <see cref="Window"/>.</summary>
public sealed record RotationPolicy(string Quorum, RotationInterval Every, RecurringWindow Window, string SetBy, long SetAt)
{
    /// <summary>
    /// The window of the next refresh: the first occurrence that starts no earlier than the last refresh plus the
    /// interval and has not ended by <paramref name="now"/> (one already open counts: the refresh starts at once).
    /// </summary>
    public MaintenanceWindow NextWindow(DateTimeOffset lastRefresh, DateTimeOffset now)
    {
        var due = lastRefresh + Every.Value;
        return Window.Occurrences(due > now ? due : now).First(w => w.Start >= due && w.End > now);
    }
}
