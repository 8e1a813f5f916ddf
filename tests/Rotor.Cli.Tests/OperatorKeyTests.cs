using System.Diagnostics;
using System.Text.Json.Nodes;
using Rotor.Protocols.Governance;

namespace Rotor.Cli.Tests;

/// <summary><c>rotor operator keygen</c>: a new 0600 key file, never overwritten, optionally sealed with a passphrase.</summary>
public sealed class OperatorKeyTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "rotor-opkey-" + Guid.NewGuid().ToString("N")[..8]);

    public OperatorKeyTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        try { Directory.Delete(dir, true); }
        catch (IOException) { }
    }

    [Fact]
    public void Keygen_writes_a_private_0600_file_prints_the_public_key_and_never_overwrites()
    {
        var file = Path.Combine(dir, "alice.key");
        var (code, json) = RotorProcess.RunJson("operator", "keygen", "--out", file);
        Assert.Equal(0, code);
        var pub = json["publicKey"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{64}$", pub);
        Assert.False(json["sealed"]!.GetValue<bool>());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var stored = JsonNode.Parse(File.ReadAllText(file))!;
        Assert.Equal(pub, stored["publicKey"]!.GetValue<string>());
        Assert.Equal(pub, OperatorKeys.PublicKeyOf(Convert.FromHexString(stored["seed"]!.GetValue<string>())));

        var before = File.ReadAllBytes(file);
        var (again, error) = RotorProcess.RunJson("operator", "keygen", "--out", file);
        Assert.NotEqual(0, again);
        Assert.Contains("already exists", error["error"]!.GetValue<string>());
        Assert.Equal(before, File.ReadAllBytes(file));
    }

    [Fact]
    public void A_sealed_key_holds_no_clear_seed_and_needs_its_passphrase()
    {
        var file = Path.Combine(dir, "bob.key");
        var (code, json) = Run(("OPKEY_PASS", "correct horse"), "operator", "keygen", "--out", file, "--passphrase-env", "OPKEY_PASS");
        Assert.Equal(0, code);
        Assert.True(json["sealed"]!.GetValue<bool>());
        var stored = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        Assert.Null(stored["seed"]);
        Assert.Equal("argon2id", stored["kdf"]!.GetValue<string>());

        // Unset variable: refused, no file.
        var (unset, e) = Run(null, "operator", "keygen", "--out", Path.Combine(dir, "carol.key"), "--passphrase-env", "ROTOR_TEST_SURELY_UNSET");
        Assert.NotEqual(0, unset);
        Assert.Contains("ROTOR_TEST_SURELY_UNSET", e["error"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(dir, "carol.key")));
    }

    private static (int, JsonObject) Run((string Name, string Value)? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rotor.dll"));
        foreach (var a in args.Append("--json")) psi.ArgumentList.Add(a);
        if (env is { } v) psi.Environment[v.Name] = v.Value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, JsonNode.Parse(stdout)!.AsObject());
    }
}
