using System.Text;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Rotor.Coordinator;
using Rotor.Node;
using Rotor.Rpc;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests;

/// <summary>A cluster whose coordinator logs every envelope it relays.</summary>
public sealed class RelayLoggedCluster : ClusterFixture
{
    public string RelayLog => Path.Combine(Dir, "relay.log");

    protected override IEnumerable<string> CoordinatorEnvironment => [$"ROTOR_TEST_RELAY_LOG={RelayLog}"];
}

/// <summary>Who may call whom, and what the coordinator can see.</summary>
public sealed class SecurityTests(RelayLoggedCluster cluster) : IClassFixture<RelayLoggedCluster>
{
    private PeerTrust Trust => new(ClusterCa.LoadRoot(Path.Combine(cluster.Dir, "ca", "ca.crt")));

    private string Endpoint(string dir) => File.ReadAllText(Path.Combine(cluster.Dir, dir, "endpoint")).Trim();

    [Fact]
    public async Task Unauthenticated_callers_are_refused()
    {
        // The coordinator's API without the admin token, or with a wrong one.
        using var channel = RpcChannels.Create(Endpoint("coordinator"), Trust, "coordinator");
        var anonymous = new Rpc.Coordinator.Coordinator.CoordinatorClient(channel);
        var e1 = await Assert.ThrowsAsync<RpcException>(async () => await anonymous.ListNodesAsync(new Rpc.Coordinator.ListNodesRequest()));
        Assert.Equal(StatusCode.Unauthenticated, e1.StatusCode);
        var wrong = new Rpc.Coordinator.Coordinator.CoordinatorClient(channel.WithAdminToken(AdminToken.Create()));
        var e2 = await Assert.ThrowsAsync<RpcException>(async () => await wrong.ListNodesAsync(new Rpc.Coordinator.ListNodesRequest()));
        Assert.Equal(StatusCode.Unauthenticated, e2.StatusCode);

        // A node without a client certificate, with a CA certificate that is not the coordinator's, and with a
        // "coordinator" certificate from another CA: the TLS handshake refuses all three.
        var node = Endpoint(Path.Combine("nodes", "cs1"));
        using var scratch = new TempFolder();
        using var rogueCa = ClusterCa.Create(scratch.Sub("rogue"));
        using var clusterCa = ClusterCa.Load(Path.Combine(cluster.Dir, "ca"));
        var candidates = new (string What, System.Security.Cryptography.X509Certificates.X509Certificate2? Cert)[]
        {
            ("no client certificate", null),
            ("a cluster certificate for another name", clusterCa.Issue(scratch.Sub("intruder"), "intruder", CertificateRole.Client)),
            ("a coordinator certificate from another CA", rogueCa.Issue(scratch.Sub("fake"), "coordinator", CertificateRole.Client | CertificateRole.Server)),
        };
        foreach (var (what, cert) in candidates)
        {
            using var nodeChannel = RpcChannels.Create(node, Trust, "cs1", cert);
            var client = new Rpc.Node.SignerNode.SignerNodeClient(nodeChannel);
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.GetStatusAsync(new Rpc.Node.GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10)));
            Assert.True(e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.PermissionDenied, $"{what}: {e.StatusCode}");
        }
    }

    [Fact]
    public async Task Coordinator_database_logs_and_relayed_bytes_hold_no_shard()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519", "secp256k1");
        await cluster.Api.Reshare(q.Name, "refresh");
        await Checks.SettledAsync(cluster.Api, q.Name);
        Assert.True(File.Exists(cluster.RelayLog) && new FileInfo(cluster.RelayLog).Length > 0, "nothing was relayed");

        var secrets = new List<byte[]>();
        foreach (var name in new[] { "cs1", "cs2", "cs3" })
        {
            var (vault, identity) = NodeSetup.OpenVault(NodeConfig.Load(Path.Combine(cluster.Dir, "nodes", name, NodeConfig.FileName)));
            using (vault)
            using (identity)
            {
                foreach (var s in vault.List()) secrets.Add(vault.Get(s.KeyId, s.Epoch, s.State)!.SigningShare.ToBytes());
                var privateIdentity = identity.ExportPrivate();
                secrets.Add(privateIdentity[..32]);
                secrets.Add(privateIdentity[32..]);
            }
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(4 * 3, secrets.Count);
        var files = new[] { Path.Combine(cluster.Dir, "coordinator", "coordinator.db"), Path.Combine(cluster.Dir, "coordinator", "requests.db"), cluster.RelayLog }
            .Concat(Directory.GetFiles(Path.Combine(cluster.Dir, "logs"))).ToList();
        foreach (var file in files)
        {
            var raw = File.ReadAllBytes(file);
            foreach (var secret in secrets)
                foreach (var needle in new[] { secret, Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret)), Encoding.ASCII.GetBytes(Convert.ToBase64String(secret)) })
                    Assert.True(raw.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds a secret");
        }
    }
}

/// <summary>A cluster whose coordinator flips one bit in the first envelope it relays.</summary>
public sealed class TamperingCluster : ClusterFixture
{
    protected override IEnumerable<string> CoordinatorEnvironment => ["ROTOR_TEST_TAMPER_RELAY=1"];
}

public sealed class RelayTamperTests(TamperingCluster cluster) : IClassFixture<TamperingCluster>
{
    [Fact]
    public async Task A_message_altered_in_relay_is_rejected_and_nothing_is_created()
    {
        var api = cluster.Api;
        await api.CreateQuorum("t", 2, "cs1", "cs2", "cs3");
        var error = await ClusterApi.Refused(() => api.CreateWallet("t", "ed25519"));
        Assert.Contains("does not verify", error);
        Assert.Empty(await api.Wallets());
        // The relay tampers once; the next key generation goes through untouched.
        var w = await api.CreateWallet("t", "ed25519");
        Checks.Verifies(await api.Sign(w.WalletId), w.PublicKey);
        var status = await Checks.SettledAsync(api, "t");
        Assert.Single(status.Wallets);
    }
}

/// <summary>A scratch folder deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rotor-scratch-" + Guid.NewGuid().ToString("N")[..8]);

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, true); }
        catch (IOException) { }
    }
}
