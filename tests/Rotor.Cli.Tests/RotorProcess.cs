using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Rotor.Cli.Tests;

/// <summary>Runs the built <c>rotor</c> (rotor.dll beside the tests) as a real process.</summary>
internal static class RotorProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => RunWith(null, args);

    /// <summary>Runs with extra environment variables (e.g. COLUMNS=80); stdout is a pipe.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rotor.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("rotor " + string.Join(' ', args) + " did not finish");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs with --json and parses stdout, which must be exactly one JSON object.</summary>
    public static (int ExitCode, JsonObject Json) RunJson(params string[] args)
    {
        var (code, stdout, stderr) = Run([.. args, "--json"]);
        var node = JsonNode.Parse(stdout) as JsonObject
            ?? throw new InvalidDataException($"stdout is not one JSON object: {stdout}\nstderr: {stderr}");
        return (code, node);
    }
}
