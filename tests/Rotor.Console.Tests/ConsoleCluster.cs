using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Rotor.Console.Tests;

/// <summary>
/// One cluster for the class: operators alice and bob (keys made with <c>rotor operator keygen</c>), three nodes that
/// pin both with two approvals for every action, a quorum q1 (2 of cs1..cs3) with one Ed25519 wallet, a backup of
/// cs1, and <c>rotor console</c> running on it; a headless Debian chromium driven by Playwright (never downloaded).
/// </summary>
public sealed class ConsoleCluster : IAsyncLifetime
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "rotor-console-" + Guid.NewGuid().ToString("N")[..8]);
    public string AliceKey => Path.Combine(Dir, "alice.key");
    public string BobKey => Path.Combine(Dir, "bob.key");
    public string WalletId { get; private set; } = "";
    public string Address { get; private set; } = "";
    public string BackupId { get; private set; } = "";
    public string Url { get; private set; } = "";
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    private Process? console;
    private readonly System.Text.StringBuilder log = new();

    /// <summary>What rotor console printed (its errors, for failing tests).</summary>
    public string ConsoleLog { get { lock (log) return log.ToString(); } }

    public async ValueTask InitializeAsync()
    {
        try { await StartAsync(); }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        Directory.CreateDirectory(Dir);
        var alice = Rotor("operator", "keygen", "--out", AliceKey)["publicKey"]!.GetValue<string>();
        var bob = Rotor("operator", "keygen", "--out", BobKey)["publicKey"]!.GetValue<string>();
        Rotor("cluster", "up", "--dir", Dir, "--nodes", "3", "--approvers", $"alice={alice},bob={bob}", "--approvals", "2");
        Rotor("quorum", "create", "--dir", Dir, "--name", "q1", "--threshold", "2", "--members", "cs1,cs2,cs3");
        var wallet = Rotor("wallet", "create", "--dir", Dir, "--quorum", "q1", "--scheme", "ed25519", "--approve-with", $"{AliceKey},{BobKey}");
        WalletId = wallet["walletId"]!.GetValue<string>();
        Address = wallet["address"]!.GetValue<string>();
        var backup = Rotor("backup", "create", "--dir", Dir, "--node", "cs1", "--out", Path.Combine(Dir, "cs1.backup"), "--approve-with", $"{AliceKey},{BobKey}");
        BackupId = (backup["backupId"] ?? backup["id"])?.GetValue<string>() ?? "";

        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rotor.dll"));
        foreach (var a in new[] { "console", "--dir", Dir, "--listen", "127.0.0.1:0" }) psi.ArgumentList.Add(a);
        var endpoint = Path.Combine(Dir, "console", "endpoint");
        if (File.Exists(endpoint)) File.Delete(endpoint);
        console = Process.Start(psi)!;
        console.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        console.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        console.BeginOutputReadLine();
        console.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!File.Exists(endpoint) || (await File.ReadAllTextAsync(endpoint)).Trim().Length == 0)
        {
            if (console.HasExited) throw new InvalidOperationException($"rotor console exited with {console.ExitCode}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException("rotor console did not start");
            await Task.Delay(100);
        }
        Url = (await File.ReadAllTextAsync(endpoint)).Trim().TrimEnd('/');

        Assertions.SetDefaultExpectTimeout(30_000);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(), Headless = true, Args = ["--no-sandbox"],
        });
    }

    /// <summary>Debian's chromium (ROTOR_CHROMIUM overrides); the tests never download a browser.</summary>
    public static string ChromiumPath() =>
        Environment.GetEnvironmentVariable("ROTOR_CHROMIUM") is { Length: > 0 } p ? p
        : new[] { "/usr/bin/chromium", "/usr/lib/chromium/chromium" }.FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException("chromium is not installed: apt-get install -y chromium (or set ROTOR_CHROMIUM)");

    /// <summary>A fresh browser context (its own cookies): one per operator.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, BaseURL = Url, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Response += (_, r) => { lock (log) log.AppendLine($"browser: {r.Status} {r.Request.Method} {r.Url}"); };
        page.Console += (_, m) => { lock (log) log.AppendLine($"browser console: {m.Type} {m.Text}"); };
        page.PageError += (_, e) => { lock (log) log.AppendLine($"browser error: {e}"); };
        return page;
    }

    /// <summary>Signs in on the console with a key file, in the browser.</summary>
    public async Task SignInAsync(IPage page, string keyFile)
    {
        await page.GotoAsync("/signin");
        await page.SetInputFilesAsync("#keyfile", keyFile);
        await page.ClickAsync("#signin");
        try { await page.WaitForURLAsync(Url + "/", new PageWaitForURLOptions { Timeout = 60_000 }); }
        catch (TimeoutException) { throw new InvalidOperationException("sign-in did not reach the overview; the page says: " + await page.ContentAsync() + "\nconsole log: " + ConsoleLog); }
    }

    /// <summary>The docs/console folder of the repository (screenshots).</summary>
    public static string DocsDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rotor.slnx"))) dir = dir.Parent;
        var path = Path.Combine(dir?.FullName ?? Path.GetTempPath(), "docs", "console");
        Directory.CreateDirectory(path);
        return path;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DocsDir(), name + ".png"), FullPage = true });

    /// <summary>Runs rotor with --json; fails the test with its output when it fails.</summary>
    public static JsonObject Rotor(params string[] args)
    {
        var (code, stdout, stderr) = Run([.. args, "--json"]);
        if (code != 0) throw new InvalidOperationException($"rotor {string.Join(' ', args)} exited {code}: {stdout}\n{stderr}");
        return JsonNode.Parse(stdout) as JsonObject ?? throw new InvalidDataException(stdout);
    }

    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rotor.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(entireProcessTree: true); throw new TimeoutException("rotor " + string.Join(' ', args)); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (console is { HasExited: false }) { console.Kill(entireProcessTree: true); await console.WaitForExitAsync(); }
        Run("cluster", "down", "--dir", Dir);
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }
}
