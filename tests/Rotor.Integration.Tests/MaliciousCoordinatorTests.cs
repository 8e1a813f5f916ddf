using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Rotor.Rpc.Node;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests;

/// <summary>
/// Issue 9, bindings: an attacker holding everything the coordinator holds (its TLS key and certificate, its database)
/// drives the real node processes directly over their mutual-TLS API. Every attack is refused, naming the culprit where
/// there is one, and every node's shard list is unchanged.
/// </summary>
public sealed class MaliciousCoordinatorTests(FourNodeCluster cluster) : IClassFixture<FourNodeCluster>
{
    private SignerNode.SignerNodeClient Node(string name)
    {
        var trust = new PeerTrust(ClusterCa.LoadRoot(Path.Combine(cluster.Dir, "ca", "ca.crt")));
        var cert = ClusterCa.LoadLeaf(Path.Combine(cluster.Dir, "coordinator", "tls"), "coordinator");
        var endpoint = File.ReadAllText(Path.Combine(cluster.Dir, "nodes", name, "endpoint")).Trim();
        return new SignerNode.SignerNodeClient(Rotor.Rpc.RpcChannels.Create(endpoint, trust, name, cert));
    }

    private async Task<Dictionary<string, string>> Vaults()
    {
        var result = new Dictionary<string, string>();
        foreach (var n in new[] { "cs1", "cs2", "cs3", "cs4" })
        {
            var s = await Node(n).GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            result[n] = string.Join("; ", s.Shards.OrderBy(x => x.KeyId).ThenBy(x => x.Epoch).Select(x => $"{x.KeyId}@{x.Epoch}:{x.State}"));
        }
        return result;
    }

    /// <summary>The commit certificate of the quorum's last reshare, as the coordinator's database keeps it.</summary>
    private CommitRequest LastCertificate(string quorum)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(cluster.Dir, "coordinator", "coordinator.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT certificate FROM events WHERE quorum = $q AND status = 'committed' ORDER BY created DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$q", quorum);
        return CommitRequest.Parser.ParseFrom((byte[])cmd.ExecuteScalar()!);
    }

    [Fact]
    public async Task Replayed_certificates_extended_erase_lists_and_unproven_discards_change_nothing()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519", "secp256k1");
        await cluster.Api.Reshare(q.Name, "refresh");
        await Checks.SettledAsync(cluster.Api, q.Name);
        var certificate = LastCertificate(q.Name);
        var before = await Vaults();
        Assert.Contains("@1:active", before["cs1"]);

        // Replay the certificate with an erase list reaching every epoch of every wallet (the 2^64-1 attack).
        var replay = certificate.Clone();
        replay.Wallets.Clear();
        foreach (var w in q.Wallets) replay.Wallets.Add(new WalletEpoch { KeyId = w.WalletId, Epoch = ulong.MaxValue });
        foreach (var n in new[] { "cs1", "cs2", "cs3", "cs4" })
        {
            var reply = await Node(n).CommitAsync(replay, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Empty(reply.Erased);
        }
        // A discard on the registry's word alone, and a renunciation asked of a node that is no new member.
        foreach (var n in new[] { "cs1", "cs2", "cs3" })
            Assert.Empty((await Node(n).DiscardAsync(new DiscardRequest { EventId = certificate.EventId, Reason = "says the registry" })).Discarded);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await Node("cs4").RenounceAsync(new RenounceRequest { Start = certificate.Start }));
        Assert.Contains("not a new member", e.Status.Detail);
        Assert.Equal(before, await Vaults());
        await q.CheckUsable(cluster.Api, "cs1,cs3");
    }

    /// <summary>A node as a party, with its CA-issued certificate and the given (or its registered) index.</summary>
    private Party PartyOf(string name, ulong? index = null)
    {
        using var cert = ClusterCa.LoadLeaf(Path.Combine(cluster.Dir, "nodes", name, "tls"), name);
        return new Party { Name = name, Index = index ?? (ulong)Query<long>("SELECT idx FROM nodes WHERE name = $a", name), Certificate = ByteString.CopyFrom(cert.RawData) };
    }

    private T Query<T>(string sql, string arg)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(cluster.Dir, "coordinator", "coordinator.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$a", arg);
        return (T)cmd.ExecuteScalar()!;
    }

    /// <summary>A wallet's current public package as the coordinator's database records it.</summary>
    private KeyPackage CurrentPackage(WalletRecordInfo w)
    {
        var p = new KeyPackage { KeyId = w.Id, Scheme = w.Scheme, Epoch = w.Epoch, Threshold = (uint)Query<long>("SELECT threshold FROM wallet_epochs WHERE wallet = $a ORDER BY epoch DESC LIMIT 1", w.Id),
            GroupPublicKey = ByteString.CopyFrom(Convert.FromHexString(Query<string>("SELECT public_key FROM wallets WHERE id = $a", w.Id))) };
        var shares = System.Text.Json.JsonSerializer.Deserialize<Dictionary<ulong, string>>(Query<string>("SELECT verifying_shares FROM wallet_epochs WHERE wallet = $a ORDER BY epoch DESC LIMIT 1", w.Id))!;
        var keys = System.Text.Json.JsonSerializer.Deserialize<Dictionary<ulong, string>>(Query<string>("SELECT member_keys FROM wallet_epochs WHERE wallet = $a ORDER BY epoch DESC LIMIT 1", w.Id))!;
        foreach (var (i, y) in shares) p.VerifyingShares.Add(i, ByteString.CopyFrom(Convert.FromHexString(y)));
        foreach (var (i, k) in keys) p.MemberKeys.Add(i, ByteString.CopyFrom(Convert.FromHexString(k)));
        if (Query<object>("SELECT chain_code FROM wallets WHERE id = $a", w.Id) is string cc) p.ChainCode = ByteString.CopyFrom(Convert.FromHexString(cc));
        if (Query<object>("SELECT internal_key FROM wallets WHERE id = $a", w.Id) is string ik) p.InternalKey = ByteString.CopyFrom(Convert.FromHexString(ik));
        return p;
    }

    private sealed record WalletRecordInfo(string Id, string Scheme, ulong Epoch);

    [Fact]
    public async Task A_repair_to_a_node_that_does_not_hold_the_identifier_is_refused_by_name()
    {
        var q = await TestQuorum.Create(cluster.Api, "secp256k1");
        var w = q.Wallets.Single();
        var package = CurrentPackage(new WalletRecordInfo(w.WalletId, "secp256k1", 0));
        var before = await Vaults();
        var cs3 = PartyOf("cs3");
        // cs4 (no member) is named as the target under cs3's identifier: it would learn cs3's share.
        var repair = new StartRequest
        {
            Nonce = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            Repair = new RepairParams { Current = package, Target = PartyOf("cs4", cs3.Index) },
        };
        repair.Repair.Helpers.Add(PartyOf("cs1"));
        repair.Repair.Helpers.Add(PartyOf("cs2"));
        foreach (var n in new[] { "cs1", "cs2", "cs4" })
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () => await Node(n).StartAsync(repair, deadline: DateTime.UtcNow.AddSeconds(30)));
            Assert.Contains($"repair target 'cs4' is not the node recorded for identifier {cs3.Index}", e.Status.Detail);
        }
        // A reshare whose dealer claims another's identifier is refused by every party, naming it.
        var reshare = new StartRequest
        {
            Nonce = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            Reshare = new ReshareParams { EventId = "ev-attack", NewThreshold = 1 },
        };
        reshare.Reshare.Wallets.Add(package);
        reshare.Reshare.Dealers.Add(PartyOf("cs1"));
        reshare.Reshare.Dealers.Add(PartyOf("cs4", cs3.Index));
        reshare.Reshare.NewMembers.Add(PartyOf("cs4", cs3.Index));
        foreach (var n in new[] { "cs1", "cs4" })
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () => await Node(n).StartAsync(reshare, deadline: DateTime.UtcNow.AddSeconds(30)));
            Assert.Contains($"dealer 'cs4' is not the node recorded for identifier {cs3.Index}", e.Status.Detail);
        }
        Assert.Equal(before, await Vaults());
        await q.CheckUsable(cluster.Api, "cs2,cs3");
    }
}
