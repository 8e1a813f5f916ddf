using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Rotor.Node;
using Rotor.Node.Vault;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Tls;
using Rotor.TestSupport;

namespace Rotor.Integration.Tests;

/// <summary>
/// A cluster whose nodes use the three master key providers: cs1 pkcs11 (a SoftHSM2 token this fixture makes in the
/// cluster folder, PIN in an environment variable), cs2 passphrase (in an environment variable), cs3 file.
/// </summary>
public sealed class MasterKeyCluster : ClusterFixture
{
    public const string PinVariable = "ROTOR_IT_HSM_PIN", PassVariable = "ROTOR_IT_PASSPHRASE", Passphrase = "integration passphrase one", Token = "rotor-it";

    public SoftHsm Hsm { get; private set; } = null!;

    public string NodeDir(string name) => Path.Combine(Dir, "nodes", name);

    protected override async Task PrepareAsync()
    {
        Directory.CreateDirectory(Dir);
        Hsm = new SoftHsm(Path.Combine(Dir, "hsm"), Token);
        Hsm.Activate();
        SoftHsm.SetEnvironment(PinVariable, SoftHsm.UserPin);
        SoftHsm.SetEnvironment(PassVariable, Passphrase);
        ClusterCa.Create(Path.Combine(Dir, "ca")).Dispose();
        var ca = Path.Combine(Dir, "ca");
        var policy = WriteGovernance(Dir);
        // What cluster up pins on its own nodes, made first: the coordinator (its certificate), the backup recipient and the audit key.
        // (the same files cluster up makes and reuses: DIR/coordinator, DIR/backup-recipient.key and .pub).
        var coordinatorDir = Path.Combine(Dir, "coordinator");
        Rotor.Coordinator.CoordinatorHost.Init(coordinatorDir, ca);
        var coordinator = Rotor.Coordinator.CoordinatorConfig.Load(Path.Combine(coordinatorDir, Rotor.Coordinator.CoordinatorConfig.FileName));
        using (var recipient = Rotor.Crypto.Envelopes.SealedBoxKey.Create())
        {
            SecretFiles.Write(Path.Combine(Dir, "backup-recipient.key"), Convert.ToHexStringLower(recipient.ExportPrivate()));
            File.WriteAllText(Path.Combine(Dir, "backup-recipient.pub"), Convert.ToHexStringLower(recipient.PublicKey) + "\n");
        }
        string[] pinned = ["--coordinator-cert", Rotor.Coordinator.CoordinatorHost.CertificateFile(coordinator),
            "--backup-recipients", File.ReadAllText(Path.Combine(Dir, "backup-recipient.pub")).Trim(),
            "--audit-key", Convert.ToHexStringLower(Rotor.Coordinator.CoordinatorHost.AuditPublicKey(coordinator))];
        var cs1 = await RotorProcess.Ok(["node", "init", "--dir", NodeDir("cs1"), "--name", "cs1", "--ca", ca, "--policy-file", policy, "--master-key", "pkcs11",
            "--pkcs11-library", SoftHsm.Library, "--pkcs11-token", Token, "--pkcs11-key-label", "rotor-cs1", "--pkcs11-pin-env", PinVariable, .. pinned]);
        Assert.Equal("pkcs11", cs1["masterKey"]!.GetValue<string>());
        var cs2 = await RotorProcess.Ok(["node", "init", "--dir", NodeDir("cs2"), "--name", "cs2", "--ca", ca, "--policy-file", policy, "--master-key", "passphrase", "--passphrase-env", PassVariable, .. pinned]);
        Assert.Equal("passphrase", cs2["masterKey"]!.GetValue<string>());
    }

    /// <summary>
    /// What <c>cluster up</c> makes for local development, made first so that nodes can be initialised by hand: an
    /// operator key (DIR/operator.key) and the policy pinning it with one approval for every class (DIR/governance.json).
    /// </summary>
    public static string WriteGovernance(string dir)
    {
        var (seed, pub) = Rotor.Protocols.Governance.OperatorKeys.Create();
        SecretFiles.Write(Path.Combine(dir, "operator.key"), new JsonObject { ["kind"] = "rotor-operator-key", ["publicKey"] = pub, ["seed"] = Convert.ToHexStringLower(seed) }.ToJsonString());
        var path = Path.Combine(dir, "governance.json");
        File.WriteAllBytes(path, Rotor.Protocols.Governance.GovernancePolicy.Uniform([new Rotor.Protocols.Governance.Approver("operator", pub)], 1).Validated().Encode());
        return path;
    }

    /// <summary>A 0600 file holding <paramref name="content"/>.</summary>
    public string SecretFile(string content)
    {
        var path = Path.Combine(Dir, $"secret-{Guid.NewGuid():N}.txt");
        SecretFiles.Write(path, content + "\n");
        return path;
    }
}

/// <summary>
/// Master key providers with real node processes: a pkcs11 node does everything a node does; a copy of its folder
/// without the token yields nothing; a wrong PIN or passphrase seals the node, which changes nothing and is unsealed
/// in place; a rekey killed at each step leaves the node usable under the old or the new wrapping.
/// </summary>
public sealed class MasterKeyTests(MasterKeyCluster cluster) : IClassFixture<MasterKeyCluster>
{
    private ClusterApi Api => cluster.Api;

    private async Task<NodeRecord> Node(string name) =>
        (await Api.Client.ListNodesAsync(new ListNodesRequest(), deadline: DateTime.UtcNow.AddSeconds(30))).Nodes.Single(n => n.Name == name);

    private string Config(string name) => Path.Combine(cluster.NodeDir(name), NodeConfig.FileName);

    [Fact]
    public async Task Every_node_reports_its_master_key_provider()
    {
        // cs3 starts with a key file; the rekey tests may have moved it since.
        var cs3 = NodeConfig.Load(Config("cs3")).MasterKeyKind;
        foreach (var (name, provider) in new[] { ("cs1", "pkcs11"), ("cs2", "passphrase"), ("cs3", cs3) })
        {
            var n = await Node(name);
            Assert.Equal(provider, n.MasterKey);
            Assert.False(n.Sealed, $"{name}: {n.SealReason}");
        }
        var status = await cluster.Ok("cluster", "status");
        var nodes = status["nodes"]!.AsArray().ToDictionary(n => n!["name"]!.GetValue<string>(), n => n!["masterKey"]!.GetValue<string>());
        Assert.Equal("pkcs11", nodes["cs1"]);
        Assert.Equal("passphrase", nodes["cs2"]);
        Assert.Equal(cs3, nodes["cs3"]);
        // Only a file node keeps a key beside its vault.
        Assert.Empty(Directory.GetFiles(cluster.NodeDir("cs1"), "*.key"));
        Assert.Empty(Directory.GetFiles(cluster.NodeDir("cs2"), "*.key"));
        Assert.Equal(cs3 == "file" ? 1 : 0, Directory.GetFiles(cluster.NodeDir("cs3"), "*.key").Length);
    }

    [Fact]
    public async Task A_pkcs11_node_makes_keys_signs_reshares_and_restores_a_backup()
    {
        var q = await TestQuorum.Create(Api, "ed25519", "secp256k1");
        foreach (var w in q.Wallets) Checks.Verifies(await Api.Sign(w.WalletId, "cs1,cs2"), w.PublicKey);
        Assert.Equal("committed", (await Api.Reshare(q.Name, "refresh with an HSM node")).Status);
        await Checks.SettledAsync(Api, q.Name);
        await q.CheckUsable(Api, "cs1,cs3");

        // Sealed to the recipient every node of the cluster pins (DIR/backup-recipient.pub).
        var file = Path.Combine(cluster.Dir, $"{q.Name}-cs1.rotorbak");
        await cluster.Ok("backup", "create", "--node", "cs1", "--wallets", q.Wallets[0].WalletId, "--out", file);
        cluster.Kill("cs1");
        Sql(Vault("cs1"), "DELETE FROM shards WHERE key_id = $k", ("$k", q.Wallets[0].WalletId));
        await cluster.Ok("cluster", "start-node", "--name", "cs1");
        await cluster.Fails("sign", "--wallet", q.Wallets[0].WalletId, "--message", "00", "--signers", "cs1,cs3");
        var restored = await cluster.Ok("backup", "restore", "--node", "cs1", file, "--key-file", Path.Combine(cluster.Dir, "backup-recipient.key"));
        Assert.Equal([q.Wallets[0].WalletId], restored["restored"]!.AsArray().Select(w => w!.GetValue<string>()));
        await q.CheckUsable(Api, "cs1,cs2");
    }

    [Fact]
    public async Task A_copy_of_the_pkcs11_node_s_folder_without_its_token_yields_no_shard_and_no_signature()
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        await cluster.Ok("cluster", "stop-node", "--name", "cs1");
        var stolen = Path.Combine(cluster.Dir, "stolen-cs1");
        CopyFolder(cluster.NodeDir("cs1"), stolen);
        var elsewhere = new SoftHsm(Path.Combine(cluster.Dir, "hsm-elsewhere"), tokenLabel: null);

        // Opened in this process with the right PIN but no token: no vault key.
        cluster.Hsm.Activate();
        var config = NodeConfig.Load(Path.Combine(stolen, NodeConfig.FileName));
        elsewhere.Activate();
        try { Assert.Contains("no token labelled 'rotor-it'", Assert.Throws<MasterKeyUnavailableException>(() => NodeSetup.OpenVault(config)).Message); }
        finally { cluster.Hsm.Activate(); }

        // Run by a fresh node process and put in cs1's place: sealed, and it signs nothing.
        using var thief = StartNode(Path.Combine(stolen, NodeConfig.FileName), new() { ["SOFTHSM2_CONF"] = elsewhere.ConfPath });
        try
        {
            var endpoint = await WaitForEndpoint(Path.Combine(stolen, "endpoint"), thief);
            await Api.Client.AddNodeAsync(new AddNodeRequest { Name = "cs1", Endpoint = endpoint }, deadline: DateTime.UtcNow.AddSeconds(30));
            var n = await Node("cs1");
            Assert.True(n.Sealed);
            Assert.Contains("no token labelled 'rotor-it'", n.SealReason);
            var refused = await ClusterApi.Refused(() => Api.Sign(q.Wallets[0].WalletId, "cs1,cs2"));
            Assert.Contains("sealed", refused);
            // Even the right PIN delivered to it opens nothing.
            var pin = cluster.SecretFile(SoftHsm.UserPin);
            var (code, json, _) = await RotorProcess.Run("node", "unseal", "--config", Path.Combine(stolen, NodeConfig.FileName), "--pin-file", pin);
            Assert.NotEqual(0, code);
            Assert.Contains("still sealed", json["error"]!.GetValue<string>());
        }
        finally
        {
            thief.Kill();
            thief.WaitForExit();
        }
        await cluster.Ok("cluster", "start-node", "--name", "cs1");
        Assert.False((await Node("cs1")).Sealed);
        await q.CheckUsable(Api, "cs1,cs2");
    }

    [Fact]
    public async Task A_wrong_pin_or_passphrase_seals_the_node_changes_nothing_and_unseal_brings_it_back()
    {
        var q = await TestQuorum.Create(Api, "bip340");
        var w = q.Wallets[0];
        var recovery = await RotorProcess.Ok("backup", "keygen", "--out", Path.Combine(cluster.Dir, $"{q.Name}-recovery.key"));
        foreach (var (node, variable, right, reason, unsealOption) in new[]
                 {
                     ("cs1", MasterKeyCluster.PinVariable, SoftHsm.UserPin, "wrong PIN", "--pin-file"),
                     ("cs2", MasterKeyCluster.PassVariable, MasterKeyCluster.Passphrase, "wrong passphrase", "--passphrase-file"),
                 })
        {
            await cluster.Ok("cluster", "stop-node", "--name", node);
            var before = Snapshot(node);
            SoftHsm.SetEnvironment(variable, "not-" + right);
            try { await cluster.Ok("cluster", "start-node", "--name", node); }
            finally { SoftHsm.SetEnvironment(variable, right); }

            var n = await Node(node);
            Assert.True(n.Sealed, $"{node} should be sealed");
            Assert.Contains(reason, n.SealReason);
            var member = (await Api.Status(q.Name)).Members.Single(m => m.Name == node);
            Assert.True(member.Sealed);
            Assert.False(member.VaultHealthy);
            // The sealed node still lists what it holds (no secret), so nobody takes it for an empty node.
            var held = (await Api.Status(q.Name)).Wallets.Single().Nodes.Single(x => x.Node == node);
            Assert.Equal([w.Epoch], held.ActiveEpochs);
            var other = node == "cs1" ? "cs3" : "cs1";
            Assert.Contains($"node '{node}' is sealed", await ClusterApi.Refused(() => Api.Sign(w.WalletId, $"{node},{other}")));
            Assert.Contains($"node '{node}' is sealed", await cluster.Fails("backup", "create", "--node", node, "--out", Path.Combine(cluster.Dir, $"{node}-sealed.rotorbak"),
                "--recipient", recovery["publicKey"]!.GetValue<string>()));
            Assert.Equal(before, Snapshot(node));

            // A wrong secret delivered keeps it sealed; the right one unseals it in place.
            var (code, json, _) = await RotorProcess.Run("node", "unseal", "--config", Config(node), unsealOption, cluster.SecretFile("not-" + right + "-either"));
            Assert.NotEqual(0, code);
            Assert.Contains(reason, json["error"]!.GetValue<string>());
            Assert.Equal(before, Snapshot(node));
            var unsealed = await RotorProcess.Ok("node", "unseal", "--config", Config(node), unsealOption, cluster.SecretFile(right));
            Assert.False(unsealed["sealed"]!.GetValue<bool>());
            Assert.False((await Node(node)).Sealed);
            Checks.Verifies(await Api.Sign(w.WalletId, $"{node},{other}"), w.PublicKey);
        }
    }

    [Theory]
    [InlineData("rekey-after-writing-temp", false)]
    [InlineData("rekey-after-writing-wrap", false)]
    [InlineData("rekey-after-writing-config-temp", false)]
    [InlineData("rekey-after-switching-config", true)]
    public async Task A_rekey_killed_at_each_step_loses_nothing(string phase, bool switched)
    {
        var q = await TestQuorum.Create(Api, "ed25519");
        await cluster.Ok("cluster", "stop-node", "--name", "cs3");
        var before = NodeConfig.Load(Config("cs3")).MasterKeyKind;
        string[] Target(string label) => before == MasterKeys.Pkcs11
            ? ["--master-key", "passphrase", "--new-passphrase-env", MasterKeyCluster.PassVariable]
            : ["--master-key", "pkcs11", "--pkcs11-library", SoftHsm.Library, "--pkcs11-token", MasterKeyCluster.Token, "--pkcs11-key-label", label, "--pkcs11-pin-env", MasterKeyCluster.PinVariable];
        var target = before == MasterKeys.Pkcs11 ? MasterKeys.Passphrase : MasterKeys.Pkcs11;
        var current = before == MasterKeys.Passphrase ? new[] { "--passphrase-env", MasterKeyCluster.PassVariable } : [];

        var crashed = await RunCli(new() { [CrashPoint.Variable] = phase }, ["node", "rekey-master", "--config", Config("cs3"), .. Target($"rotor-cs3-{phase}"), .. current, "--json"]);
        Assert.NotEqual(0, crashed.Code);
        Assert.Contains($"test crash at {phase}", crashed.Error);
        Assert.Equal(switched ? target : before, NodeConfig.Load(Config("cs3")).MasterKeyKind);

        await cluster.Ok("cluster", "start-node", "--name", "cs3");
        var n = await Node("cs3");
        Assert.False(n.Sealed, n.SealReason);
        Assert.Equal(switched ? target : before, n.MasterKey);
        await q.CheckUsable(Api, "cs1,cs3");
        // The start finished what the crash left: one wrapping, no temp file, no key file unless the provider is file.
        AssertOneWrapping();

        if (!switched)
        {
            await cluster.Ok("cluster", "stop-node", "--name", "cs3");
            var done = await RotorProcess.Ok(["node", "rekey-master", "--config", Config("cs3"), .. Target($"rotor-cs3-{phase}-2"), .. current]);
            Assert.Equal(target, done["to"]!.GetValue<string>());
            AssertOneWrapping();
            await cluster.Ok("cluster", "start-node", "--name", "cs3");
            Assert.Equal(target, (await Node("cs3")).MasterKey);
            await q.CheckUsable(Api, "cs2,cs3");
        }
    }

    private void AssertOneWrapping()
    {
        var dir = cluster.NodeDir("cs3");
        var config = NodeConfig.Load(Config("cs3"));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        var wrappings = Directory.GetFiles(dir, "master-key.*.json").Concat(Directory.GetFiles(dir, "*.key")).Select(Path.GetFileName).ToList();
        Assert.Equal([config.MasterKeyFile ?? config.KeyFile], wrappings);
    }

    // ------------------------------------------------------------------ helpers

    private string Vault(string node) => Directory.GetFiles(cluster.NodeDir(node), "*vault*.db").Single();

    /// <summary>Hashes of the node folder's files that hold state (not its endpoint, socket, lock or SQLite side files).</summary>
    private Dictionary<string, string> Snapshot(string node)
    {
        var dir = cluster.NodeDir(node);
        return Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not ("endpoint" or "unseal.sock" or "master-key.lock") && !f.EndsWith("-shm", StringComparison.Ordinal) && !f.EndsWith("-wal", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(f) is "unseal.sock" or "endpoint") continue;
            var target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }

    private static void Sql(string db, string sql, params (string Name, object Value)[] args) => Databases.Change(db, sql, args);

    private static ProcessStartInfo Cli(IReadOnlyDictionary<string, string> environment, IEnumerable<string> args)
    {
        var (exe, prefix) = RotorProcess.Cli;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment.Remove(CrashPoint.Variable);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        return psi;
    }

    private static async Task<(int Code, string Output, string Error)> RunCli(Dictionary<string, string> environment, string[] args)
    {
        using var p = Process.Start(Cli(environment, args))!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(timeout.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static Process StartNode(string config, Dictionary<string, string> environment)
    {
        var p = Process.Start(Cli(environment, ["node", "run", "--config", config]))!;
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task<string> WaitForEndpoint(string file, Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!File.Exists(file))
        {
            Assert.False(process.HasExited, $"the node exited during start-up ({(process.HasExited ? process.ExitCode : 0)})");
            await Task.Delay(50, timeout.Token);
        }
        return File.ReadAllText(file).Trim();
    }
}

/// <summary>A clumsy operator's master key inputs: each refused with a message naming what is wrong, and nothing made or changed.</summary>
public sealed class MasterKeyInputTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "rotor-mk-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly SoftHsm hsm;

    public MasterKeyInputTests()
    {
        Directory.CreateDirectory(dir);
        hsm = new SoftHsm(Path.Combine(dir, "hsm"), "clumsy");
        hsm.Activate();
        using (var ca = ClusterCa.Create(Path.Combine(dir, "ca")))
            ca.Issue(Path.Combine(dir, "coordinator"), "coordinator", CertificateRole.Client | CertificateRole.Server).Dispose();
        policy = MasterKeyCluster.WriteGovernance(dir);
    }

    private readonly string policy;

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    private string Secret(string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(dir, $"secret-{Guid.NewGuid():N}");
        File.WriteAllText(path, content + "\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private string[] Init(string name, params string[] extra) =>
        ["node", "init", "--dir", Path.Combine(dir, name), "--name", name, "--ca", Path.Combine(dir, "ca"), "--policy-file", policy,
            "--coordinator-cert", Path.Combine(dir, "coordinator", "coordinator.crt"), .. extra];

    private string[] Pkcs11(string pinFile) =>
        ["--master-key", "pkcs11", "--pkcs11-library", SoftHsm.Library, "--pkcs11-token", "clumsy", "--pkcs11-key-label", "k", "--pkcs11-pin-file", pinFile];

    [Fact]
    public async Task Bad_master_key_inputs_are_refused_and_make_nothing()
    {
        Assert.Contains("--pkcs11-library", await RotorProcess.Fails(Init("n1", "--master-key", "pkcs11", "--pkcs11-token", "clumsy", "--pkcs11-key-label", "k", "--pkcs11-pin-env", "X")));
        Assert.Contains("exactly one of --pkcs11-slot and --pkcs11-token", await RotorProcess.Fails(Init("n1", "--master-key", "pkcs11", "--pkcs11-library", SoftHsm.Library, "--pkcs11-key-label", "k", "--pkcs11-pin-env", "X")));
        Assert.Contains("--pkcs11-* options need --master-key pkcs11", await RotorProcess.Fails(Init("n1", "--pkcs11-token", "clumsy")));
        Assert.Contains("chmod 600", await RotorProcess.Fails(Init("n1", Pkcs11(Secret(SoftHsm.UserPin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)))));
        Assert.Contains("wrong PIN", await RotorProcess.Fails(Init("n1", Pkcs11(Secret("000000")))));
        var elsewhere = Pkcs11(Secret(SoftHsm.UserPin));
        elsewhere[5] = "elsewhere";
        Assert.Contains("no token labelled 'elsewhere'", await RotorProcess.Fails(Init("n1", elsewhere)));
        Assert.Contains("needs the passphrase", await RotorProcess.Fails(Init("n1", "--master-key", "passphrase")));
        Assert.False(Directory.Exists(Path.Combine(dir, "n1")), "a refused init must leave no node folder");

        // A good node, then refused rekeys and an unseal with no node running: nothing changes.
        var pin = Secret(SoftHsm.UserPin);
        await RotorProcess.Ok(Init("n2", Pkcs11(pin)));
        var config = Path.Combine(dir, "n2", NodeConfig.FileName);
        var before = File.ReadAllText(config);
        Assert.Contains("nothing was changed", await RotorProcess.Fails("node", "rekey-master", "--config", config, "--master-key", "passphrase",
            "--new-passphrase-file", Secret("a new passphrase"), "--pin-file", Secret("000000")));
        Assert.Contains("passphrase options do not apply to --master-key file", await RotorProcess.Fails("node", "rekey-master", "--config", config, "--master-key", "file", "--new-passphrase-file", Secret("x")));
        Assert.Contains("no running node listens", await RotorProcess.Fails("node", "unseal", "--config", config));
        Assert.Equal(before, File.ReadAllText(config));
        Assert.Equal(["master-key.1.json"], Directory.GetFiles(Path.Combine(dir, "n2"), "master-key.*.json").Select(Path.GetFileName));

        // Moved to passphrase and back to a file: file -> file is refused, the vault never changed hands.
        await RotorProcess.Ok("node", "rekey-master", "--config", config, "--master-key", "file");
        Assert.Contains("already a key file", await RotorProcess.Fails("node", "rekey-master", "--config", config, "--master-key", "file"));
    }

    [Fact]
    public async Task A_node_takes_no_listener_or_setting_from_its_working_directory_or_from_ASP_NET_environment_variables()
    {
        // A signer's listeners come from its own config only: an appsettings.json where it is started (a Kestrel section
        // adding a plain-HTTP endpoint) and ASP.NET's environment variables are ignored, and nothing watches that folder.
        await RotorProcess.Ok(Init("n3", Pkcs11(Secret(SoftHsm.UserPin))));
        var config = Path.Combine(dir, "n3", NodeConfig.FileName);
        int[] ports = [FreePort(), FreePort(), FreePort()];
        var startedIn = Path.Combine(dir, "started-here");
        Directory.CreateDirectory(startedIn);
        File.WriteAllText(Path.Combine(startedIn, "appsettings.json"),
            $$"""{ "Kestrel": { "Endpoints": { "Plain": { "Url": "http://127.0.0.1:{{ports[0]}}" } } }, "urls": "http://127.0.0.1:{{ports[0]}}" }""");
        var (exe, prefix) = RotorProcess.Cli;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = startedIn };
        foreach (var a in prefix.Concat(["node", "run", "--config", config])) psi.ArgumentList.Add(a);
        psi.Environment.Remove(CrashPoint.Variable);
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[1]}";
        psi.Environment["ASPNETCORE_Kestrel__Endpoints__Env__Url"] = $"http://127.0.0.1:{ports[2]}";
        psi.Environment["DOTNET_URLS"] = $"http://127.0.0.1:{ports[1]}";
        using var node = Process.Start(psi)!;
        try
        {
            node.StandardInput.Close();
            node.BeginOutputReadLine();
            node.BeginErrorReadLine();
            var endpointFile = Path.Combine(dir, "n3", "endpoint");
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                while (!File.Exists(endpointFile))
                {
                    Assert.False(node.HasExited, "the node exited during start-up");
                    await Task.Delay(50, timeout.Token);
                }
            var endpoint = new Uri(File.ReadAllText(endpointFile).Trim());
            Assert.Equal("https", endpoint.Scheme);
            Assert.True(await Listening(endpoint.Port), "the node's own endpoint must be listening");
            foreach (var port in ports) Assert.False(await Listening(port), $"port {port} from the working directory or the environment is listening");
        }
        finally
        {
            node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
        }

        static int FreePort()
        {
            using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            l.Start();
            return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        }

        static async Task<bool> Listening(int port)
        {
            using var c = new System.Net.Sockets.TcpClient();
            try { await c.ConnectAsync(System.Net.IPAddress.Loopback, port); return true; }
            catch (System.Net.Sockets.SocketException) { return false; }
        }
    }
}
