using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Rotor.Integration.Tests;

/// <summary>
/// A local cluster in a fresh temporary folder: a coordinator and nodes as separate processes on 127.0.0.1
/// (dynamic ports). Dispose stops them (cluster down, then kills any process still alive) and deletes the folder.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    protected virtual int Nodes => 3;

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "rotor-it-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>Environment entries for the coordinator process (test hooks), as NAME=VALUE.</summary>
    protected virtual IEnumerable<string> CoordinatorEnvironment => [];

    /// <summary>Runs before the cluster is brought up (e.g. to make nodes with another master key provider).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        await PrepareAsync();
        await RotorProcess.Ok(["cluster", "up", "--dir", Dir, "--nodes", Nodes.ToString(), .. CoordinatorEnvironment.SelectMany(e => new[] { "--test-coordinator-env", e })]);
        Api = new ClusterApi(Dir);
    }

    /// <summary>The coordinator's API (reconnect with <see cref="Reconnect"/> after the coordinator restarts).</summary>
    public ClusterApi Api { get; private set; } = null!;

    public void Reconnect()
    {
        Api.Dispose();
        Api = new ClusterApi(Dir);
    }

    public async ValueTask DisposeAsync()
    {
        Api?.Dispose();
        try { await RotorProcess.Run("cluster", "down", "--dir", Dir); }
        catch (Exception) { }
        KillLeftovers();
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { }
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs rotor against this cluster (adds --dir).</summary>
    public Task<JsonObject> Ok(params string[] args) => RotorProcess.Ok([.. args, "--dir", Dir]);

    public Task<string> Fails(params string[] args) => RotorProcess.Fails([.. args, "--dir", Dir]);

    public Task<(int Code, JsonObject Json, string Error)> Run(params string[] args) => RotorProcess.Run([.. args, "--dir", Dir]);

    /// <summary>Runs rotor against this cluster with readable (not JSON) output.</summary>
    public Task<(int Code, string Output, string Error)> RunText(params string[] args) => RotorProcess.RunText([.. args, "--dir", Dir]);

    /// <summary>The pids cluster.json records.</summary>
    public IEnumerable<(string Name, int Pid)> Processes()
    {
        var path = Path.Combine(Dir, "cluster.json");
        if (!File.Exists(path)) yield break;
        var state = JsonNode.Parse(File.ReadAllText(path))!;
        if (state["coordinator"] is JsonObject c) yield return ("coordinator", c["pid"]!.GetValue<int>());
        foreach (var n in state["nodes"]!.AsArray()) yield return (n!["name"]!.GetValue<string>(), n["pid"]!.GetValue<int>());
    }

    /// <summary>Kills one process of the cluster at once (SIGKILL) and waits for it to be gone.</summary>
    public void Kill(string name)
    {
        foreach (var (n, pid) in Processes().Where(p => p.Name == name))
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill();
                p.WaitForExit(10_000);
            }
            catch (ArgumentException) { }
        }
    }

    /// <summary>Waits until the process exits by itself (e.g. a test crash point), at most the timeout.</summary>
    public bool WaitForExit(string name, TimeSpan timeout)
    {
        foreach (var (n, pid) in Processes().Where(p => p.Name == name))
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                return p.WaitForExit(timeout);
            }
            catch (ArgumentException) { return true; }
        }
        return true;
    }

    private void KillLeftovers()
    {
        foreach (var (_, pid) in Processes())
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                if (!p.HasExited && p.StartInfo is not null) p.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
        }
    }
}

/// <summary>A cluster with four nodes (for restructure 2-of-3 → 3-of-4).</summary>
public sealed class FourNodeCluster : ClusterFixture
{
    protected override int Nodes => 4;
}
