using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Rotor.Integration.Tests;

/// <summary>Runs the built <c>rotor</c> CLI as a child process and reads its one JSON object.</summary>
public static class RotorProcess
{
    private static readonly Lazy<(string Exe, string[] Prefix)> Command = new(Locate);

    /// <summary>How to start the built CLI: its executable and the arguments that come first.</summary>
    public static (string Exe, string[] Prefix) Cli => Command.Value;

    /// <summary>Runs rotor with --json; returns exit code, the parsed stdout object and stderr.</summary>
    public static async Task<(int Code, JsonObject Json, string Error)> Run(params string[] args)
    {
        var (code, text, error) = await RunText([.. args, "--json"]);
        JsonObject json;
        try { json = JsonNode.Parse(text)?.AsObject() ?? throw new FormatException("empty"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidOperationException($"rotor {string.Join(' ', args)} printed no single JSON object (exit {code}): {text}\n{error}");
        }
        return (code, json, error);
    }

    /// <summary>Runs rotor as given (readable output unless the arguments say --json); returns exit code, stdout and stderr.</summary>
    public static async Task<(int Code, string Output, string Error)> RunText(params string[] args)
    {
        var (exe, prefix) = Command.Value;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment.Remove("ROTOR_TEST_CRASH_AT");
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await p.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"rotor {string.Join(' ', args)} did not finish within 3 minutes");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs rotor and asserts success.</summary>
    public static async Task<JsonObject> Ok(params string[] args)
    {
        var (code, json, error) = await Run(args);
        Assert.True(code == 0, $"rotor {string.Join(' ', args)} failed ({code}): {json["error"]} {error}");
        return json;
    }

    /// <summary>Runs rotor and asserts failure; returns the error message.</summary>
    public static async Task<string> Fails(params string[] args)
    {
        var (code, json, _) = await Run(args);
        Assert.True(code != 0, $"rotor {string.Join(' ', args)} should have failed but printed {json.ToJsonString()}");
        return json["error"]?.GetValue<string>() ?? throw new InvalidOperationException("error object without message");
    }

    /// <summary>The CLI built next to these tests, in the same configuration.</summary>
    private static (string, string[]) Locate()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rotor.slnx"))) dir = dir.Parent;
        if (dir is null) throw new DirectoryNotFoundException("repository root (Rotor.slnx) not found");
        var bin = Path.Combine(dir.FullName, "src", "Rotor.Cli", "bin", configuration, "net10.0");
        var apphost = Path.Combine(bin, "rotor");
        if (File.Exists(apphost)) return (apphost, []);
        var dll = Path.Combine(bin, "rotor.dll");
        if (File.Exists(dll)) return ("dotnet", [dll]);
        throw new FileNotFoundException($"rotor CLI not built in {bin}");
    }
}
