using System.Diagnostics;
using System.Text.Json;
using Rotor.Coordinator;
using Rotor.Node;
using Rotor.Rpc;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Tls;

namespace Rotor.Cli.Cluster;

/// <summary>A running process of a local cluster.</summary>
public sealed record ProcessEntry(string Name, int Pid, string Endpoint);

/// <summary>What <c>cluster up</c> records in DIR/cluster.json: the processes it started.</summary>
public sealed class ClusterState
{
    public ProcessEntry? Coordinator { get; set; }
    public List<ProcessEntry> Nodes { get; set; } = [];
}

/// <summary>
/// A local cluster in one folder: DIR/ca (the CA; its key is needed only to add nodes), DIR/coordinator,
/// DIR/nodes/NAME, DIR/logs, DIR/cluster.json. Starts each party as a separate <c>rotor</c> process on 127.0.0.1.
/// </summary>
public sealed class LocalCluster(string directory)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public string Dir { get; } = Path.GetFullPath(directory);
    public string CaDir => Path.Combine(Dir, "ca");
    public string CoordinatorDir => Path.Combine(Dir, "coordinator");
    public string NodeDir(string name) => Path.Combine(Dir, "nodes", name);
    private string StatePath => Path.Combine(Dir, "cluster.json");

    /// <summary>The operators' pin of the coordinator's audit public key (hex): what <c>rotor log --verify</c> checks the log against.</summary>
    public string AuditPinFile => Path.Combine(Dir, "audit-key.pub");

    /// <summary>The local development backup recipient: private key (hex, 0600) and public key (hex), pinned on every node of the cluster.</summary>
    public string BackupRecipientKeyFile => Path.Combine(Dir, "backup-recipient.key");

    public string BackupRecipientPublicFile => Path.Combine(Dir, "backup-recipient.pub");

    /// <summary>The cluster CA's certificate (public): node certificates are checked against it on the operator's side.</summary>
    public string CaCertificateFile => Path.Combine(CaDir, ClusterCa.CertificateFile);

    /// <summary>
    /// What every node of this cluster pins: the coordinator's certificate, the cluster's backup recipient (made here,
    /// private key in DIR/backup-recipient.key) and the coordinator's audit key. Makes the recipient and the operators'
    /// audit pin on first use.
    /// </summary>
    public NodePins Pins()
    {
        var config = CoordinatorConfig.Load(Path.Combine(CoordinatorDir, CoordinatorConfig.FileName));
        var auditKey = CoordinatorHost.AuditPublicKey(config);
        if (!File.Exists(AuditPinFile)) File.WriteAllText(AuditPinFile, Convert.ToHexStringLower(auditKey) + "\n");
        if (!File.Exists(BackupRecipientPublicFile))
        {
            using var key = Rotor.Crypto.Envelopes.SealedBoxKey.Create();
            var priv = key.ExportPrivate();
            try { SecretFiles.Write(BackupRecipientKeyFile, Convert.ToHexStringLower(priv)); }
            finally { System.Security.Cryptography.CryptographicOperations.ZeroMemory(priv); }
            File.WriteAllText(BackupRecipientPublicFile, Convert.ToHexStringLower(key.PublicKey) + "\n");
        }
        var recipient = Rotor.Node.Backups.BackupRecipients.Parse(File.ReadAllText(BackupRecipientPublicFile), BackupRecipientPublicFile);
        return new NodePins(CoordinatorHost.CertificateFile(config), [recipient], auditKey);
    }

    /// <summary>The operators' pinned audit public key: DIR/audit-key.pub.</summary>
    public byte[]? PinnedAuditKey()
    {
        if (!File.Exists(AuditPinFile)) return null;
        var text = File.ReadAllText(AuditPinFile).Trim();
        if (text.Length != 64 || !text.All(char.IsAsciiHexDigit)) throw new CliException($"{AuditPinFile} must hold the audit public key as 64 hex digits");
        return Convert.FromHexString(text);
    }
    private string LogDir => Path.Combine(Dir, "logs");

    /// <summary>The local operator key that <c>cluster up</c> makes when no approvers are given (development only).</summary>
    public string OperatorKeyPath => Path.Combine(Dir, "operator.key");

    /// <summary>The governance policy every node of this cluster pins at init.</summary>
    public string GovernancePath => Path.Combine(Dir, "governance.json");

    /// <summary>
    /// The cluster's governance policy: the one in <see cref="GovernancePath"/>, else (local development) a new
    /// operator key in <see cref="OperatorKeyPath"/> pinned with one approval for every class.
    /// </summary>
    public Protocols.Governance.GovernancePolicy Governance(Protocols.Governance.GovernancePolicy? pin = null)
    {
        if (File.Exists(GovernancePath)) return Protocols.Governance.GovernancePolicy.Decode(File.ReadAllBytes(GovernancePath));
        Directory.CreateDirectory(Dir);
        if (pin is null)
        {
            var pub = File.Exists(OperatorKeyPath) ? Cli.Governance.OperatorKeyFile.PublicKey(OperatorKeyPath) : Cli.Governance.OperatorKeyFile.Create(OperatorKeyPath);
            pin = Protocols.Governance.GovernancePolicy.Uniform([new Protocols.Governance.Approver("operator", pub)], 1);
        }
        File.WriteAllBytes(GovernancePath, pin.Validated().Encode());
        return pin;
    }

    /// <summary>The cluster folder from --dir, else ROTOR_DIR; an error names both when neither is given.</summary>
    public static LocalCluster From(string? dir)
    {
        dir ??= Environment.GetEnvironmentVariable("ROTOR_DIR");
        if (string.IsNullOrWhiteSpace(dir)) throw new CliException("no cluster folder: pass --dir DIR or set ROTOR_DIR");
        return new LocalCluster(dir);
    }

    /// <summary>What cluster.json records; a damaged file is a clear error (cluster down still works: it finds the processes itself).</summary>
    public ClusterState State()
    {
        if (!File.Exists(StatePath)) return new ClusterState();
        try
        {
            var state = JsonSerializer.Deserialize<ClusterState>(File.ReadAllText(StatePath), Json) ?? throw new JsonException("the file holds null");
            if (state.Nodes is null || state.Nodes.Any(n => n is null || n.Name is null)) throw new JsonException("a node entry is missing");
            return state;
        }
        catch (JsonException e)
        {
            throw new CliException($"{StatePath} is damaged ({Rotor.Crypto.JsonErrors.Describe(e)}); rotor cluster down --dir {Dir} still stops every process, then rotor cluster up rewrites it");
        }
    }

    /// <summary>True when the folder holds a cluster (cluster.json, or the coordinator's folder).</summary>
    public bool Exists => File.Exists(StatePath) || Directory.Exists(CoordinatorDir);

    /// <summary>Names of the nodes initialised in DIR/nodes (also those added with start-node), in name order.</summary>
    public IReadOnlyList<string> InitialisedNodes() =>
        Directory.Exists(Path.Combine(Dir, "nodes"))
            ? Directory.GetDirectories(Path.Combine(Dir, "nodes")).Select(Path.GetFileName).OfType<string>()
                .Where(n => ValidName(n) && File.Exists(Path.Combine(NodeDir(n), NodeConfig.FileName))).Order(StringComparer.Ordinal).ToList()
            : [];

    private void Save(ClusterState state) => File.WriteAllText(StatePath, JsonSerializer.Serialize(state, Json));

    /// <summary>
    /// Makes whatever is missing (CA, coordinator, nodes cs1..csN), starts every process not running (the nodes in
    /// parallel) and registers the nodes. <paramref name="coordinatorEnvironment"/> is for tests (fault injection).
    /// </summary>
    public async Task<ClusterState> UpAsync(int nodes, IReadOnlyDictionary<string, string>? coordinatorEnvironment = null,
        Protocols.Governance.GovernancePolicy? pin = null)
    {
        if (nodes < 1 || nodes > 64) throw new CliException($"--nodes {nodes} is outside 1..64");
        Directory.CreateDirectory(Dir);
        if (pin is not null && File.Exists(GovernancePath) && !Governance().Equals(pin))
            throw new CliException($"the cluster in {Dir} already pins another governance policy ({GovernancePath}); change it with rotor governance set");
        Governance(pin);
        if (!File.Exists(Path.Combine(CaDir, ClusterCa.CertificateFile))) ClusterCa.Create(CaDir).Dispose();
        if (!File.Exists(Path.Combine(CoordinatorDir, CoordinatorConfig.FileName))) CoordinatorHost.Init(CoordinatorDir, CaDir);
        var pins = Pins();
        var state = State();
        // cs1..csN, and every node the cluster has had (start-node), also after a cluster down.
        var names = Enumerable.Range(1, nodes).Select(i => $"cs{i}").Union(state.Nodes.Select(n => n.Name)).Union(InitialisedNodes()).ToList();
        foreach (var name in names)
            if (!File.Exists(Path.Combine(NodeDir(name), NodeConfig.FileName))) NodeSetup.Init(NodeDir(name), name, CaDir, Governance(), pins);
        var coordinator = state.Coordinator is null || !IsRunning(state.Coordinator.Pid)
            ? StartAsync("coordinator", ["coordinator", "run", "--config", Path.Combine(CoordinatorDir, CoordinatorConfig.FileName)], Path.Combine(CoordinatorDir, "endpoint"), coordinatorEnvironment)
            : Task.FromResult(state.Coordinator);
        var started = names.Where(n => state.Nodes.FirstOrDefault(x => x.Name == n) is not { } e || !IsRunning(e.Pid))
            .Select(n => StartAsync(n, ["node", "run", "--config", Path.Combine(NodeDir(n), NodeConfig.FileName)], Path.Combine(NodeDir(n), "endpoint"), null)).ToList();
        state.Coordinator = await coordinator;
        foreach (var entry in await Task.WhenAll(started))
        {
            state.Nodes.RemoveAll(n => n.Name == entry.Name);
            state.Nodes.Add(entry);
        }
        Save(state);
        using var client = Connect();
        foreach (var n in state.Nodes)
            await client.Coordinator.AddNodeAsync(new AddNodeRequest { Name = n.Name, Endpoint = n.Endpoint }, deadline: DateTime.UtcNow.AddSeconds(30));
        return state;
    }

    /// <summary>Initialises the node if new, starts it if not running (with extra environment, e.g. a test crash point) and registers it.</summary>
    public async Task<ProcessEntry> StartNodeAsync(string name, IReadOnlyDictionary<string, string>? environment)
    {
        // The name first: a path such as ../nodes/cs1 must never reach the file system or start a process.
        try { Names.Validate("node", name); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        var state = State();
        var dir = NodeDir(name);
        if (!File.Exists(Path.Combine(dir, NodeConfig.FileName))) NodeSetup.Init(dir, name, CaDir, Governance(), Pins());
        var existing = state.Nodes.FirstOrDefault(n => n.Name == name);
        if (existing is not null && IsRunning(existing.Pid)) throw new CliException($"node '{name}' is already running (pid {existing.Pid})");
        var entry = await StartAsync(name, ["node", "run", "--config", Path.Combine(dir, NodeConfig.FileName)], Path.Combine(dir, "endpoint"), environment);
        state.Nodes.RemoveAll(n => n.Name == name);
        state.Nodes.Add(entry);
        Save(state);
        using var client = Connect();
        await client.Coordinator.AddNodeAsync(new AddNodeRequest { Name = name, Endpoint = entry.Endpoint }, deadline: DateTime.UtcNow.AddSeconds(30));
        return entry;
    }

    /// <summary>Stops every process of the cluster (SIGTERM, then SIGKILL after 5 s). Returns the names stopped.</summary>
    /// <remarks>With cluster.json damaged or lost, the processes are found by their command line (a config file in this folder).</remarks>
    public IReadOnlyList<string> Down()
    {
        IEnumerable<ProcessEntry> processes;
        try
        {
            var state = State();
            processes = state.Nodes.Append(state.Coordinator).OfType<ProcessEntry>().ToList();
        }
        catch (CliException) { processes = []; }
        var stopped = new List<string>();
        foreach (var p in processes.Concat(RunningHere()).DistinctBy(p => p.Pid))
            if (Stop(p.Pid)) stopped.Add(p.Name);
        Save(new ClusterState());
        return stopped;
    }

    private static bool ValidName(string name)
    {
        try { Names.Validate("node", name); return true; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>rotor processes started with a config file inside this folder (Linux /proc), by name.</summary>
    private IEnumerable<ProcessEntry> RunningHere()
    {
        if (!Directory.Exists("/proc")) yield break;
        var prefix = Dir.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId) continue;
            string[] args;
            try { args = File.ReadAllText(Path.Combine(proc, "cmdline")).Split('\0'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            var i = Array.IndexOf(args, "--config");
            if (i < 0 || i + 1 >= args.Length || !args.Contains("run") || !args[i + 1].StartsWith(prefix, StringComparison.Ordinal)) continue;
            var config = args[i + 1];
            var name = args.Contains("coordinator") && Path.GetFileName(config) == CoordinatorConfig.FileName ? "coordinator" : Path.GetFileName(Path.GetDirectoryName(config)) ?? "?";
            yield return new ProcessEntry(name, pid, "");
        }
    }

    /// <summary>Stops one process of the cluster by name.</summary>
    public bool StopOne(string name)
    {
        var state = State();
        var p = state.Nodes.Append(state.Coordinator).OfType<ProcessEntry>().FirstOrDefault(p => p.Name == name)
            ?? throw new CliException($"no process named '{name}' in {Dir}");
        return Stop(p.Pid);
    }

    /// <summary>The master key provider node.json records for a node of this cluster; null when unreadable.</summary>
    public string? MasterKeyOf(string name)
    {
        try { return NodeConfig.Load(Path.Combine(NodeDir(name), NodeConfig.FileName)).MasterKeyKind; }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException) { return null; }
    }

    /// <summary>An authenticated client of the running coordinator.</summary>
    public ClusterClient Connect()
    {
        var endpointFile = Path.Combine(CoordinatorDir, "endpoint");
        if (!File.Exists(endpointFile)) throw new CliException($"no cluster in {Dir}: run rotor cluster up --dir {Dir}");
        var config = CoordinatorConfig.Load(Path.Combine(CoordinatorDir, CoordinatorConfig.FileName));
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var token = SecretFiles.Read(config.Resolve(config.AdminTokenFile)).Trim();
        var channel = RpcChannels.Create(File.ReadAllText(endpointFile).Trim(), trust, config.Name);
        return new ClusterClient(channel, channel.WithAdminToken(token));
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    private static bool Stop(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (p.HasExited) return false;
            Process.Start("kill", ["-TERM", pid.ToString()])?.WaitForExit();
            if (!p.WaitForExit(5000)) p.Kill(entireProcessTree: true);
            return true;
        }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Starts a detached <c>rotor</c> process writing to DIR/logs/NAME.log and waits for its endpoint file.</summary>
    private async Task<ProcessEntry> StartAsync(string name, string[] args, string endpointFile, IReadOnlyDictionary<string, string>? environment)
    {
        Directory.CreateDirectory(LogDir);
        File.Delete(endpointFile);
        var (exe, prefix) = SelfCommand();
        var psi = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        // setsid detaches the child from this terminal's session so that it outlives this command; output goes to a log file.
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$ROTOR_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add(exe);
        foreach (var a in prefix.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["ROTOR_LOG"] = Path.Combine(LogDir, name + ".log");
        psi.Environment.Remove("ROTOR_TEST_CRASH_AT");
        // Long-running services: every method compiled fully optimised at its first call instead of tiered (quick
        // unoptimised code first, recompiled after many calls), so requests are fast from the start; a second more
        // at start-up. The short-lived CLI itself stays tiered.
        psi.Environment.TryAdd("DOTNET_TieredCompilation", "0");
        if (environment is not null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi) ?? throw new CliException($"could not start {name}");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(endpointFile))
        {
            if (process.HasExited)
                throw new CliException($"{name} exited during start-up (code {process.ExitCode}); see {Path.Combine(LogDir, name + ".log")}");
            if (DateTime.UtcNow > deadline) throw new CliException($"{name} did not start within 60 s; see {Path.Combine(LogDir, name + ".log")}");
            await Task.Delay(50);
        }
        return new ProcessEntry(name, process.Id, File.ReadAllText(endpointFile).Trim());
    }

    /// <summary>How to run this same CLI again: its apphost, or dotnet with its dll.</summary>
    public static (string Exe, string[] Prefix) SelfCommand()
    {
        var path = Environment.ProcessPath ?? throw new CliException("cannot find the rotor executable");
        if (Path.GetFileNameWithoutExtension(path) == "dotnet") return (path, [typeof(LocalCluster).Assembly.Location]);
        return (path, []);
    }
}

/// <summary>A channel to the coordinator and its authenticated client.</summary>
public sealed class ClusterClient(Grpc.Net.Client.GrpcChannel channel, Grpc.Core.CallInvoker invoker) : IDisposable
{
    public Rotor.Rpc.Coordinator.Coordinator.CoordinatorClient Coordinator { get; } = new(invoker);

    public Rotor.Rpc.Operations.Operations.OperationsClient Operations { get; } = new(invoker);

    public Rotor.Rpc.Requests.Requests.RequestsClient Requests { get; } = new(invoker);

    public void Dispose() => channel.Dispose();
}
