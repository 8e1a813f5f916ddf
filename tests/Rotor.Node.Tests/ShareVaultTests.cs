using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Node.Tests;

public sealed class ShareVaultTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly byte[] master = RandomNumberGenerator.GetBytes(32);

    public void Dispose() => dir.Dispose();

    private string VaultPath => dir.File("cs1-vault.db");

    private ShareVault OpenVault(byte[]? secret = null, string node = "cs1") => ShareVault.Open(VaultPath, node, secret ?? master);

    private static KeyShare[] Deal(Scheme scheme, string keyId, ulong epoch = 0) => TestKeys.Deal(scheme, 2, 3, keyId, epoch).Shares;

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void Raw_vault_file_holds_no_shard_in_clear(Scheme scheme)
    {
        var share = Deal(scheme, "w1")[0];
        var identity = RandomNumberGenerator.GetBytes(64);
        using (var v = OpenVault())
        {
            v.PutActive([share]);
            v.PutSecret("identity", identity);
        }
        SqliteConnection.ClearAllPools();
        var raw = File.ReadAllBytes(VaultPath);
        var secret = share.SigningShare.ToBytes();
        foreach (var needle in new[]
                 {
                     secret, secret.Reverse().ToArray(), Encoding.ASCII.GetBytes(Convert.ToBase64String(secret)),
                     Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret)), Encoding.ASCII.GetBytes(Convert.ToHexString(secret)),
                     identity[..32], identity[32..],
                 })
            Assert.True(raw.AsSpan().IndexOf(needle) < 0, "a secret appears in clear in the vault file");
        Assert.Contains("vault", Path.GetFileName(VaultPath));
        using var again = OpenVault();
        Assert.Equal(share.SigningShare, again.GetActive("w1")!.SigningShare);
        Assert.Equal(identity, again.GetSecret("identity"));
    }

    [Fact]
    public void Vault_file_is_created_readable_by_its_owner_only()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix file modes");
        using (var v = OpenVault()) v.PutActive([Deal(Scheme.Ed25519, "w1")[0]]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(VaultPath));
    }

    [Fact]
    public void Wrong_master_secret_is_refused()
    {
        using (var v = OpenVault()) v.PutActive([Deal(Scheme.Ed25519, "w1")[0]]);
        var ex = Assert.Throws<VaultException>(() => OpenVault(RandomNumberGenerator.GetBytes(32)));
        Assert.Contains("wrong master secret", ex.Message);
    }

    [Fact]
    public void Vault_of_another_node_is_refused()
    {
        using (var v = OpenVault()) v.PutActive([Deal(Scheme.Ed25519, "w1")[0]]);
        Assert.Throws<VaultException>(() => OpenVault(node: "cs2"));
    }

    [Fact]
    public void Ciphertext_moved_to_another_state_fails_authentication()
    {
        var shares = Deal(Scheme.Ed25519, "w1");
        var next = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 1).Shares[0];
        using var v = OpenVault();
        v.PutActive([shares[0]]);
        v.PutPending("ev1", [1, 2], new byte[64], [next]);
        // An attacker with write access flips the pending row to active: its AAD no longer matches.
        RawSql("UPDATE shards SET state = 'active' WHERE epoch = 1");
        var ex = Assert.Throws<VaultException>(() => v.Get("w1", 1, ShardState.Active));
        Assert.Contains("key 'w1' epoch 1", ex.Message);
        Assert.Contains("failed authentication", ex.Message);
        Assert.NotNull(v.Health());
    }

    [Fact]
    public void Ciphertext_moved_to_another_key_fails_authentication()
    {
        using var v = OpenVault();
        v.PutActive([Deal(Scheme.Ed25519, "w1")[0], Deal(Scheme.Ed25519, "w2")[0]]);
        RawSql("UPDATE shards SET ciphertext = (SELECT ciphertext FROM shards WHERE key_id = 'w1'), nonce = (SELECT nonce FROM shards WHERE key_id = 'w1') WHERE key_id = 'w2'");
        Assert.Throws<VaultException>(() => v.GetActive("w2"));
        Assert.NotNull(v.GetActive("w1"));
    }

    [Fact]
    public void Activate_replaces_the_old_epoch_and_erases_it()
    {
        var old = Deal(Scheme.Secp256k1, "w1")[1];
        var next = TestKeys.Deal(Scheme.Secp256k1, 2, 3, "w1", 1).Shares[1];
        using var v = OpenVault();
        v.PutActive([old]);
        v.PutPending("ev1", [1], new byte[64], [next]);
        Assert.Equal(0ul, v.GetActive("w1")!.Epoch); // pending never signs
        Assert.Single(v.PendingEvents());
        var (activated, erased) = v.Activate("ev1", new Dictionary<string, ulong>());
        Assert.Equal([new ShardInfo("w1", 1, ShardState.Active, null)], activated);
        Assert.Equal([new ShardInfo("w1", 0, ShardState.Active, null)], erased);
        Assert.Equal(1ul, v.GetActive("w1")!.Epoch);
        Assert.Null(v.Get("w1", 0, ShardState.Active));
        Assert.Empty(v.PendingEvents());
        Assert.Null(v.Health());
    }

    [Fact]
    public void After_an_erasure_the_write_ahead_log_holds_nothing()
    {
        var old = Deal(Scheme.Ed25519, "w1")[0];
        var next = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 1).Shares[0];
        using var v = OpenVault();
        v.PutActive([old]);
        v.PutPending("ev1", [1], new byte[64], [next]);
        Assert.True(new FileInfo(VaultPath + "-wal").Length > 0);
        v.Activate("ev1", new Dictionary<string, ulong>());
        Assert.Equal(0, new FileInfo(VaultPath + "-wal").Length);
        var raw = File.ReadAllBytes(VaultPath);
        Assert.True(raw.AsSpan().IndexOf(old.SigningShare.ToBytes()) < 0);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void A_share_read_against_its_validated_package_is_the_stored_share(Scheme scheme)
    {
        var shares = TestKeys.Deal(scheme, 2, 3, "w1", 3).Shares;
        var other = TestKeys.Deal(scheme, 2, 3, "w1", 3).Shares[1];
        using var v = OpenVault();
        v.PutActive([shares[1]]);
        var read = v.GetActive("w1", shares[0].Public)!;
        Assert.Same(shares[0].Public, read.Public);
        Assert.Equal(shares[1].SigningShare.ToBytes(), read.SigningShare.ToBytes());
        // A package that is not the stored one is no short cut: the stored share is validated and returned as stored.
        var again = v.GetActive("w1", other.Public)!;
        Assert.NotSame(other.Public, again.Public);
        Assert.Equal(shares[1].VerifyingShare, again.VerifyingShare);
    }

    [Fact]
    public void Discard_keeps_the_active_epoch()
    {
        var old = Deal(Scheme.Ed25519, "w1")[0];
        using var v = OpenVault();
        v.PutActive([old]);
        v.PutPending("ev1", [1], new byte[64], [TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1", 1).Shares[0]]);
        Assert.Single(v.Discard("ev1"));
        Assert.Equal([new ShardInfo("w1", 0, ShardState.Active, null)], v.List());
        Assert.Equal(old.SigningShare, v.GetActive("w1")!.SigningShare);
    }

    [Fact]
    public void Pending_epoch_must_be_newer_than_the_active_one()
    {
        using var v = OpenVault();
        v.PutActive([Deal(Scheme.Ed25519, "w9", 1)[0]]);
        var ex = Assert.Throws<VaultException>(() => v.PutPending("ev1", [1], new byte[64], [Deal(Scheme.Ed25519, "w9", 1)[1]]));
        Assert.Contains("'w9'", ex.Message);
        Assert.Single(v.List());
        Assert.Empty(v.PendingEvents());
    }

    [Fact]
    public void A_joining_node_stores_pending_shards_without_an_active_epoch()
    {
        using var v = OpenVault();
        v.PutPending("ev1", [1], new byte[64], [Deal(Scheme.Ed25519, "w9", 3)[0]]);
        Assert.Null(v.GetActive("w9"));
        v.Activate("ev1", new Dictionary<string, ulong>());
        Assert.Equal(3ul, v.GetActive("w9")!.Epoch);
    }

    [Fact]
    public void Key_file_with_loose_permissions_is_refused()
    {
        var path = dir.File("node.key");
        MasterSecret.CreateKeyFile(path);
        Assert.Equal(32, MasterSecret.FromKeyFile(path).Length);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var ex = Assert.Throws<UnauthorizedAccessException>(() => MasterSecret.FromKeyFile(path));
        Assert.Contains("chmod 600", ex.Message);
    }

    [Fact]
    public void Passphrase_derivation_is_deterministic_per_salt()
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        Assert.Equal(MasterSecret.FromPassphrase("correct horse", salt), MasterSecret.FromPassphrase("correct horse", salt));
        Assert.NotEqual(MasterSecret.FromPassphrase("correct horse", salt), MasterSecret.FromPassphrase("correct horse", RandomNumberGenerator.GetBytes(16)));
    }

    private void RawSql(string sql)
    {
        using var db = new SqliteConnection($"Data Source={VaultPath};Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
