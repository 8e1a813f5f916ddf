using Authorization = Rotor.Rpc.Node.Authorization;
using Microsoft.Data.Sqlite;
using Rotor.Node;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;

namespace Rotor.Integration.Tests.Malicious;

/// <summary>
/// One real cluster (four node processes) for the malicious-coordinator and malicious-node suites: the coordinator
/// process is stopped and <see cref="Evil"/> takes everything it held. The operators (the test, with the cluster's
/// operator key) approved the key generation of two wallets in a 2-of-3 quorum of cs1..cs3; cs4 is in no quorum
/// (a node the attacker would like to move a key or an identifier to). The attacker holds no operator key.
/// </summary>
public sealed class MaliciousCluster : IAsyncLifetime
{
    public const string Quorum = "vault";
    /// <summary>The quorum's members.</summary>
    public static readonly string[] All = ["cs1", "cs2", "cs3"];

    /// <summary>A node of the cluster outside the quorum.</summary>
    public const string Outsider = "cs4";

    public ClusterFixture Cluster { get; } = new FourNodeCluster();
    public MaliciousCoordinator Evil { get; private set; } = null!;
    /// <summary>The one approver every node pins (the cluster's operator key). Only the test uses it.</summary>
    public Approver Operator { get; private set; } = null!;
    public Requests Requests { get; private set; } = null!;

    /// <summary>An ed25519 and a secp256k1 wallet of <see cref="Quorum"/>, made by approved key generations.</summary>
    public string Ed { get; private set; } = "";
    public string Secp { get; private set; } = "";

    /// <summary>The approval the operators gave for the ed25519 key generation (already used on every node).</summary>
    public Authorization UsedKeygenApproval { get; private set; } = null!;

    /// <summary>Node cs3's private Ed25519 identity seed (what a malicious cs3 holds).</summary>
    public byte[] Cs3IdentitySeed { get; private set; } = [];

    /// <summary>Node cs3's whole private identity (Ed25519 seed, X25519 key: NodeIdentity.ExportPrivate), as a malicious cs3 holds it.</summary>
    public byte[] Cs3Identity { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        await Cluster.InitializeAsync();
        Cluster.Kill("coordinator");
        Evil = MaliciousCoordinator.Take(Cluster.Dir);
        Operator = Approver.ClusterOperator(Cluster.Dir);
        Requests = new Requests(Evil.Registry);
        foreach (var node in All.Append(Outsider))
            Assert.Equal(Operator.PublicKey, Assert.Single((await Evil.PinnedPolicy(node)).Approvers).Key);

        Evil.Engine.CreateQuorum(Quorum, 2, All);
        UsedKeygenApproval = Operator.Approve(Requests.CreateWallets(Quorum, "ed25519"));
        Ed = (await Evil.Honestly(UsedKeygenApproval, e => e.KeyGeneration.CreateWalletsAsync(Quorum, "ed25519", 1)))[0].Id;
        Secp = (await Evil.Honestly(Operator.Approve(Requests.CreateWallets(Quorum, "secp256k1")), e => e.KeyGeneration.CreateWalletsAsync(Quorum, "secp256k1", 1)))[0].Id;

        var (vault, identity) = NodeSetup.OpenVault(NodeConfig.Load(Path.Combine(Cluster.Dir, "nodes", "cs3", NodeConfig.FileName)));
        using (vault)
        using (identity)
        {
            Cs3Identity = identity.ExportPrivate();
            Cs3IdentitySeed = Cs3Identity[..32];
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(Evil.Node("cs3").SigningKey, OperatorKeys.PublicKeyOf(Cs3IdentitySeed));
    }

    public async ValueTask DisposeAsync()
    {
        Evil?.Dispose();
        await Cluster.DisposeAsync();
    }
}

/// <summary>The suites that share <see cref="MaliciousCluster"/>; run alone (they drive real processes).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MaliciousCollection : ICollectionFixture<MaliciousCluster>
{
    public const string Name = "malicious";
}
