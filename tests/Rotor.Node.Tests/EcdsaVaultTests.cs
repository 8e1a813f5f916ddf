using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Resharing;
using Rotor.TestSupport;

namespace Rotor.Node.Tests;

/// <summary>
/// ECDSA pair material in the vault: encrypted per pair, bound to node, key, epoch and peer, living and dying with its
/// shard row (kept at activation, erased with the old epoch at a commit and with pending shards at a discard).
/// </summary>
public sealed class EcdsaVaultTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly byte[] master = RandomNumberGenerator.GetBytes(32);

    public void Dispose() => dir.Dispose();

    private string VaultPath => dir.File("cs1-vault.db");

    private ShareVault OpenVault() => ShareVault.Open(VaultPath, "cs1", master);

    private static EcdsaKeyShare[] Keys(string keyId, ulong epoch = 0) =>
        EcdsaRunner.Setup(TestKeys.Deal(Scheme.EcdsaSecp256k1, 2, 3, keyId, epoch).Shares);

    private static long Rows(string db, string sql)
    {
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void Pair_material_is_stored_encrypted_and_makes_the_key_share_again()
    {
        var key = Keys("e1")[0];
        using (var v = OpenVault())
        {
            v.PutActive([key.Share]);
            v.PutPairs("e1", 0, key.Pairs.Values);
            var again = EcdsaKeyShare.Create(v.GetActive("e1")!, v.GetPairs("e1", 0));
            Assert.Equal(key.Pairs.Keys.Order(), again.Pairs.Keys.Order());
            Assert.All(key.Pairs, p => Assert.Equal(p.Value.ToBytes(), again.Pair(p.Key).ToBytes()));
            Assert.Null(v.Health());
        }
        SqliteConnection.ClearAllPools();
        var raw = File.ReadAllBytes(VaultPath);
        foreach (var m in key.Pairs.Values)
        {
            var bytes = m.ToBytes();
            // The last 64 bytes are OT seeds (secret): never in clear in the file.
            Assert.True(raw.AsSpan().IndexOf(bytes.AsSpan(bytes.Length - 64)) < 0, "OT seeds appear in clear in the vault file");
        }
    }

    [Fact]
    public void Pair_material_without_its_shard_or_of_another_epoch_is_refused()
    {
        var key = Keys("e2")[0];
        var later = Keys("e2", 1)[0];
        using var v = OpenVault();
        Assert.Contains("holds no shard of key 'e2' epoch 0", Assert.Throws<VaultException>(() => v.PutPairs("e2", 0, key.Pairs.Values)).Message);
        v.PutActive([key.Share]);
        Assert.Contains("epoch 1 offered for key 'e2' epoch 0", Assert.Throws<VaultException>(() => v.PutPairs("e2", 0, later.Pairs.Values)).Message);
        Assert.Empty(v.GetPairs("e2", 0));
    }

    [Fact]
    public void A_pair_row_moved_to_another_epoch_fails_authentication()
    {
        var key = Keys("e3")[0];
        using (var v = OpenVault())
        {
            v.PutActive([key.Share]);
            v.PutPairs("e3", 0, key.Pairs.Values);
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(2, Rows(VaultPath, "SELECT COUNT(*) FROM ecdsa_pairs WHERE key_id = 'e3' AND epoch = 0"));
        using (var c = new SqliteConnection($"Data Source={VaultPath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE ecdsa_pairs SET epoch = 7 WHERE key_id = 'e3'";
            cmd.ExecuteNonQuery();
        }
        using var again = OpenVault();
        var e = Assert.Throws<VaultException>(() => again.GetPairs("e3", 7));
        Assert.Contains("ECDSA pair material of key 'e3' epoch 7", e.Message);
        Assert.Contains("failed authentication", e.Message);
        Assert.Contains("failed authentication", again.Health());
    }

    [Fact]
    public void Pairs_follow_their_shard_kept_at_activation_erased_with_the_old_epoch_and_at_a_discard()
    {
        var all = Keys("e4");
        var old = all[0];
        var shares = Reshare.RunInProcess(all.Select(k => k.Share).ToArray(), old.Share.Members, 2);
        var fresh = EcdsaRunner.Setup(shares).Single(k => k.Identifier == old.Identifier);
        using var v = OpenVault();
        v.PutActive([old.Share]);
        v.PutPairs("e4", 0, old.Pairs.Values);
        v.PutPending("ev-1", new byte[64], new byte[64], [fresh.Share]);
        v.PutPairs("e4", 1, fresh.Pairs.Values);
        Assert.Equal(2, v.GetPairs("e4", 0).Count);
        Assert.Equal(2, v.GetPairs("e4", 1).Count);
        // Commit: the pending epoch becomes active with its pairs; epoch 0 goes, its pairs with it.
        v.Activate("ev-1", new Dictionary<string, ulong>());
        Assert.Empty(v.GetPairs("e4", 0));
        var active = EcdsaKeyShare.Create(v.GetActive("e4")!, v.GetPairs("e4", 1));
        Assert.Equal(1ul, active.Share.Epoch);
        // The old material never goes with the new shard (refused by name).
        var stale = Assert.Throws<ProtocolException>(() => EcdsaKeyShare.Create(v.GetActive("e4")!, old.Pairs.Values));
        Assert.Equal(Fault.StaleShare, stale.Fault);
        Assert.Contains("epoch 0", stale.Message);

        // A discarded reshare takes its pending pairs with it.
        var next = EcdsaRunner.Setup(Reshare.RunInProcess(shares, old.Share.Members, 2))
            .Single(k => k.Identifier == old.Identifier);
        v.PutPending("ev-2", new byte[64], new byte[64], [next.Share]);
        v.PutPairs("e4", 2, next.Pairs.Values);
        v.Discard("ev-2");
        Assert.Empty(v.GetPairs("e4", 2));
        Assert.Equal(2, v.GetPairs("e4", 1).Count);
    }

    [Fact]
    public void A_retired_pair_is_erased_and_the_key_is_unusable_until_set_up_again()
    {
        var key = Keys("e5")[0];
        using var v = OpenVault();
        v.PutActive([key.Share]);
        v.PutPairs("e5", 0, key.Pairs.Values);
        var peer = key.Pairs.Keys.First();
        v.RetirePair("e5", 0, peer.ToBytes());
        var e = Assert.Throws<ProtocolException>(() => EcdsaKeyShare.Create(v.GetActive("e5")!, v.GetPairs("e5", 0)));
        Assert.Contains($"no OT material with member {peer}", e.Message);
    }
}
