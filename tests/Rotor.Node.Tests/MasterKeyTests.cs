using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Tls;
using Rotor.TestSupport;

namespace Rotor.Node.Tests;

/// <summary>
/// The master key providers against a real SoftHSM2 token made for each test: wrapping round trips, every way a
/// provider can be unavailable named, a wrapping that cannot be moved to another node, an HSM key that cannot leave
/// the token, rekeying that keeps every shard, and a sealed node that refuses every use of its vault.
/// </summary>
public sealed class MasterKeyTests : IDisposable
{
    private const string PinVariable = "ROTOR_UNIT_HSM_PIN", PassVariable = "ROTOR_UNIT_PASSPHRASE";
    private readonly TempDir dir = new();
    private readonly SoftHsm hsm;
    private readonly string? previousConf = Environment.GetEnvironmentVariable("SOFTHSM2_CONF");

    public MasterKeyTests()
    {
        hsm = new SoftHsm(dir.File("hsm"), "unit-token");
        hsm.Activate();
        Environment.SetEnvironmentVariable(PinVariable, SoftHsm.UserPin);
    }

    public void Dispose()
    {
        SoftHsm.SetEnvironment("SOFTHSM2_CONF", previousConf);
        Environment.SetEnvironmentVariable(PinVariable, null);
        Environment.SetEnvironmentVariable(PassVariable, null);
        SqliteConnection.ClearAllPools();
        dir.Dispose();
    }

    private NodeConfig Config(string name = "cs1")
    {
        var folder = dir.File(name);
        Directory.CreateDirectory(folder);
        return new NodeConfig { Name = name, Vault = name + "-vault.db", BaseDir = folder, MasterKey = MasterKeys.File, KeyFile = "unused" };
    }

    private static MasterKeyChoice Pkcs11(string label = "rotor-cs1", string? pinEnv = PinVariable, string token = "unit-token") =>
        new(MasterKeys.Pkcs11, new Pkcs11Settings { Library = SoftHsm.Library, Token = token, KeyLabel = label, PinEnv = pinEnv, PinFile = pinEnv is null ? "pin" : null });

    /// <summary>A node folder with a vault holding one shard under a provider; returns the config path and the shard.</summary>
    private (string ConfigPath, KeyShare Share, byte[] Root) Node(MasterKeyChoice choice, MasterKeySecrets? secrets = null, string name = "cs1")
    {
        var root = RandomNumberGenerator.GetBytes(32);
        var config = MasterKeys.Establish(Config(name), choice, root, secrets ?? MasterKeySecrets.None);
        var path = Path.Combine(config.BaseDir, NodeConfig.FileName);
        config.Save(path);
        var share = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1").Shares[0];
        using (var v = ShareVault.Open(config.Resolve(config.Vault), name, root)) v.PutActive([share]);
        return (path, share, root);
    }

    private static KeyShare ReadShare(string configPath, MasterKeySecrets? secrets = null)
    {
        var config = NodeConfig.Load(configPath);
        var root = MasterKeys.Unwrap(config, secrets ?? MasterKeySecrets.None);
        using var v = ShareVault.Open(config.Resolve(config.Vault), config.Name, root);
        return v.GetActive("w1")!;
    }

    private static Dictionary<string, string> Snapshot(string folder)
    {
        SqliteConnection.ClearAllPools();
        return Directory.GetFiles(folder).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
    }

    [Fact]
    public void Pkcs11_wrapping_round_trips_and_the_record_holds_no_root()
    {
        var (path, share, root) = Node(Pkcs11());
        var config = NodeConfig.Load(path);
        Assert.Equal(MasterKeys.Pkcs11, config.MasterKeyKind);
        Assert.Null(config.KeyFile);
        Assert.False(File.Exists(config.Resolve("node.key")), "a pkcs11 node must have no key file");
        Assert.Equal(root, MasterKeys.Unwrap(config, MasterKeySecrets.None));
        Assert.Equal(share.SigningShare, ReadShare(path).SigningShare);
        var record = File.ReadAllBytes(config.Resolve(config.MasterKeyFile!));
        Assert.True(record.AsSpan().IndexOf(root) < 0 && !System.Text.Encoding.ASCII.GetString(record).Contains(Convert.ToBase64String(root)), "the record holds the root in clear");
    }

    [Fact]
    public void The_hsm_key_is_created_sensitive_and_non_extractable()
    {
        Node(Pkcs11(label: "probe-key"));
        var factories = new Pkcs11InteropFactories();
        using var library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, SoftHsm.Library, AppType.MultiThreaded);
        var slot = library.GetSlotList(SlotsType.WithTokenPresent).Single(s => s.GetTokenInfo().Label.Trim() == "unit-token");
        using var session = slot.OpenSession(SessionType.ReadWrite);
        session.Login(CKU.CKU_USER, SoftHsm.UserPin);
        var key = session.FindAllObjects([factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, "probe-key")]).Single();
        var attrs = session.GetAttributeValue(key, [CKA.CKA_EXTRACTABLE, CKA.CKA_SENSITIVE, CKA.CKA_TOKEN]);
        Assert.False(attrs[0].GetValueAsBool());
        Assert.True(attrs[1].GetValueAsBool());
        Assert.True(attrs[2].GetValueAsBool());
        // An attacker with the PIN still cannot read the key's value out of the token.
        var value = session.GetAttributeValue(key, [CKA.CKA_VALUE])[0];
        Assert.True(value.CannotBeRead, "the key's value must not be readable");
    }

    [Fact]
    public void Every_unavailable_pkcs11_provider_is_named()
    {
        var (path, _, _) = Node(Pkcs11());
        var config = NodeConfig.Load(path);

        Environment.SetEnvironmentVariable(PinVariable, "000000");
        Assert.Contains("wrong PIN", Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Unwrap(config, MasterKeySecrets.None)).Message);
        Environment.SetEnvironmentVariable(PinVariable, null);
        Assert.Contains($"environment variable {PinVariable} is not set", Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Unwrap(config, MasterKeySecrets.None)).Message);
        // A PIN handed over (rotor node unseal) comes before the configured source.
        Assert.Equal(32, MasterKeys.Unwrap(config, new MasterKeySecrets(Pin: SoftHsm.UserPin)).Length);
        Environment.SetEnvironmentVariable(PinVariable, SoftHsm.UserPin);

        var empty = new SoftHsm(dir.File("no-token"), tokenLabel: null);
        empty.Activate();
        Assert.Contains("no token labelled 'unit-token'", Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Unwrap(config, MasterKeySecrets.None)).Message);
        hsm.Activate();

        config.Pkcs11!.Library = dir.File("missing-libpkcs11.so");
        Assert.Contains("could not be loaded", Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Unwrap(config, MasterKeySecrets.None)).Message);
        config.Pkcs11.Library = SoftHsm.Library;

        // Another token with a key of the same label: it does not unwrap this node's vault key.
        var other = new SoftHsm(dir.File("other"), "unit-token");
        other.Activate();
        Node(Pkcs11(), name: "cs9");
        Assert.Contains("does not unwrap", Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Unwrap(config, MasterKeySecrets.None)).Message);
        hsm.Activate();
        Assert.Equal(32, MasterKeys.Unwrap(config, MasterKeySecrets.None).Length);
    }

    [Fact]
    public void Passphrase_wrapping_names_a_wrong_or_missing_passphrase()
    {
        var (path, share, _) = Node(new MasterKeyChoice(MasterKeys.Passphrase, PassphraseEnv: PassVariable), new MasterKeySecrets("correct horse battery"));
        Assert.Contains("no passphrase was given", Assert.Throws<MasterKeyUnavailableException>(() => ReadShare(path)).Message);
        Assert.Contains("wrong passphrase", Assert.Throws<MasterKeyUnavailableException>(() => ReadShare(path, new MasterKeySecrets("correct horse battery!"))).Message);
        Environment.SetEnvironmentVariable(PassVariable, "correct horse battery");
        Assert.Equal(share.SigningShare, ReadShare(path).SigningShare);
    }

    [Fact]
    public void A_wrapping_copied_to_another_node_does_not_open_even_relabelled()
    {
        var (path, _, _) = Node(new MasterKeyChoice(MasterKeys.Passphrase), new MasterKeySecrets("correct horse battery"));
        var config = NodeConfig.Load(path);
        var other = Config("cs2");
        other.MasterKey = MasterKeys.Passphrase;
        other.KeyFile = null;
        other.MasterKeyFile = "master-key.1.json";
        var record = JsonNode.Parse(File.ReadAllText(config.Resolve(config.MasterKeyFile!)))!;
        File.WriteAllText(other.Resolve(other.MasterKeyFile), record.ToJsonString());
        Assert.Contains("not 'cs2'", Assert.Throws<InvalidDataException>(() => MasterKeys.Unwrap(other, new MasterKeySecrets("correct horse battery"))).Message);
        record["node"] = "cs2";
        File.WriteAllText(other.Resolve(other.MasterKeyFile), record.ToJsonString());
        Assert.Contains("wrong passphrase", Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Unwrap(other, new MasterKeySecrets("correct horse battery"))).Message);
    }

    [Fact]
    public void Rekeying_through_every_provider_keeps_the_shard_and_removes_each_old_wrapping()
    {
        var (path, share, root) = Node(new MasterKeyChoice(MasterKeys.File));
        var folder = Path.GetDirectoryName(path)!;
        Assert.True(File.Exists(Path.Combine(folder, "node.key")));

        var r1 = MasterKeys.Rekey(path, Pkcs11(), MasterKeySecrets.None, MasterKeySecrets.None);
        Assert.Equal((MasterKeys.File, MasterKeys.Pkcs11), (r1.From, r1.To));
        Assert.Contains("node.key", r1.Removed);
        Assert.False(File.Exists(Path.Combine(folder, "node.key")), "the old key file must be gone after moving to pkcs11");

        var r2 = MasterKeys.Rekey(path, new MasterKeyChoice(MasterKeys.Passphrase), MasterKeySecrets.None, new MasterKeySecrets("a new passphrase"));
        Assert.Contains(r1.MasterKeyFile, r2.Removed);
        Assert.Equal(share.SigningShare, ReadShare(path, new MasterKeySecrets("a new passphrase")).SigningShare);

        var r3 = MasterKeys.Rekey(path, Pkcs11(label: "rotor-cs1-2026"), new MasterKeySecrets("a new passphrase"), MasterKeySecrets.None);
        Assert.Equal(share.SigningShare, ReadShare(path).SigningShare);
        Assert.Equal(root, MasterKeys.Unwrap(NodeConfig.Load(path), MasterKeySecrets.None));

        MasterKeys.Rekey(path, new MasterKeyChoice(MasterKeys.File), MasterKeySecrets.None, MasterKeySecrets.None);
        Assert.Equal(share.SigningShare, ReadShare(path).SigningShare);
        Assert.False(File.Exists(Path.Combine(folder, r3.MasterKeyFile!)));
        Assert.Empty(Directory.GetFiles(folder, "master-key.*.json"));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void A_refused_rekey_changes_nothing()
    {
        var (path, _, _) = Node(new MasterKeyChoice(MasterKeys.Passphrase), new MasterKeySecrets("the current passphrase"));
        var folder = Path.GetDirectoryName(path)!;
        var before = Snapshot(folder);
        Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Rekey(path, Pkcs11(), new MasterKeySecrets("not the passphrase"), MasterKeySecrets.None));
        Assert.Equal(before, Snapshot(folder));
        Environment.SetEnvironmentVariable(PinVariable, "000000");
        Assert.Throws<MasterKeyUnavailableException>(() => MasterKeys.Rekey(path, Pkcs11(), new MasterKeySecrets("the current passphrase"), MasterKeySecrets.None));
        Assert.Equal(before, Snapshot(folder));
        Assert.Throws<ArgumentException>(() => MasterKeys.Rekey(path, new MasterKeyChoice(MasterKeys.Pkcs11, new Pkcs11Settings { Library = SoftHsm.Library, KeyLabel = "x", PinEnv = PinVariable }),
            new MasterKeySecrets("the current passphrase"), MasterKeySecrets.None));
        Assert.Equal(before, Snapshot(folder));
    }

    [Fact]
    public void Leftovers_of_an_interrupted_rekey_are_removed_and_the_config_s_wrapping_kept()
    {
        var (path, share, _) = Node(Pkcs11());
        var config = NodeConfig.Load(path);
        // What a rekey killed before its switch leaves: a new wrapping and a temp file; after it: the old key file.
        File.Copy(config.Resolve(config.MasterKeyFile!), config.Resolve("master-key.7.json"));
        File.WriteAllText(config.Resolve("master-key.8.json.tmp"), "{}");
        SecretFiles.Write(config.Resolve("node.key"), new string('a', 64));
        var removed = MasterKeys.CleanUp(path);
        Assert.Equal(["master-key.7.json", "master-key.8.json.tmp", "node.key"], removed.Order(StringComparer.Ordinal));
        Assert.Equal(share.SigningShare, ReadShare(path).SigningShare);
    }

    [Fact]
    public void A_sealed_node_refuses_every_use_of_its_vault_and_identity()
    {
        using var ca = ClusterCa.Create(dir.File("ca"));
        var trust = new PeerTrust(ca.Certificate);
        using var state = new NodeState("cs1", trust, MasterKeys.Pkcs11, "the token refused the PIN", dir.File("none.db"));
        Assert.True(state.Sealed);
        var e = Assert.Throws<VaultException>(() => state.WithVault(v => v.List()));
        Assert.Contains("sealed (the token refused the PIN)", e.Message);
        Assert.Contains("sealed", Assert.Throws<VaultException>(() => state.Identity).Message);
        Assert.Empty(ShareVault.ListWithoutKey(dir.File("none.db")));
    }
}
