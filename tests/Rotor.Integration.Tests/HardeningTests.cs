using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Rotor.Coordinator.Audit;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Backups;
using Rotor.Rpc.Backups;
using Rotor.Rpc;
using Rotor.Rpc.NodeOps;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests;

/// <summary>
/// An attacker holding what the coordinator holds (its TLS key and certificate, the admin token, the database, the audit
/// key) calls the nodes directly over mutual TLS, and an attacker on the operator API without the token.
/// </summary>
public sealed class AttackerTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private string Endpoint(string dir) => File.ReadAllText(Path.Combine(cluster.Dir, dir, "endpoint")).Trim();

    private PeerTrust Trust => new(ClusterCa.LoadRoot(Path.Combine(cluster.Dir, "ca", "ca.crt")));

    /// <summary>A channel to a node with the coordinator's own certificate and key, as a thief of the coordinator host has them.</summary>
    private Grpc.Net.Client.GrpcChannel AsCoordinator(string node) =>
        RpcChannels.Create(Endpoint(Path.Combine("nodes", node)), Trust, node, ClusterCa.LoadLeaf(Path.Combine(cluster.Dir, "coordinator", "tls"), "coordinator"));

    /// <summary>The node's shard rows and its backup folder, to show nothing changed.</summary>
    private string Snapshot(string node)
    {
        var vault = Directory.GetFiles(Path.Combine(cluster.Dir, "nodes", node), "*vault*.db").Single();
        var sb = new StringBuilder();
        using (var c = new SqliteConnection($"Data Source={vault};Mode=ReadOnly;Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT * FROM shards ORDER BY 1, 2, 3";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                for (var i = 0; i < r.FieldCount; i++) sb.Append(r.GetValue(i) is byte[] b ? Convert.ToHexString(b) : r.GetValue(i)).Append('|');
        }
        var backups = Path.Combine(cluster.Dir, "nodes", node, "backups");
        if (Directory.Exists(backups)) sb.Append(string.Join(",", Directory.GetFiles(backups).Order()));
        return sb.ToString();
    }

    [Fact]
    public async Task A_backup_to_the_attackers_own_key_or_with_a_passphrase_it_chose_is_refused_by_the_node_and_nothing_changes()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        using var channel = AsCoordinator("cs1");
        var ops = new NodeOperations.NodeOperationsClient(channel);
        var before = Snapshot("cs1");

        // Even with an operator approval naming the attacker's recipient (the operators were misled), the node seals
        // backups only to the recipients it pins: the pin is what refuses here, not the approval check.
        var op = Malicious.Approver.ClusterOperator(cluster.Dir);
        using var attacker = SealedBoxKey.Create();
        var own = new NodeBackupRequest
        {
            BackupId = Rotor.Rpc.Backups.BackupFile.NewId(), Recipient = ByteString.CopyFrom(attacker.PublicKey), KeepOnNode = true,
            Authorization = op.Approve(Malicious.Requests.BackupExport(["cs1"], [], attacker.PublicKey)),
        };
        var e1 = await Assert.ThrowsAsync<RpcException>(async () => await ops.CreateBackupAsync(own));
        Assert.Equal(StatusCode.PermissionDenied, e1.StatusCode);
        Assert.Contains(Convert.ToHexStringLower(attacker.PublicKey), e1.Status.Detail);
        Assert.Contains("not pinned on node 'cs1'", e1.Status.Detail);

        // A passphrase of its own choosing, sealed to the node's identity key (as the certificate states it).
        var info = await new Rpc.Node.SignerNode.SignerNodeClient(channel).GetInfoAsync(new Rpc.Node.GetInfoRequest());
        var keys = Trust.NodeIdentity(info.Certificate.Span, "cs1");
        var id = Rotor.Rpc.Backups.BackupFile.NewId();
        var sealedPass = BackupSecrets.Seal(keys.AgreementKey, "cs1", NodeOperationsService.CreatePurpose, id, BackupSecretKind.Passphrase, "hunter2"u8);
        // Approved as a backup without a recipient (a passphrase backup), so that the refusal is the node's rule against
        // passphrase locks over the network.
        var chosen = new NodeBackupRequest
        {
            BackupId = id, Passphrase = new SealedSecret { Kind = "passphrase", Box = ByteString.CopyFrom(sealedPass) },
            Authorization = op.Approve(Malicious.Requests.New(Rotor.Protocols.Governance.Actions.BackupExport) with { Nodes = ["cs1"] }),
        };
        var e2 = await Assert.ThrowsAsync<RpcException>(async () => await ops.CreateBackupAsync(chosen));
        Assert.Equal(StatusCode.PermissionDenied, e2.StatusCode);
        Assert.Contains("passphrase backups are not made over the network", e2.Status.Detail);

        Assert.Equal(before, Snapshot("cs1"));
        Assert.NotEmpty(q.Wallets);
    }

    [Fact]
    public async Task A_coordinator_certificate_from_the_cluster_CA_with_another_key_is_refused_by_the_pinned_nodes()
    {
        using var scratch = new TempFolder();
        using var ca = ClusterCa.Load(Path.Combine(cluster.Dir, "ca"));
        using var reissued = ca.Issue(scratch.Sub("coordinator"), "coordinator", CertificateRole.Client | CertificateRole.Server);
        Assert.Null(Trust.Check(reissued, CertificateRole.Client, "coordinator"));
        using var channel = RpcChannels.Create(Endpoint(Path.Combine("nodes", "cs2")), Trust, "cs2", reissued);
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Rpc.Node.SignerNode.SignerNodeClient(channel).GetStatusAsync(new Rpc.Node.GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.True(e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.PermissionDenied, e.StatusCode.ToString());
        // The genuine coordinator certificate still works.
        using var genuine = AsCoordinator("cs2");
        Assert.Equal("cs2", (await new Rpc.Node.SignerNode.SignerNodeClient(genuine).GetStatusAsync(new Rpc.Node.GetStatusRequest())).Name);
    }

    [Fact]
    public async Task The_admin_token_is_checked_before_a_body_is_read_and_operator_messages_are_small()
    {
        using var channel = RpcChannels.Create(Endpoint("coordinator"), Trust, "coordinator");
        var big = new Rpc.Coordinator.SignRequest { WalletId = "x", Message = ByteString.CopyFrom(new byte[2 << 20]) };
        // Without the token: refused as unauthenticated, not as too large (the body was never read).
        var anonymous = new Rpc.Coordinator.Coordinator.CoordinatorClient(channel);
        var e1 = await Assert.ThrowsAsync<RpcException>(async () => await anonymous.SignAsync(big));
        Assert.Equal(StatusCode.Unauthenticated, e1.StatusCode);
        // With it: the body is read, and refused for its size.
        var token = SecretFiles.Read(Path.Combine(cluster.Dir, "coordinator", "admin.token")).Trim();
        var authenticated = new Rpc.Coordinator.Coordinator.CoordinatorClient(channel.WithAdminToken(token));
        var e2 = await Assert.ThrowsAsync<RpcException>(async () => await authenticated.SignAsync(big));
        Assert.Equal(StatusCode.ResourceExhausted, e2.StatusCode);
    }

    [Fact]
    public async Task A_node_cannot_be_named_coordinator()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await cluster.Api.Client.AddNodeAsync(new Rpc.Coordinator.AddNodeRequest { Name = "coordinator", Endpoint = Endpoint(Path.Combine("nodes", "cs1")) }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("reserved", e.Status.Detail);
        Assert.Contains("reserved", await cluster.Fails("cluster", "start-node", "--name", "Coordinator"));
        Assert.False(Directory.Exists(Path.Combine(cluster.Dir, "nodes", "Coordinator")));
    }

    [Fact]
    public async Task The_CLI_seals_restore_secrets_only_to_a_node_key_certified_by_the_cluster_CA()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        var file = Path.Combine(cluster.Dir, $"{q.Name}-cs3.rotorbak");
        await cluster.Ok("backup", "create", "--node", "cs3", "--wallets", q.Wallets[0].WalletId, "--out", file);

        // The attacker's registry says cs3 is a certificate of its own CA carrying its own identity keys.
        using var scratch = new TempFolder();
        using var rogue = ClusterCa.Create(scratch.Sub("rogue"));
        using var attacker = NodeIdentity.Create();
        using var fake = rogue.Issue(scratch.Sub("cs3"), "cs3", CertificateRole.Server, attacker.Public);
        var db = Path.Combine(cluster.Dir, "coordinator", "coordinator.db");
        byte[] original;
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var read = c.CreateCommand();
            read.CommandText = "SELECT certificate FROM nodes WHERE name = 'cs3'";
            original = (byte[])read.ExecuteScalar()!;
            using var write = c.CreateCommand();
            write.CommandText = "UPDATE nodes SET certificate = $c, agreement_key = $a WHERE name = 'cs3'";
            write.Parameters.AddWithValue("$c", fake.RawData);
            write.Parameters.AddWithValue("$a", Convert.ToHexStringLower(attacker.Public.AgreementKey));
            write.ExecuteNonQuery();
        }
        try
        {
            var error = await cluster.Fails("backup", "restore", "--node", "cs3", file);
            Assert.Contains("is not the node's", error);
        }
        finally
        {
            using var c = new SqliteConnection($"Data Source={db};Pooling=False");
            c.Open();
            using var write = c.CreateCommand();
            write.CommandText = "UPDATE nodes SET certificate = $c WHERE name = 'cs3'";
            write.Parameters.AddWithValue("$c", original);
            write.ExecuteNonQuery();
        }
    }

    [Fact]
    public async Task Every_signing_request_is_logged_with_wallet_digest_signers_and_result()
    {
        var q = await TestQuorum.Create(cluster.Api, "secp256k1");
        var message = Encoding.UTF8.GetBytes("pay 1 BTC to bob");
        await cluster.Api.Sign(q.Wallets[0].WalletId, "cs1,cs2", message: message);
        await Assert.ThrowsAsync<RpcException>(async () => await cluster.Api.Sign(q.Wallets[0].WalletId, "cs1,nobody", message: message));
        var log = (await cluster.Ok("log", "--quorum", q.Name))["entries"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(message));
        var signed = log.Single(e => e["kind"]!.GetValue<string>() == AuditKinds.SignCompleted);
        Assert.Equal(digest, signed["details"]!["message_sha256"]!.GetValue<string>());
        Assert.Equal(["cs1", "cs2"], signed["details"]!["signers"]!.AsArray().Select(s => s!.GetValue<string>()).Order());
        Assert.Equal("signed", signed["details"]!["result"]!.GetValue<string>());
        var failed = log.Single(e => e["kind"]!.GetValue<string>() == AuditKinds.SignFailed);
        Assert.Equal(digest, failed["details"]!["message_sha256"]!.GetValue<string>());
        Assert.Contains("nobody", failed["details"]!["error"]!.GetValue<string>());
    }
}

/// <summary>
/// The audit log attacked by someone holding the coordinator's host (its database and its audit key): truncating,
/// emptying, replacing under another key; the operator's CLI detects each, from the pinned key and the nodes' witness
/// statements, and the nodes' record of a head going back outlives the restored file.
/// </summary>
public sealed class AuditAttackTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private string CoordinatorDir => Path.Combine(cluster.Dir, "coordinator");
    private string AuditDb => Path.Combine(CoordinatorDir, "audit.db");
    private string AuditKeyFile => Path.Combine(CoordinatorDir, "audit.key");

    [Fact]
    public async Task Truncated_emptied_and_replaced_logs_are_each_detected_on_the_operators_side()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        // Enough entries that the truncated log cannot grow back past the witnessed head by what a restart appends.
        for (var i = 0; i < 12; i++) await cluster.Api.Sign(q.Wallets[0].WalletId, message: [(byte)i]);
        var intact = await WaitUntilWitnessed();
        var entries = intact["entries"]!.GetValue<long>();
        Assert.True(entries >= 16, $"{entries} entries");

        await StopCoordinator();
        var saved = Path.Combine(cluster.Dir, "audit-original");
        Directory.CreateDirectory(saved);
        File.Copy(AuditDb, Path.Combine(saved, "audit.db"));
        File.Copy(AuditKeyFile, Path.Combine(saved, "audit.key"));

        // 1. Truncated to entry 2, the head re-signed with the stolen audit key: the chain alone looks fine.
        Sql(AuditDb, "DELETE FROM audit WHERE seq > 2");
        byte[] hash2;
        using (var c = Open(AuditDb))
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT hash FROM audit WHERE seq = 2";
            hash2 = (byte[])cmd.ExecuteScalar()!;
        }
        using (var key = AuditKey.LoadOrCreate(AuditKeyFile))
            Sql(AuditDb, "UPDATE head SET seq = 2, hash = $h, signature = $s", ("$h", hash2), ("$s", key.Sign(AuditHeads.SignedHead(2, hash2))));
        await StartCoordinator();
        await AssertDetected("witnessed entry");
        // The restarted coordinator shows the nodes its (shorter) head with its heartbeat: wait until one of them says
        // it saw a head going back (under load the coordinator could otherwise be stopped before its first heartbeat).
        await WaitUntilANodeReportsAConflict();

        // 2. Emptied: the coordinator begins a new log with a genesis signed by the same (stolen) key.
        await StopCoordinator();
        Sql(AuditDb, "DELETE FROM audit; DELETE FROM head");
        await StartCoordinator();
        await AssertDetected("witnessed entry");

        // 3. Replaced by a log signed with another key.
        await StopCoordinator();
        foreach (var f in new[] { AuditDb, AuditDb + "-wal", AuditDb + "-shm", AuditKeyFile }) File.Delete(f);
        await StartCoordinator();
        var replaced = await AssertDetected("does not verify");
        Assert.Equal(1, replaced["firstBadEntry"]!.GetValue<long>());

        // 4. The original file put back: the nodes remember being shown heads that went back.
        await StopCoordinator();
        foreach (var f in new[] { AuditDb + "-wal", AuditDb + "-shm" }) File.Delete(f);
        File.Copy(Path.Combine(saved, "audit.db"), AuditDb, overwrite: true);
        File.Copy(Path.Combine(saved, "audit.key"), AuditKeyFile, overwrite: true);
        await StartCoordinator();
        await AssertDetected("going back");
    }

    private async Task<JsonObject> AssertDetected(string why)
    {
        var (code, json, error) = await cluster.Run("log", "--verify");
        Assert.True(code == 3, $"exit {code}: {error} {json.ToJsonString()}");
        Assert.False(json["intact"]!.GetValue<bool>());
        Assert.Contains(why, json["problem"]!.GetValue<string>());
        return json;
    }

    /// <summary>Verifies until every node has witnessed the log's current head (the heartbeat shows it within a second or so).</summary>
    private async Task WaitUntilANodeReportsAConflict()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (_, v, _) = await cluster.Run("log", "--verify");
            if (v["witnesses"] is JsonArray w && w.Any(x => x?["conflicts"] is JsonArray c && c.Count > 0)) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"no node reported the head going back: {v.ToJsonString()}");
            await Task.Delay(300);
        }
    }

    private async Task<JsonObject> WaitUntilWitnessed()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var v = await cluster.Ok("log", "--verify");
            Assert.True(v["intact"]!.GetValue<bool>(), v.ToJsonString());
            var witnesses = v["witnesses"]!.AsArray();
            if (witnesses.Count == 3 && witnesses.All(w => w!["seq"]!.GetValue<long>() == v["entries"]!.GetValue<long>())) return v;
            if (DateTime.UtcNow > deadline) Assert.Fail($"the nodes did not witness the head: {v.ToJsonString()}");
            await Task.Delay(300);
        }
    }

    /// <summary>Kills the coordinator and folds the audit database's write-ahead log into the file (so copies are whole).</summary>
    private async Task StopCoordinator()
    {
        cluster.Kill("coordinator");
        if (File.Exists(AuditDb)) Sql(AuditDb, "PRAGMA wal_checkpoint(TRUNCATE)");
        SqliteConnection.ClearAllPools();
        await Task.CompletedTask;
    }

    private async Task StartCoordinator()
    {
        await cluster.Ok("cluster", "up");
        cluster.Reconnect();
    }

    private static SqliteConnection Open(string db)
    {
        var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        return c;
    }

    private static void Sql(string db, string sql, params (string Name, object Value)[] args)
    {
        using var c = Open(db);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        cmd.ExecuteNonQuery();
    }
}

/// <summary>A two-node cluster whose node cs2 closes sessions idle longer than 2 seconds.</summary>
public sealed class ShortSessionCluster : ClusterFixture
{
    protected override int Nodes => 2;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Kill("cs2");
        var path = Path.Combine(Dir, "nodes", "cs2", Rotor.Node.NodeConfig.FileName);
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        config["sessionIdleSeconds"] = 2;
        File.WriteAllText(path, config.ToJsonString());
        await Ok("cluster", "start-node", "--name", "cs2");
    }
}

public sealed class SessionExpiryTests(ShortSessionCluster cluster) : IClassFixture<ShortSessionCluster>
{
    [Fact]
    public async Task A_step_on_a_session_left_idle_past_the_bound_gets_a_clear_error()
    {
        await cluster.Api.CreateQuorum("idle", 2, "cs1", "cs2");
        var wallet = await cluster.Api.CreateWallet("idle", "ed25519");
        var nodes = (await cluster.Api.Client.ListNodesAsync(new Rpc.Coordinator.ListNodesRequest())).Nodes;
        var start = new Rpc.Node.StartRequest
        {
            Nonce = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            Sign = new Rpc.Node.SignParams { KeyId = wallet.WalletId, Epoch = 0, Message = ByteString.CopyFrom([1, 2, 3]) },
            // The operators' approval of this signature, so that the session opens and the idle bound is what ends it.
            Authorization = Malicious.Approver.ClusterOperator(cluster.Dir).Approve(Malicious.Requests.New(Rotor.Protocols.Governance.Actions.Sign) with
            {
                Quorum = "idle", Scheme = "ed25519", Wallets = [new Rotor.Protocols.Governance.ApprovedWallet(wallet.WalletId, null)],
                Message = Rotor.Protocols.Governance.ApprovedMessage.Of([1, 2, 3]),
            }),
        };
        start.Sign.Signers.AddRange(nodes.Select(n => new Rpc.Node.Party { Name = n.Name, Index = n.Index, Certificate = n.Certificate }));
        var trust = new PeerTrust(ClusterCa.LoadRoot(Path.Combine(cluster.Dir, "ca", "ca.crt")));
        using var channel = RpcChannels.Create(File.ReadAllText(Path.Combine(cluster.Dir, "nodes", "cs2", "endpoint")).Trim(), trust, "cs2",
            ClusterCa.LoadLeaf(Path.Combine(cluster.Dir, "coordinator", "tls"), "coordinator"));
        var node = new Rpc.Node.SignerNode.SignerNodeClient(channel);
        var opened = await node.StartAsync(start);
        // Idle well past the 2 s bound (a sweep runs every second): the session is gone, its nonces wiped.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await node.StepAsync(new Rpc.Node.StepRequest { SessionId = opened.SessionId }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("expired", e.Status.Detail);
        Assert.Contains("node 'cs2'", e.Status.Detail);
        // Signing through the coordinator goes on as before.
        Checks.Verifies(await cluster.Api.Sign(wallet.WalletId), wallet.PublicKey);
    }
}
