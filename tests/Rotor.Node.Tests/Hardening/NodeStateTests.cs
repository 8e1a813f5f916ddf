using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using NSec.Cryptography;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Audit;
using Rotor.Node.Backups;
using Rotor.Rpc.Backups;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Rpc;
using Rotor.Rpc.NodeOps;
using Rotor.Rpc.Tls;

namespace Rotor.Node.Tests.Hardening;

/// <summary>A session that records whether its secrets were wiped.</summary>
internal sealed class FakeSession(byte[] id) : INodeSession
{
    public byte[] Id { get; } = id;
    public string Description => "fake";
    public bool Disposed { get; private set; }
    public StepResult Start() => StepResult.Send([]);
    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput) => StepResult.Send([]);
    public void Dispose() => Disposed = true;
}

/// <summary>A node's state over a scratch vault, with a clock the test moves.</summary>
internal sealed class NodeFixture : IDisposable
{
    private readonly TempDir dir = new();
    public DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    public NodeState State { get; private set; }
    private readonly byte[] master = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] identity;
    private readonly byte[]? auditKey;

    public NodeFixture(TimeSpan? idle = null, byte[]? auditKey = null)
    {
        using (var id = NodeIdentity.Create()) identity = id.ExportPrivate();
        this.auditKey = auditKey;
        State = Open(idle);
    }

    public NodeIdentity Identity => State.Identity;

    private NodeState Open(TimeSpan? idle)
    {
        using var ca = ClusterCa.Create(Path.Combine(dir.Path, "ca-" + Guid.NewGuid().ToString("N")[..6]));
        return new NodeState("cs1", NodeIdentity.ImportPrivate(identity), ShareVault.Open(dir.File("cs1-vault.db"), "cs1", master), new PeerTrust(ca.Certificate),
            null, auditKey, idle ?? TimeSpan.FromMinutes(10), () => Now, sweepOnTimer: false, witnessFile: dir.File("audit-witness.json"));
    }

    /// <summary>Closes and reopens the node (a restart): the vault persists, memory does not.</summary>
    public void Restart()
    {
        State.Dispose();
        SqliteConnection.ClearAllPools();
        State = Open(State.SessionIdleLimit);
    }

    public void Dispose()
    {
        State.Dispose();
        SqliteConnection.ClearAllPools();
        dir.Dispose();
    }
}

public sealed class SessionExpiryTests : IDisposable
{
    private readonly NodeFixture node = new(TimeSpan.FromMinutes(5));

    public void Dispose() => node.Dispose();

    [Fact]
    public void An_idle_session_is_closed_by_the_sweep_its_secrets_wiped_and_a_later_step_is_told_it_expired()
    {
        var session = new FakeSession([1, 2, 3, 4]);
        node.State.Add(session);
        node.Now += TimeSpan.FromMinutes(4);
        Assert.Equal(0, node.State.Sweep());
        Assert.NotNull(node.State.Find(session.Id));
        node.Now += TimeSpan.FromMinutes(6);
        Assert.Equal(1, node.State.Sweep());
        Assert.True(session.Disposed);
        Assert.Equal(0, node.State.OpenSessions);
        var e = Assert.Throws<SessionExpiredException>(() => node.State.Find(session.Id));
        Assert.Contains("expired", e.Message);
        Assert.Contains("01020304", e.Message);
    }

    [Fact]
    public void A_session_found_after_the_limit_is_expired_there_and_then_even_without_a_sweep()
    {
        var session = new FakeSession([9, 9]);
        node.State.Add(session);
        node.Now += TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1);
        Assert.Throws<SessionExpiredException>(() => node.State.Find(session.Id));
        Assert.True(session.Disposed);
    }

    [Fact]
    public void Use_keeps_a_session_alive_and_a_session_in_the_middle_of_a_step_is_not_expired()
    {
        var session = new FakeSession([7]);
        var slot = node.State.Add(session);
        for (var i = 0; i < 4; i++)
        {
            node.Now += TimeSpan.FromMinutes(3);
            slot.Touch(node.Now);
            Assert.Equal(0, node.State.Sweep());
        }
        slot.Gate.Wait();
        node.Now += TimeSpan.FromHours(1);
        Assert.Equal(0, node.State.Sweep());
        Assert.False(session.Disposed);
        slot.Gate.Release();
        Assert.Equal(1, node.State.Sweep());
        Assert.True(slot.Closed);
    }

    [Fact]
    public void An_unknown_session_is_not_reported_as_expired()
    {
        Assert.Null(node.State.Find([5, 5, 5]));
    }
}

public sealed class AuditWitnessTests : IDisposable
{
    private readonly Key auditKey = Key.Create(SignatureAlgorithm.Ed25519);
    private readonly NodeFixture node;

    public AuditWitnessTests() => node = new NodeFixture(auditKey: auditKey.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    public void Dispose()
    {
        node.Dispose();
        auditKey.Dispose();
    }

    private static byte[] Hash(int i) => SHA512.HashData([(byte)i]);

    private AuditHead Head(long seq, byte[] hash, Key? key = null)
    {
        key ??= auditKey;
        return new AuditHead
        {
            Seq = seq, Hash = ByteString.CopyFrom(hash), PublicKey = ByteString.CopyFrom(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)),
            Signature = ByteString.CopyFrom(SignatureAlgorithm.Ed25519.Sign(key, AuditHeads.SignedHead(seq, hash))),
        };
    }

    [Fact]
    public void A_moving_head_is_witnessed_and_signed_with_the_node_identity_and_survives_a_restart()
    {
        var s = node.State.Witness.Witness(Head(3, Hash(3)));
        Assert.Equal(3, s.Seq);
        Assert.True(AuditHeads.Verify(s, node.Identity.Public));
        node.State.Witness.Witness(Head(5, Hash(5)));
        node.Restart();
        var nonce = RandomNumberGenerator.GetBytes(32);
        var attested = node.State.Witness.Attest(nonce);
        Assert.Equal(5, attested.Seq);
        Assert.Equal(Hash(5), attested.Hash.ToByteArray());
        Assert.Equal(nonce, attested.Nonce.ToByteArray());
        Assert.True(AuditHeads.Verify(attested, node.Identity.Public));
        Assert.Empty(attested.Conflicts);
        // Any change to the statement breaks its signature.
        attested.Seq = 4;
        Assert.False(AuditHeads.Verify(attested, node.Identity.Public));
    }

    [Fact]
    public void A_lower_head_or_another_hash_at_the_witnessed_position_is_refused_remembered_and_reported()
    {
        node.State.Witness.Witness(Head(10, Hash(10)));
        var back = Assert.Throws<AuditWitnessException>(() => node.State.Witness.Witness(Head(4, Hash(4))));
        Assert.Contains("went back", back.Message);
        var fork = Assert.Throws<AuditWitnessException>(() => node.State.Witness.Witness(Head(10, Hash(11))));
        Assert.Contains("rewritten", fork.Message);
        Assert.Equal(10L, node.State.Witness.Highest.Seq);
        Assert.Equal(Hash(10), node.State.Witness.Highest.Hash);
        node.Restart();
        var s = node.State.Witness.Attest(RandomNumberGenerator.GetBytes(16));
        Assert.Equal(2, s.Conflicts.Count);
        Assert.Contains("went back", s.Conflicts[0]);
        Assert.True(AuditHeads.Verify(s, node.Identity.Public));
    }

    [Fact]
    public void A_head_signed_by_another_key_or_with_a_bad_signature_is_refused()
    {
        using var other = Key.Create(SignatureAlgorithm.Ed25519);
        var e = Assert.Throws<AuditWitnessException>(() => node.State.Witness.Witness(Head(1, Hash(1), other)));
        Assert.Contains("pinned", e.Message);
        var forged = Head(2, Hash(2));
        forged.Hash = ByteString.CopyFrom(Hash(3));
        Assert.Contains("does not verify", Assert.Throws<AuditWitnessException>(() => node.State.Witness.Witness(forged)).Message);
        Assert.Equal(0, node.State.Witness.Highest.Seq);
    }

    [Fact]
    public void An_attestation_needs_a_real_nonce()
    {
        Assert.Throws<ArgumentException>(() => node.State.Witness.Attest([]));
    }
}

public sealed class BackupRecipientTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    private static byte[] Key()
    {
        using var k = SealedBoxKey.Create();
        return k.PublicKey;
    }

    [Fact]
    public void Only_pinned_recipients_are_allowed_and_the_refusal_names_the_recipient()
    {
        var pinned = Key();
        var attacker = Key();
        var r = new BackupRecipients([pinned]);
        r.Require(pinned, "cs1");
        var e = Assert.Throws<BackupException>(() => r.Require(attacker, "cs1"));
        Assert.Equal(BackupFault.NotAllowed, e.Fault);
        Assert.Contains(Convert.ToHexStringLower(attacker), e.Message);
        Assert.Contains("not pinned on node 'cs1'", e.Message);
        var none = Assert.Throws<BackupException>(() => new BackupRecipients([]).Require(pinned, "cs2"));
        Assert.Contains("none is pinned", none.Message);
    }

    [Fact]
    public void Keys_parse_from_hex_or_base64_and_bad_ones_are_refused()
    {
        var k = Key();
        Assert.Equal(k, BackupRecipients.Parse(Convert.ToHexStringLower(k), "x"));
        Assert.Equal(k, BackupRecipients.Parse(Convert.ToBase64String(k), "x"));
        Assert.Equal(2, BackupRecipients.ParseList($"{Convert.ToHexString(k)}, {Convert.ToBase64String(Key())}", "x").Count);
        Assert.Throws<ArgumentException>(() => BackupRecipients.Parse("abcd", "x"));
        Assert.Throws<ArgumentException>(() => BackupRecipients.Parse("not a key!", "x"));
        Assert.Throws<ArgumentException>(() => BackupRecipients.Parse(new string('0', 64), "x"));
    }

    [Fact]
    public void Replacing_the_list_takes_effect_at_once_and_is_saved_in_node_json()
    {
        var (a, b) = (Key(), Key());
        var path = dir.File(NodeConfig.FileName);
        new NodeConfig { Name = "cs1", KeyFile = "node.key", BackupRecipients = [Convert.ToHexStringLower(a)] }.Save(path);
        var config = NodeConfig.Load(path);
        var r = new BackupRecipients(config);
        Assert.True(r.IsPinned(a));
        r.Replace([b]);
        Assert.False(r.IsPinned(a));
        Assert.True(r.IsPinned(b));
        Assert.Equal([Convert.ToHexStringLower(b)], NodeConfig.Load(path).BackupRecipients);
        Assert.Throws<ArgumentException>(() => r.Replace([b, b]));
    }
}

public sealed class NodeNameTests
{
    internal static readonly Rotor.Protocols.Governance.GovernancePolicy Policy = TestPolicy.Create();

    [Theory]
    [InlineData("coordinator")]
    [InlineData("Coordinator")]
    [InlineData("COORDINATOR")]
    public void The_coordinator_name_is_reserved(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => Names.ValidateNode(name));
        Assert.Contains("reserved", e.Message);
        Names.Validate("quorum", name);
    }

    [Fact]
    public void Node_init_refuses_the_reserved_name_and_writes_nothing()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => NodeSetup.Init(dir.File("n"), "coordinator", dir.File("ca"), Policy, new NodePins(null, [])));
        Assert.False(Directory.Exists(dir.File("n")));
    }
}

public sealed class KeptBackupTests : IDisposable
{
    private readonly NodeFixture node = new();
    private readonly TempDir dir = new();

    public void Dispose()
    {
        node.Dispose();
        dir.Dispose();
    }

    private string Keep(Rotor.Protocols.Keys.KeyShare share)
    {
        using var recipient = SealedBoxKey.Create();
        var id = BackupFile.NewId();
        File.WriteAllBytes(dir.File(id + KeptBackups.Extension), BackupFile.Create("cs1", [share], BackupLock.Recipient(recipient.PublicKey), id, DateTimeOffset.UtcNow));
        return id;
    }

    [Fact]
    public void A_kept_backup_of_an_epoch_older_than_the_vault_holds_is_deleted_and_a_current_one_kept()
    {
        var e0 = Rotor.TestSupport.TestKeys.Deal(Rotor.Protocols.Scheme.Ed25519, 2, 3, "w1", 0).Shares[0];
        var e1 = Rotor.TestSupport.TestKeys.Deal(Rotor.Protocols.Scheme.Ed25519, 2, 3, "w1", 1).Shares[0];
        var other = Rotor.TestSupport.TestKeys.Deal(Rotor.Protocols.Scheme.Ed25519, 2, 3, "w2", 0).Shares[0];
        node.State.WithVault(v => v.PutActive([e1, other]));
        var old = Keep(e0);
        var current = Keep(e1);
        var unrelated = Keep(other);
        Assert.Equal([old], KeptBackups.Prune(node.State, dir.Path, null));
        Assert.False(File.Exists(dir.File(old + KeptBackups.Extension)));
        Assert.True(File.Exists(dir.File(current + KeptBackups.Extension)));
        // What a verified commit certificate says replaced goes too, whatever the vault holds (a node that left).
        Assert.Equal([unrelated], KeptBackups.Prune(node.State, dir.Path, new Dictionary<string, ulong> { ["w2"] = 0 }));
        Assert.True(File.Exists(dir.File(current + KeptBackups.Extension)));
    }
}

internal static class TestPolicy
{
    /// <summary>A governance policy with one (throwaway) approver and one approval per class.</summary>
    public static Rotor.Protocols.Governance.GovernancePolicy Create()
    {
        using var k = Key.Create(SignatureAlgorithm.Ed25519);
        return Rotor.Protocols.Governance.GovernancePolicy.Uniform([new Rotor.Protocols.Governance.Approver("op", Convert.ToHexStringLower(k.PublicKey.Export(KeyBlobFormat.RawPublicKey)))], 1);
    }
}

public sealed class NodeInitPinTests : IDisposable
{
    private static readonly Rotor.Protocols.Governance.GovernancePolicy Policy = TestPolicy.Create();

    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void Node_init_pins_the_coordinator_key_and_refuses_a_missing_or_foreign_certificate()
    {
        using var ca = ClusterCa.Create(dir.File("ca"));
        using var coordinator = ca.Issue(dir.File("coord"), "coordinator", CertificateRole.Server | CertificateRole.Client);
        using var rogue = ClusterCa.Create(dir.File("rogue"));
        rogue.Issue(dir.File("fake"), "coordinator", CertificateRole.Server | CertificateRole.Client).Dispose();
        ca.Issue(dir.File("other"), "intruder", CertificateRole.Client).Dispose();

        Assert.Contains("--coordinator-cert", Assert.Throws<ArgumentException>(() => NodeSetup.Init(dir.File("n1"), "cs1", dir.File("ca"), Policy, new NodePins(null, []))).Message);
        Assert.Throws<ArgumentException>(() => NodeSetup.Init(dir.File("n1"), "cs1", dir.File("ca"), Policy, new NodePins(dir.File("fake/coordinator.crt"), [])));
        Assert.Throws<ArgumentException>(() => NodeSetup.Init(dir.File("n1"), "cs1", dir.File("ca"), Policy, new NodePins(dir.File("other/intruder.crt"), [])));
        Assert.False(Directory.Exists(dir.File("n1")));

        using var recipient = SealedBoxKey.Create();
        var (config, _) = NodeSetup.Init(dir.File("n1"), "cs1", dir.File("ca"), Policy, new NodePins(dir.File("coord/coordinator.crt"), [recipient.PublicKey]));
        Assert.Equal(PeerTrust.PublicKeyPin(coordinator), config.CoordinatorKey);
        var saved = NodeConfig.Load(dir.File("n1/node.json"));
        Assert.Equal(config.CoordinatorKey, saved.CoordinatorKey);
        Assert.Equal([Convert.ToHexStringLower(recipient.PublicKey)], saved.BackupRecipients);
    }
}

public sealed class ResealedBackupTests
{
    [Fact]
    public void A_backup_resealed_to_a_node_identity_opens_only_with_that_node_identity()
    {
        var share = Rotor.TestSupport.TestKeys.Deal(Rotor.Protocols.Scheme.Secp256k1, 2, 3, "w1", 4).Shares[1];
        using var node = NodeIdentity.Create();
        using var other = NodeIdentity.Create();
        var id = BackupFile.NewId();
        var file = BackupFile.Parse(BackupFile.Create("cs2", [share], BackupLock.Recipient(node.Public.AgreementKey), id, DateTimeOffset.UtcNow));
        var opened = Assert.Single(file.Open(BackupKey.NodeIdentity(node)));
        Assert.Equal(share.SigningShare, opened.SigningShare);
        Assert.Equal(BackupFault.WrongKey, Assert.Throws<BackupException>(() => file.Open(BackupKey.NodeIdentity(other))).Fault);
    }
}
