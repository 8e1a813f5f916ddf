namespace Rotor.Cli.Tests;

/// <summary>The console's and the rotation report's bad input: a clear error, non-zero exit, JSON under --json, nothing started.</summary>
public sealed class ConsoleInputTests
{
    [Fact]
    public void Rotation_report_refuses_csv_with_json()
    {
        var error = BadInputTests.Refused("report", "rotations", "--dir", Path.Combine(Path.GetTempPath(), "rotor-none-" + Guid.NewGuid().ToString("N")[..8]), "--csv");
        Assert.Contains("--csv and --json", error);
    }

    [Theory]
    [InlineData("localhost:8443")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:99999")]
    public void Console_refuses_a_bad_listen_address(string listen)
    {
        var dir = Path.Combine(Path.GetTempPath(), "rotor-none-" + Guid.NewGuid().ToString("N")[..8]);
        var error = BadInputTests.Refused("console", "--dir", dir, "--listen", listen);
        Assert.Contains("--listen must be IP:PORT", error);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Console_without_a_cluster_says_so()
    {
        var dir = Path.Combine(Path.GetTempPath(), "rotor-none-" + Guid.NewGuid().ToString("N")[..8]);
        var error = BadInputTests.Refused("console", "--dir", dir);
        Assert.Contains("no cluster in", error);
    }
}
