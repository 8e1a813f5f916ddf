using Rotor.Coordinator.Operations;

namespace Rotor.Coordinator.Tests.Operations;

public sealed class RotationPolicyTests
{
    [Theory]
    [InlineData("90d", 90 * 24)]
    [InlineData("12h", 12)]
    [InlineData(" 2W ", 14 * 24)]
    public void Intervals_parse(string text, int hours) => Assert.Equal(TimeSpan.FromHours(hours), RotationInterval.Parse(text).Value);

    [Theory]
    [InlineData("")]
    [InlineData("90")]
    [InlineData("0d")]
    [InlineData("-3d")]
    [InlineData("3m")]
    [InlineData("1.5d")]
    [InlineData("99999d")]
    public void Bad_intervals_are_refused(string text) =>
        Assert.Contains("hours, days or weeks", Assert.Throws<ArgumentException>(() => RotationInterval.Parse(text)).Message);

    [Theory]
    [InlineData("Sun 02:00-04:00", DayOfWeek.Sunday, "Sun 02:00-04:00")]
    [InlineData("saturday 23:30-01:00", DayOfWeek.Saturday, "Sat 23:30-01:00")]
    [InlineData("daily 02:00-03:00", null, "daily 02:00-03:00")]
    public void Windows_parse_and_print(string text, DayOfWeek? day, string printed)
    {
        var w = RecurringWindow.Parse(text);
        Assert.Equal(day, w.Day);
        Assert.Equal(printed, w.ToString());
    }

    [Theory]
    [InlineData("Sun")]
    [InlineData("Sun 2-4")]
    [InlineData("Funday 02:00-04:00")]
    [InlineData("Sun 02:00-02:00")]
    [InlineData("Sun 25:00-26:00")]
    [InlineData("Su 02:00-04:00")]
    public void Bad_windows_are_refused(string text) =>
        Assert.Contains("Sun 02:00-04:00", Assert.Throws<ArgumentException>(() => RecurringWindow.Parse(text)).Message);

    private static RotationPolicy Policy(string every, string window) =>
        new("q1", RotationInterval.Parse(every), RecurringWindow.Parse(window), "alice", 0);

    [Fact]
    public void Next_refresh_is_the_first_window_after_the_interval()
    {
        // Last refresh Wed 2025-01-01 10:00; +90d = Wed 2025-04-01 10:00; the next Sunday 02:00 is 2025-04-06.
        var last = new DateTimeOffset(2025, 1, 1, 10, 0, 0, TimeSpan.Zero);
        var next = Policy("90d", "Sun 02:00-04:00").NextWindow(last, last.AddDays(1));
        Assert.Equal(new DateTimeOffset(2025, 4, 6, 2, 0, 0, TimeSpan.Zero), next.Start);
        Assert.Equal(new DateTimeOffset(2025, 4, 6, 4, 0, 0, TimeSpan.Zero), next.End);
        Assert.Equal(DayOfWeek.Sunday, next.Start.DayOfWeek);
    }

    [Fact]
    public void Overdue_refresh_takes_the_window_open_now_or_the_next_one()
    {
        var last = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var policy = Policy("1d", "daily 02:00-04:00");
        var insideWindow = new DateTimeOffset(2025, 3, 10, 3, 0, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2025, 3, 10, 2, 0, 0, TimeSpan.Zero), policy.NextWindow(last, insideWindow).Start);
        var afterWindow = new DateTimeOffset(2025, 3, 10, 5, 0, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2025, 3, 11, 2, 0, 0, TimeSpan.Zero), policy.NextWindow(last, afterWindow).Start);
    }

    [Fact]
    public void A_window_that_started_before_the_due_time_is_skipped()
    {
        // Due Sun 03:00 inside the Sun 02:00-04:00 window: the refresh waits for the next Sunday.
        var last = new DateTimeOffset(2025, 6, 1, 3, 0, 0, TimeSpan.Zero).AddDays(-7);
        var next = Policy("1w", "Sun 02:00-04:00").NextWindow(last, last);
        Assert.Equal(new DateTimeOffset(2025, 6, 8, 2, 0, 0, TimeSpan.Zero), next.Start);
    }

    [Fact]
    public void Window_across_midnight_ends_the_next_day()
    {
        var last = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var next = Policy("1d", "Sat 23:00-01:00").NextWindow(last, last);
        Assert.Equal(new DateTimeOffset(2025, 6, 7, 23, 0, 0, TimeSpan.Zero), next.Start);
        Assert.Equal(new DateTimeOffset(2025, 6, 8, 1, 0, 0, TimeSpan.Zero), next.End);
    }

    [Fact]
    public void Reasons_and_one_off_windows_parse_with_clear_errors()
    {
        var r = ReshareReason.Parse("suspected-compromise", "  laptop of operator B lost ");
        Assert.Equal(ReshareReasonKind.SuspectedCompromise, r.Kind);
        Assert.Equal("suspected-compromise: laptop of operator B lost", r.ToString());
        Assert.Contains("security-policy, suspected-compromise, personnel-change, compliance, security-incident",
            Assert.Throws<ArgumentException>(() => ReshareReason.Parse("because", null)).Message);
        var w = MaintenanceWindow.Parse("2025-06-01T02:00:00", "2025-06-01T06:00:00+02:00");
        Assert.Equal(TimeSpan.FromHours(2), w.End - w.Start);
        Assert.Equal(TimeSpan.Zero, w.Start.Offset);
        Assert.Contains("not after its start", Assert.Throws<ArgumentException>(() => MaintenanceWindow.Parse("2025-06-01T02:00:00Z", "2025-06-01T04:00:00+02:00")).Message);
        Assert.Contains("--window-end", Assert.Throws<ArgumentException>(() => MaintenanceWindow.Parse("2025-06-01T02:00:00Z", "tomorrow")).Message);
    }
}
