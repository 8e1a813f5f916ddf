using System.Diagnostics;
using System.Text.Json.Nodes;
using Rotor.Rpc.Backups;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.TestSupport;

namespace Rotor.Cli.Tests;

/// <summary>
/// A clumsy operator's input, through the real binary: each gets a clear error, a non-zero exit code, one JSON object
/// under --json, no .NET jargon, and changes nothing. These need no running cluster.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "rotor-cli-" + Guid.NewGuid().ToString("N")[..10]);

    public BadInputTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>Runs with --json; asserts a non-zero exit, one JSON error, and no .NET type names; returns the message.</summary>
    internal static string Refused(params string[] args)
    {
        var (code, json) = RotorProcess.RunJson(args);
        Assert.True(code != 0, $"rotor {string.Join(' ', args)} should fail, printed {json.ToJsonString()}");
        var error = json["error"]?.GetValue<string>() ?? throw new InvalidDataException($"no error field: {json.ToJsonString()}");
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.DoesNotContain("System.", error);
        Assert.DoesNotContain("could not be mapped", error);
        Assert.DoesNotContain("   at ", error);
        return error;
    }

    private string[] Snapshot() => Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order().ToArray();

    [Fact]
    public void Cluster_status_of_a_folder_that_does_not_exist_fails_and_creates_nothing()
    {
        var missing = Path.Combine(dir, "nonexistent");
        Assert.Contains("no cluster", Refused("cluster", "status", "--dir", missing));
        Assert.False(Directory.Exists(missing));
        var (code, _, stderr) = RotorProcess.Run("cluster", "status", "--dir", missing);
        Assert.NotEqual(0, code);
        Assert.Contains("no cluster", stderr);
    }

    [Fact]
    public void A_listen_port_out_of_range_is_refused_before_the_node_is_made()
    {
        var node = Path.Combine(dir, "n1");
        Assert.Contains("99999", Refused("node", "init", "--dir", node, "--name", "n1", "--ca", Path.Combine(dir, "ca"), "--listen", "127.0.0.1:99999"));
        Assert.Contains("not an IP:port", Refused("node", "init", "--dir", node, "--name", "n1", "--ca", Path.Combine(dir, "ca"), "--listen", "localhost"));
        Assert.False(Directory.Exists(node));
    }

    [Fact]
    public void A_garbage_or_truncated_config_is_a_clear_error_without_dotnet_text()
    {
        var wrongType = Path.Combine(dir, "wrong-type.json");
        File.WriteAllText(wrongType, """{"name": "cs1", "keyFile": "node.key", "listen": "127.0.0.1:0", "vault": 5}""");
        var e1 = Refused("node", "run", "--config", wrongType);
        Assert.Contains("wrong type", e1);
        Assert.Contains("$.vault", e1);
        var truncated = Path.Combine(dir, "truncated.json");
        File.WriteAllText(truncated, """{"name": "cs1", "keyF""");
        Assert.Contains(truncated, Refused("node", "run", "--config", truncated));
        var garbage = Path.Combine(dir, "garbage.json");
        File.WriteAllBytes(garbage, [0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b]);
        Assert.Contains("not readable", Refused("coordinator", "run", "--config", garbage));
    }

    [Fact]
    public void A_damaged_cluster_json_is_a_clear_error_and_cluster_down_still_works()
    {
        File.WriteAllText(Path.Combine(dir, "cluster.json"), """{"coordinator": {"name": "coordinator", "pid": 12""");
        var error = Refused("cluster", "status", "--dir", dir);
        Assert.Contains("cluster.json", error);
        Assert.Contains("damaged", error);
        Assert.Contains("cluster down", error);
        var (code, json) = RotorProcess.RunJson("cluster", "down", "--dir", dir);
        Assert.Equal(0, code);
        Assert.NotNull(json["stopped"]);
    }

    [Fact]
    public void An_unknown_field_in_a_backup_file_is_named_without_dotnet_text()
    {
        var share = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w-ed", 0).Shares[0];
        var file = BackupFile.Create("cs1", [share], BackupLock.Recipient(Rotor.Crypto.Envelopes.SealedBoxKey.Create().PublicKey), BackupFile.NewId(), DateTimeOffset.UtcNow);
        var json = JsonNode.Parse(file)!.AsObject();
        json["gormat"] = json["format"]!.GetValue<string>();
        json.Remove("format");
        var path = Path.Combine(dir, "odd.rotorbak");
        File.WriteAllText(path, json.ToJsonString());
        Assert.Contains("unknown field 'gormat'", Refused("backup", "verify", path, "--dir", dir));
        json["format"] = 7;
        json.Remove("gormat");
        File.WriteAllText(path, json.ToJsonString());
        Assert.Contains("wrong type", Refused("backup", "verify", path, "--dir", dir));
    }

    [Fact]
    public void An_empty_window_is_refused_before_anything_is_sent()
    {
        var before = Snapshot();
        Assert.Contains("--window-start is empty", Refused("reshare", "schedule", "--quorum", "q", "--reason", "security-policy", "--window-start", "", "--window-end", "", "--dir", dir));
        Assert.Contains("--window-end is empty", Refused("reshare", "schedule", "--quorum", "q", "--reason", "security-policy", "--window-start", "2030-01-01T00:00:00Z", "--window-end", " ", "--dir", dir));
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void Sign_takes_either_message_or_message_file()
    {
        Assert.Contains("not both", Refused("sign", "--wallet", "w", "--message", "00", "--message-file", "/etc/hostname", "--dir", dir));
        Assert.Contains("no such file", Refused("sign", "--wallet", "w", "--message-file", Path.Combine(dir, "none.bin"), "--dir", dir));
        Assert.Contains("--message", Refused("sign", "--wallet", "w", "--dir", dir));
    }
}

/// <summary>
/// The same contract against a running cluster (coordinator and nodes as real processes, one cluster for the class):
/// exit codes of checks that fail, lookups of things that do not exist, large messages, output that never wraps an
/// id, a second coordinator, a node name that is a path, and the cluster's own life cycle.
/// </summary>
public sealed class ClusterInputTests(ClusterInputTests.Cluster cluster) : IClassFixture<ClusterInputTests.Cluster>
{
    public sealed class Cluster : IDisposable
    {
        public string Dir { get; } = Path.Combine(Path.GetTempPath(), "rotor-cli-c-" + Guid.NewGuid().ToString("N")[..10]);

        public Cluster()
        {
            var (code, json) = RotorProcess.RunJson("cluster", "up", "--dir", Dir, "--nodes", "3");
            Assert.True(code == 0, json.ToJsonString());
        }

        public void Dispose()
        {
            RotorProcess.Run("cluster", "down", "--dir", Dir);
            try { Directory.Delete(Dir, recursive: true); }
            catch (IOException) { }
        }

        public JsonObject Ok(params string[] args)
        {
            var (code, json) = RotorProcess.RunJson([.. args, "--dir", Dir]);
            Assert.True(code == 0, $"rotor {string.Join(' ', args)}: {json.ToJsonString()}");
            return json;
        }

        public string Refused(params string[] args) => BadInputTests.Refused([.. args, "--dir", Dir]);

        /// <summary>A 2-of-3 quorum over cs1..cs3 with one wallet.</summary>
        public (string Quorum, JsonObject Wallet) Wallet(string scheme)
        {
            var name = "q" + Guid.NewGuid().ToString("N")[..8];
            Ok("quorum", "create", "--name", name, "--threshold", "2", "--members", "cs1,cs2,cs3");
            return (name, Ok("wallet", "create", "--quorum", name, "--scheme", scheme));
        }
    }

    private static readonly Dictionary<string, string> Narrow = new() { ["COLUMNS"] = "80", ["TERM"] = "xterm" };

    [Fact]
    public void Policy_show_of_an_unknown_quorum_fails()
    {
        Assert.Contains("nosuch", cluster.Refused("policy", "show", "--quorum", "nosuch"));
    }

    [Fact]
    public void A_large_message_is_signed_from_a_file_and_readable_output_never_wraps_a_token()
    {
        var (quorum, wallet) = cluster.Wallet("secp256k1");
        var id = wallet["walletId"]?.GetValue<string>() ?? wallet["wallets"]![0]!["walletId"]!.GetValue<string>();
        var message = new byte[300_000];
        new Random(7).NextBytes(message);
        var file = Path.Combine(cluster.Dir, "big.bin");
        File.WriteAllBytes(file, message);
        var signed = cluster.Ok("sign", "--wallet", id, "--message-file", file);
        var wallets = cluster.Ok("wallet", "list", "--quorum", quorum)["wallets"]!.AsArray();
        var w = wallets.Single(x => x!["walletId"]!.GetValue<string>() == id)!;
        var ok = SchemeSignatures.Verify(Scheme.Secp256k1, Convert.FromHexString(w["publicKey"]!.GetValue<string>()), message,
            Convert.FromHexString(signed["signature"]!.GetValue<string>()));
        Assert.True(ok, "the signature of the file's bytes does not verify");

        // Readable output at 80 columns, through a pipe: every id, address, key and signature appears whole on one line.
        var (code, text, _) = RotorProcess.RunWith(Narrow, "sign", "--wallet", id, "--message-file", file, "--dir", cluster.Dir);
        Assert.Equal(0, code);
        Assert.Contains(text.Split('\n'), l => l.Contains(id));
        Assert.Contains(text.Split('\n'), l => System.Text.RegularExpressions.Regex.IsMatch(l.TrimEnd(), "^signature [0-9a-f]{128,}$"));
        var (_, list, _) = RotorProcess.RunWith(Narrow, "wallet", "list", "--quorum", quorum, "--dir", cluster.Dir);
        var lines = list.Split('\n');
        Assert.Contains(lines, l => l.Contains(id));
        Assert.Contains(lines, l => l.Contains(w["address"]!.GetValue<string>()));
    }

    [Fact]
    public void A_stale_backup_fails_its_verification_with_exit_code_3()
    {
        var (quorum, wallet) = cluster.Wallet("ed25519");
        var file = Path.Combine(cluster.Dir, $"{quorum}.rotorbak");
        var id = wallet["walletId"]?.GetValue<string>() ?? wallet["wallets"]![0]!["walletId"]!.GetValue<string>();
        cluster.Ok("backup", "create", "--node", "cs1", "--wallets", id, "--out", file); // sealed to the recipient the cluster pins
        Assert.Equal(0, RotorProcess.RunJson("backup", "verify", file, "--dir", cluster.Dir).ExitCode);
        var reshare = cluster.Ok("reshare", "--quorum", quorum, "--reason", "security-policy");
        var (code, json) = RotorProcess.RunJson("backup", "verify", file, "--dir", cluster.Dir);
        Assert.Equal(3, code);
        Assert.False(json["allCurrent"]!.GetValue<bool>());

        // The committed operation reads as such: no "epoch now", only the threshold that dealt is called dealers.
        var (_, shown, _) = RotorProcess.RunWith(Narrow, "reshare", "show", reshare["id"]!.GetValue<string>(), "--dir", cluster.Dir);
        Assert.DoesNotContain("epoch now", shown);
        Assert.Contains("epoch 0 -> 1 (committed)", shown);
        var plan = cluster.Ok("reshare", "plan", "--quorum", quorum, "--reason", "security-policy");
        var roles = plan["nodes"]!.AsArray().Select(n => n!["role"]!.GetValue<string>()).ToList();
        Assert.Equal(2, roles.Count(r => r.StartsWith("dealer")));
        Assert.Equal(1, roles.Count(r => r.StartsWith("old-member")));
    }

    [Fact]
    public void A_node_name_that_is_a_path_is_refused_before_any_process_starts()
    {
        var before = RotorProcesses();
        Assert.Contains("invalid node name", cluster.Refused("cluster", "start-node", "--name", "../nodes/cs1"));
        Assert.Equal(before, RotorProcesses());
    }

    [Fact]
    public void A_second_coordinator_on_the_same_folder_is_refused()
    {
        var config = Path.Combine(cluster.Dir, "coordinator", "coordinator.json");
        Assert.Contains("another coordinator is already running", BadInputTests.Refused("coordinator", "run", "--config", config));
    }

    [Fact]
    public void Cluster_up_after_down_keeps_nodes_added_with_start_node_and_down_works_with_cluster_json_damaged()
    {
        cluster.Ok("cluster", "start-node", "--name", "cs9");
        cluster.Ok("cluster", "down");
        cluster.Ok("cluster", "up");
        var nodes = cluster.Ok("cluster", "status")["nodes"]!.AsArray().Select(n => n!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("cs9", nodes);
        var pids = RotorProcesses();
        Assert.NotEmpty(pids);

        var state = Path.Combine(cluster.Dir, "cluster.json");
        var text = File.ReadAllText(state);
        File.WriteAllText(state, text[..(text.Length / 2)]);
        Assert.Contains("damaged", cluster.Refused("cluster", "status"));
        var stopped = cluster.Ok("cluster", "down")["stopped"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.Contains("coordinator", stopped);
        Assert.Contains("cs9", stopped);
        Assert.Empty(RotorProcesses());
        cluster.Ok("cluster", "up"); // for the other tests of the class
    }

    /// <summary>Pids of rotor processes running on this cluster's folder (by their command line).</summary>
    private List<int> RotorProcesses() =>
        Directory.EnumerateDirectories("/proc").Select(p => int.TryParse(Path.GetFileName(p), out var pid) ? pid : 0).Where(pid => pid > 0)
            .Where(pid =>
            {
                try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(cluster.Dir + "/"); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
            }).Order().ToList();
}
