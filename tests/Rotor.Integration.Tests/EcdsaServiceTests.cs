using System.Numerics;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys.Hd;
using Rotor.Rpc;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests;

/// <summary>
/// Threshold ECDSA (ecdsa-secp256k1, DKLs23) on the services, over real processes: a 2-of-3 wallet is created (DKG, then
/// the pairwise OT setup), signs 32-byte digests (checked with .NET's ECDsa over secP256k1 and the repo's verifier), is
/// refreshed, restructured (a member out and another in, then the threshold raised) and repaired, keeping its public key,
/// signing after each; old epochs are refused by name; an unapproved signature is refused by the nodes.
/// </summary>
public sealed class EcdsaServiceTests(FourNodeCluster cluster) : IClassFixture<FourNodeCluster>
{
    private ClusterApi Api => cluster.Api;

    private static readonly byte[] Digest = SHA256.HashData("rotor ecdsa over the services"u8);

    private async Task<SignReply> Sign(string wallet, string signers, byte[]? digest = null, string path = "", ulong? epoch = null)
    {
        var req = new SignRequest { WalletId = wallet, Message = ByteString.CopyFrom(digest ?? Digest), Path = path };
        req.Signers.AddRange(signers.Split(','));
        if (epoch is { } e) req.Epoch = e;
        return (await Api.Approved(new ActionSpec { Sign = req })).Signature;
    }

    /// <summary>Verifies r ‖ s with .NET's ECDsa (OpenSSL) over secP256k1 under the 33-byte compressed key, and with Rotor's verifier.</summary>
    private static void VerifiesEverywhere(SignReply s, string publicKeyHex, byte[]? digest = null)
    {
        digest ??= Digest;
        Assert.Equal("ecdsa-secp256k1", s.Scheme);
        Assert.Equal(64, s.Signature.Length);
        Assert.True(s.HasRecoveryId && s.RecoveryId is 0 or 1, "an ECDSA signature comes with a recovery id 0 or 1");
        var key = Convert.FromHexString(publicKeyHex);
        Assert.True(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, key, digest, s.Signature.Span), "Rotor's ECDSA verifier");
        var (x, y) = Decompress(key);
        using var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.CreateFromFriendlyName("secP256k1"), Q = new ECPoint { X = x, Y = y } });
        Assert.True(ecdsa.VerifyHash(digest, s.Signature.ToByteArray()), ".NET ECDsa (secP256k1)");
        // Low S.
        Assert.True(new BigInteger(s.Signature.Span[32..], isUnsigned: true, isBigEndian: true) <= N / 2, "s is low");
    }

    private static readonly BigInteger P = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", System.Globalization.NumberStyles.HexNumber);
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    private static (byte[] X, byte[] Y) Decompress(byte[] compressed)
    {
        Assert.Equal(33, compressed.Length);
        var x = new BigInteger(compressed.AsSpan(1), isUnsigned: true, isBigEndian: true);
        var y = BigInteger.ModPow((BigInteger.ModPow(x, 3, P) + 7) % P, (P + 1) / 4, P);
        if ((int)(y % 2) != (compressed[0] & 1)) y = P - y;
        static byte[] Be32(BigInteger v)
        {
            var b = v.ToByteArray(isUnsigned: true, isBigEndian: true);
            return b.Length == 32 ? b : [.. new byte[32 - b.Length], .. b];
        }
        return (Be32(x), Be32(y));
    }

    private string VaultFile(string node) => Directory.GetFiles(Path.Combine(cluster.Dir, "nodes", node), "*vault*.db").Single();

    /// <summary>Pair-material rows a node's vault holds for a wallet, by epoch (ciphertexts; counted, never read).</summary>
    private Dictionary<long, long> PairRows(string node, string wallet)
    {
        using var c = new SqliteConnection($"Data Source={VaultFile(node)};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT epoch, COUNT(*) FROM ecdsa_pairs WHERE key_id = $k GROUP BY epoch";
        cmd.Parameters.AddWithValue("$k", wallet);
        using var r = cmd.ExecuteReader();
        var d = new Dictionary<long, long>();
        while (r.Read()) d[r.GetInt64(0)] = r.GetInt64(1);
        return d;
    }

    private async Task WipeShards(string node, string wallet)
    {
        cluster.Kill(node);
        using (var c = new SqliteConnection($"Data Source={VaultFile(node)};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DELETE FROM shards WHERE key_id = $k";
            cmd.Parameters.AddWithValue("$k", wallet);
            Assert.True(cmd.ExecuteNonQuery() > 0);
        }
        await cluster.Ok("cluster", "start-node", "--name", node);
    }

    [Fact]
    public async Task An_ecdsa_wallet_is_created_signs_and_keeps_its_key_through_refresh_restructure_and_repair()
    {
        var q = "ecdsa-" + Guid.NewGuid().ToString("N")[..6];
        await Api.CreateQuorum(q, 2, "cs1", "cs2", "cs3");
        var w = await Api.CreateWallet(q, "ecdsa-secp256k1");
        Assert.Equal("ecdsa-secp256k1", w.Scheme);
        Assert.Equal(0ul, w.Epoch);
        // Every member holds OT material with each of the two others for epoch 0, encrypted in its vault.
        foreach (var n in new[] { "cs1", "cs2", "cs3" }) Assert.Equal(new Dictionary<long, long> { [0] = 2 }, PairRows(n, w.WalletId));

        foreach (var signers in new[] { "cs1,cs2", "cs2,cs3", "cs1,cs3" }) VerifiesEverywhere(await Sign(w.WalletId, signers), w.PublicKey);
        // Exactly a 32-byte digest: other lengths are refused, naming the rule.
        var wrongLength = await ClusterApi.Refused(() => Sign(w.WalletId, "cs1,cs2", [0xc0, 0xff, 0xee]));
        Assert.Contains("32-byte digest", wrongLength);
        Assert.Contains("got 3 bytes", wrongLength);

        // HD: a derived key signs with the root's pair material; the signature verifies under the BIP-32 child key.
        var path = "m/0/7";
        var child = HdDerivation.Tweak(Scheme.EcdsaSecp256k1, w.WalletId, Scheme.EcdsaSecp256k1.Group().DecodeElement(Convert.FromHexString(w.PublicKey)),
            Convert.FromHexString(w.ChainCode), null, DerivationPath.Parse(path)).EncodedChildKey;
        var derived = await Sign(w.WalletId, "cs1,cs3", path: path);
        Assert.Equal(Convert.ToHexStringLower(child), derived.PublicKey);
        VerifiesEverywhere(derived, derived.PublicKey);
        Assert.False(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, Convert.FromHexString(w.PublicKey), Digest, derived.Signature.Span));

        // Refresh: new shards and new pair material at epoch 1; epoch 0 (shard and pairs) erased and refused by name.
        Assert.Equal("committed", (await Api.Reshare(q, "ecdsa refresh")).Status);
        await Checks.SettledAsync(Api, q);
        foreach (var n in new[] { "cs1", "cs2", "cs3" }) Assert.Equal(new Dictionary<long, long> { [1] = 2 }, PairRows(n, w.WalletId));
        VerifiesEverywhere(await Sign(w.WalletId, "cs2,cs3"), w.PublicKey);
        Assert.Contains("erased", await ClusterApi.Refused(() => Sign(w.WalletId, "cs1,cs2", epoch: 0)));

        // Restructure: cs3 out, cs4 in (2-of-{cs1, cs2, cs4}); cs3 keeps nothing of the wallet.
        Assert.Equal("committed", (await Api.Reshare(q, "cs3 leaves, cs4 joins", "cs1,cs2,cs4", 2)).Status);
        await Checks.SettledAsync(Api, q);
        Assert.Empty(PairRows("cs3", w.WalletId));
        foreach (var n in new[] { "cs1", "cs2", "cs4" }) Assert.Equal(new Dictionary<long, long> { [2] = 2 }, PairRows(n, w.WalletId));
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs4"), w.PublicKey);
        VerifiesEverywhere(await Sign(w.WalletId, "cs2,cs4"), w.PublicKey);
        Assert.Contains("not a member", await ClusterApi.Refused(() => Sign(w.WalletId, "cs1,cs3")));

        // Restructure: cs3 back in, threshold 3 of 4.
        Assert.Equal("committed", (await Api.Reshare(q, "threshold 3", "cs1,cs2,cs3,cs4", 3)).Status);
        await Checks.SettledAsync(Api, q);
        foreach (var n in new[] { "cs1", "cs2", "cs3", "cs4" }) Assert.Equal(new Dictionary<long, long> { [3] = 3 }, PairRows(n, w.WalletId));
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs3,cs4"), w.PublicKey);
        Assert.Contains("needs 3", await ClusterApi.Refused(() => Sign(w.WalletId, "cs1,cs2")));

        // Repair: cs3 loses its shard (its pair rows go with it); it is rebuilt and sets up fresh pairs with every other member.
        await WipeShards("cs3", w.WalletId);
        Assert.Empty(PairRows("cs3", w.WalletId));
        await cluster.Fails("sign", "--wallet", w.WalletId, "--message", Convert.ToHexStringLower(Digest), "--signers", "cs1,cs2,cs3");
        var repaired = await cluster.Ok("repair", "--node", "cs3", "--wallet", w.WalletId);
        Assert.Equal(3ul, repaired["epoch"]!.GetValue<ulong>());
        Assert.Equal(new Dictionary<long, long> { [3] = 3 }, PairRows("cs3", w.WalletId));
        VerifiesEverywhere(await Sign(w.WalletId, "cs2,cs3,cs4"), w.PublicKey);
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs2,cs3", path: path), Convert.ToHexStringLower(child));
        await Checks.SettledAsync(Api, q);

        var now = (await Api.Wallets(q)).Single();
        Assert.Equal(w.PublicKey, now.PublicKey);
        Assert.Equal(w.Address, now.Address);
        Assert.Equal(3ul, now.Epoch);
    }

    [Fact]
    public async Task A_signing_with_round_1_made_ahead_takes_two_round_trips_and_falls_back_to_three_when_a_node_lost_it()
    {
        var q = "ecdsa-p-" + Guid.NewGuid().ToString("N")[..6];
        await Api.CreateQuorum(q, 2, "cs1", "cs2", "cs3");
        var w = await Api.CreateWallet(q, "ecdsa-secp256k1");
        var first = await Sign(w.WalletId, "cs1,cs2");
        Assert.Equal(3u, first.RoundTrips);
        // the next signature with the same signers uses the presign made with the first one's last round
        var second = await Sign(w.WalletId, "cs1,cs2", SHA256.HashData("second"u8));
        Assert.Equal(2u, second.RoundTrips);
        VerifiesEverywhere(second, w.PublicKey, SHA256.HashData("second"u8));
        // another signer set has no presign yet; a derived path uses the set's presign (made without a path)
        Assert.Equal(3u, (await Sign(w.WalletId, "cs2,cs3")).RoundTrips);
        var derived = await Sign(w.WalletId, "cs2,cs3", path: "m/0/1");
        Assert.Equal(2u, derived.RoundTrips);
        VerifiesEverywhere(derived, derived.PublicKey);
        // cs2 restarts: its presigns (memory only) are gone; the coordinator may not have noticed yet, and the
        // signing falls back to three rounds with the same approval
        cluster.Kill("cs2");
        await cluster.Ok("cluster", "start-node", "--name", "cs2");
        var afterRestart = await Sign(w.WalletId, "cs1,cs2", SHA256.HashData("after restart"u8));
        Assert.Equal(3u, afterRestart.RoundTrips);
        VerifiesEverywhere(afterRestart, w.PublicKey, SHA256.HashData("after restart"u8));
        // a refresh gives the wallet a new epoch: the presigns of the old one are not used (nor usable)
        Assert.Equal(2u, (await Sign(w.WalletId, "cs1,cs2")).RoundTrips);
        Assert.Equal("committed", (await Api.Reshare(q, "presign epoch change")).Status);
        await Checks.SettledAsync(Api, q);
        var afterRefresh = await Sign(w.WalletId, "cs1,cs2");
        Assert.Equal(1ul, afterRefresh.Epoch);
        Assert.Equal(3u, afterRefresh.RoundTrips);
        VerifiesEverywhere(afterRefresh, w.PublicKey);
    }

    [Fact]
    public async Task An_unapproved_ecdsa_signature_is_refused_by_the_nodes()
    {
        var q = "ecdsa-u-" + Guid.NewGuid().ToString("N")[..6];
        await Api.CreateQuorum(q, 2, "cs1", "cs2", "cs3");
        var w = await Api.CreateWallet(q, "ecdsa-secp256k1");
        var nodes = (await Api.Client.ListNodesAsync(new ListNodesRequest())).Nodes.Where(n => n.Name is "cs1" or "cs2").ToList();
        var start = new Rpc.Node.StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Sign = new Rpc.Node.SignParams { KeyId = w.WalletId, Epoch = 0, Message = ByteString.CopyFrom(Digest) },
        };
        start.Sign.Signers.AddRange(nodes.Select(n => new Rpc.Node.Party { Name = n.Name, Index = n.Index, Certificate = n.Certificate }));
        var trust = new PeerTrust(ClusterCa.LoadRoot(Path.Combine(cluster.Dir, "ca", "ca.crt")));
        foreach (var name in new[] { "cs1", "cs2" })
        {
            using var channel = RpcChannels.Create(File.ReadAllText(Path.Combine(cluster.Dir, "nodes", name, "endpoint")).Trim(), trust, name,
                ClusterCa.LoadLeaf(Path.Combine(cluster.Dir, "coordinator", "tls"), "coordinator"));
            var node = new Rpc.Node.SignerNode.SignerNodeClient(channel);
            // No approval at all.
            var e = await Assert.ThrowsAsync<RpcException>(async () => await node.StartAsync(start));
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Contains($"node '{name}'", e.Status.Detail);
            Assert.Contains("approval", e.Status.Detail);
            // An approval of another digest.
            var other = start.Clone();
            other.Authorization = Malicious.Approver.ClusterOperator(cluster.Dir).Approve(Malicious.Requests.New(Rotor.Protocols.Governance.Actions.Sign) with
            {
                Quorum = q, Scheme = "ecdsa-secp256k1", Wallets = [new Rotor.Protocols.Governance.ApprovedWallet(w.WalletId, null)],
                Message = Rotor.Protocols.Governance.ApprovedMessage.Of(new byte[32]),
            });
            e = await Assert.ThrowsAsync<RpcException>(async () => await node.StartAsync(other));
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Contains("mismatched", e.Status.Detail);
        }
        // The wallet signs as approved.
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs2"), w.PublicKey);
    }

    [Fact]
    public async Task A_restored_member_sets_up_fresh_pairs_and_old_pair_material_is_refused_by_name()
    {
        var q = "ecdsa-r-" + Guid.NewGuid().ToString("N")[..6];
        await Api.CreateQuorum(q, 2, "cs1", "cs2", "cs3");
        var w = await Api.CreateWallet(q, "ecdsa-secp256k1");

        // Restore: a backup carries the shard; after the restore the member sets up fresh pairs with every other member.
        var recipient = File.ReadAllText(Path.Combine(cluster.Dir, "backup-recipient.pub")).Trim();
        var file = Path.Combine(cluster.Dir, $"{q}-cs2.rotorbak");
        await cluster.Ok("backup", "create", "--node", "cs2", "--wallets", w.WalletId, "--out", file, "--recipient", Convert.ToBase64String(Convert.FromHexString(recipient)));
        await WipeShards("cs2", w.WalletId);
        Assert.Empty(PairRows("cs2", w.WalletId));
        var restored = await cluster.Ok("backup", "restore", "--node", "cs2", file, "--key-file", Path.Combine(cluster.Dir, "backup-recipient.key"));
        Assert.Equal([w.WalletId], restored["restored"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(new Dictionary<long, long> { [0] = 2 }, PairRows("cs2", w.WalletId));
        VerifiesEverywhere(await Sign(w.WalletId, "cs2,cs3"), w.PublicKey);
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs2"), w.PublicKey);

        // Old pair material put in place of the new (cs1's epoch-0 rows relabelled as epoch 1 after a refresh): refused by name.
        var old = ReadPairRows("cs1", w.WalletId, 0);
        Assert.Equal("committed", (await Api.Reshare(q, "refresh")).Status);
        await Checks.SettledAsync(Api, q);
        var fresh = ReadPairRows("cs1", w.WalletId, 1);
        cluster.Kill("cs1");
        WritePairRows("cs1", w.WalletId, 1, old);
        await cluster.Ok("cluster", "start-node", "--name", "cs1");
        var refused = await ClusterApi.Refused(() => Sign(w.WalletId, "cs1,cs2"));
        Assert.Contains("node 'cs1'", refused);
        Assert.Contains($"ECDSA pair material of key '{w.WalletId}' epoch 1", refused);
        Assert.Contains("failed authentication", refused);
        VerifiesEverywhere(await Sign(w.WalletId, "cs2,cs3"), w.PublicKey);
        cluster.Kill("cs1");
        WritePairRows("cs1", w.WalletId, 1, fresh);
        await cluster.Ok("cluster", "start-node", "--name", "cs1");
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs2"), w.PublicKey);

        // A pair erased on one side (as a retired pair is): the signing that finds it sets the epoch's pairs up afresh and signs.
        cluster.Kill("cs1");
        using (var c = new SqliteConnection($"Data Source={VaultFile("cs1")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DELETE FROM ecdsa_pairs WHERE key_id = $k AND peer = $p";
            cmd.Parameters.AddWithValue("$k", w.WalletId);
            cmd.Parameters.AddWithValue("$p", fresh[0].Peer);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        await cluster.Ok("cluster", "start-node", "--name", "cs1");
        Assert.Equal(new Dictionary<long, long> { [1] = 1 }, PairRows("cs1", w.WalletId));
        VerifiesEverywhere(await Sign(w.WalletId, "cs1,cs2"), w.PublicKey);
        Assert.Equal(new Dictionary<long, long> { [1] = 2 }, PairRows("cs1", w.WalletId));
        Assert.NotEqual(fresh.Select(r => Convert.ToHexString(r.Ciphertext)), ReadPairRows("cs1", w.WalletId, 1).Select(r => Convert.ToHexString(r.Ciphertext)));
    }

    private List<(byte[] Peer, byte[] Nonce, byte[] Ciphertext)> ReadPairRows(string node, string wallet, long epoch)
    {
        using var c = new SqliteConnection($"Data Source={VaultFile(node)};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT peer, nonce, ciphertext FROM ecdsa_pairs WHERE key_id = $k AND epoch = $e ORDER BY peer";
        cmd.Parameters.AddWithValue("$k", wallet);
        cmd.Parameters.AddWithValue("$e", epoch);
        using var r = cmd.ExecuteReader();
        var rows = new List<(byte[], byte[], byte[])>();
        while (r.Read()) rows.Add(((byte[])r[0], (byte[])r[1], (byte[])r[2]));
        Assert.Equal(2, rows.Count);
        return rows;
    }

    private void WritePairRows(string node, string wallet, long epoch, List<(byte[] Peer, byte[] Nonce, byte[] Ciphertext)> rows)
    {
        using var c = new SqliteConnection($"Data Source={VaultFile(node)};Pooling=False");
        c.Open();
        foreach (var (peer, nonce, ct) in rows)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT OR REPLACE INTO ecdsa_pairs (key_id, epoch, peer, nonce, ciphertext) VALUES ($k, $e, $p, $n, $c)";
            cmd.Parameters.AddWithValue("$k", wallet);
            cmd.Parameters.AddWithValue("$e", epoch);
            cmd.Parameters.AddWithValue("$p", peer);
            cmd.Parameters.AddWithValue("$n", nonce);
            cmd.Parameters.AddWithValue("$c", ct);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
    }
}
