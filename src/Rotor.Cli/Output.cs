using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Spectre.Console;

namespace Rotor.Cli;

/// <summary>An error the CLI reports: exit code 1 (or the given code) and a message that names what is wrong.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// What a command prints. With --json: exactly one JSON object on stdout (an error is <c>{"error": "..."}</c>)
/// and nothing else; otherwise readable text, tables and progress on the terminal.
/// </summary>
public sealed class Output(bool json)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool Json { get; } = json;

    /// <summary>Prints the result: the JSON object, or the human rendering.</summary>
    public void Result(JsonObject result, Action human)
    {
        if (Json) Console.Out.WriteLine(result.ToJsonString(Options));
        else human();
    }

    /// <summary>Runs a long step with a spinner (not in --json mode).</summary>
    public async Task<T> Progress<T>(string what, Func<Task<T>> step)
    {
        if (Json || Console.IsOutputRedirected) return await step();
        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(what), _ => step());
    }

    public Task Progress(string what, Func<Task> step) => Progress(what, async () => { await step(); return 0; });

    /// <summary>
    /// A line of human output (suppressed in --json mode): markup in the literal text, every interpolated value
    /// shown as plain text (names, paths and messages may contain '[' or ']').
    /// </summary>
    public void Line(FormattableString markup)
    {
        if (!Json) AnsiConsole.MarkupLineInterpolated(markup);
    }

    /// <summary>
    /// Prints a label and a token that must be copied exactly (wallet id, address, signature, key) on one line without
    /// wrapping: the token is written as plain text, never reflowed at the terminal's width or when piped (a long
    /// token runs past the edge rather than being broken mid-token).
    /// </summary>
    public static void Token(string label, string token)
    {
        Console.Out.Write(label);
        Console.Out.WriteLine(token);
    }

    /// <summary>Runs a command body and turns every failure into a clear message and a non-zero exit.</summary>
    public static Task<int> Run(bool json, Func<Output, Task> body) => Run(json, async o => { await body(o); return 0; });

    /// <summary>As <see cref="Run(bool, Func{Output, Task})"/>, the body choosing its exit code (e.g. 3: checked, and the check failed).</summary>
    public static async Task<int> Run(bool json, Func<Output, Task<int>> body)
    {
        var output = new Output(json);
        try
        {
            return await body(output);
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            if (json) Console.Out.WriteLine(new JsonObject { ["error"] = message }.ToJsonString(Options));
            Console.Error.WriteLine("error: " + message);
            return e is CliException c ? c.ExitCode : 1;
        }
    }

    private static string? Describe(Exception e) => e switch
    {
        CliException => e.Message,
        RpcException r when r.StatusCode == StatusCode.Unauthenticated => "the coordinator refused the admin token: " + r.Status.Detail,
        RpcException r when r.StatusCode == StatusCode.Unavailable && r.Status.Detail.Contains("Error connecting", StringComparison.OrdinalIgnoreCase) =>
            "cannot reach the coordinator (is the cluster running? rotor cluster up): " + r.Status.Detail,
        RpcException r => string.IsNullOrWhiteSpace(r.Status.Detail) ? $"the call failed with {r.StatusCode}" + (r.Status.DebugException is { } d ? $": {d.Message}" : "") : r.Status.Detail,
        FileNotFoundException or DirectoryNotFoundException or InvalidDataException or InvalidOperationException or ArgumentException
            or UnauthorizedAccessException or IOException => e.Message,
        Rotor.Node.Vault.VaultException or Rotor.Node.Vault.MasterKeyUnavailableException or Rotor.Crypto.RotorCryptoException or Rotor.Coordinator.CoordinatorException => e.Message,
        OperationCanceledException => null,
        JsonException j => Rotor.Crypto.JsonErrors.Describe(j),
        Rotor.Protocols.ProtocolException or FormatException or OverflowException or NotSupportedException => e.Message,
        // Never a stack trace: anything unforeseen is still a clear, non-zero, JSON-under---json error.
        _ => $"unexpected error ({e.GetType().Name}): {e.Message}",
    };
}
