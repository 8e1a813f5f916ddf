using Rotor.Protocols;
using Rotor.Protocols.Frost;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Rotor.Integration.Tests;

/// <summary>
/// Coordinated reshare operations, epoch-bound backups, repair, the mailbox of an offline member and the audit log,
/// over real processes.
/// </summary>
public sealed class OperationsTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>The local cluster's backup recipient, pinned on every node at cluster up: public key and private key file.</summary>
    private string Recipient => File.ReadAllText(Path.Combine(cluster.Dir, "backup-recipient.pub")).Trim();

    private string RecipientKeyFile => Path.Combine(cluster.Dir, "backup-recipient.key");

    [Fact]
    public async Task Backup_then_reshare_makes_it_stale_and_its_restore_is_refused_leaving_the_vault_byte_for_byte_unchanged()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519", "secp256k1");
        var file = Path.Combine(cluster.Dir, $"{q.Name}-cs1.rotorbak");
        var backup = await cluster.Ok("backup", "create", "--node", "cs1", "--wallets", string.Join(",", q.Wallets.Select(w => w.WalletId)), "--out", file);
        Assert.Equal("current", backup["status"]!.GetValue<string>());
        Assert.All(backup["wallets"]!.AsArray(), w => Assert.Equal(0ul, w!["epoch"]!.GetValue<ulong>()));

        var reshare = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "suspected-compromise", "--note", "backup test");
        Assert.Equal("committed", reshare["status"]!.GetValue<string>());
        var listed = (await cluster.Ok("backup", "list", "--node", "cs1"))["backups"]!.AsArray().Single(b => b!["backupId"]!.GetValue<string>() == backup["backupId"]!.GetValue<string>())!;
        Assert.Equal("obsolete", listed["status"]!.GetValue<string>());
        Assert.Equal(reshare["id"]!.GetValue<string>(), listed["obsoletedBy"]!.GetValue<string>());

        var (verifyCode, verify, _) = await cluster.Run("backup", "verify", file, "--key-file", RecipientKeyFile);
        Assert.Equal(3, verifyCode); // a stale backup fails the check
        Assert.True(verify["authenticated"]!.GetValue<bool>());
        Assert.False(verify["allCurrent"]!.GetValue<bool>());
        Assert.All(verify["shards"]!.AsArray(), s =>
        {
            Assert.Equal("stale", s!["status"]!.GetValue<string>());
            Assert.Equal("epoch-behind", s["reason"]!.GetValue<string>());
            Assert.Equal((0ul, 1ul), (s["backupEpoch"]!.GetValue<ulong>(), s["currentEpoch"]!.GetValue<ulong>()));
        });

        var vault = VaultFile("cs1");
        Assert.Contains("vault", Path.GetFileName(vault));
        var before = await File.ReadAllBytesAsync(vault);
        var error = await cluster.Fails("backup", "restore", "--node", "cs1", file);
        Assert.Contains("refused", error);
        Assert.Contains(q.Wallets[0].WalletId, error);
        Assert.Contains("epoch 0", error);
        Assert.Contains("current epoch is 1", error);
        Assert.Equal(before, await File.ReadAllBytesAsync(vault));
        await q.CheckUsable(cluster.Api, "cs1,cs2");
        Assert.Contains(await Log(q.Name), e => e["kind"]!.GetValue<string>() == "backup.refused");
    }

    [Fact]
    public async Task A_current_backup_restores_onto_a_wiped_node_which_then_signs()
    {
        var q = await TestQuorum.Create(cluster.Api, "bip340");
        var file = Path.Combine(cluster.Dir, $"{q.Name}-cs2.rotorbak");
        await cluster.Ok("backup", "create", "--node", "cs2", "--wallets", q.Wallets[0].WalletId, "--out", file, "--recipient", Convert.ToBase64String(Convert.FromHexString(Recipient)));
        await WipeShards("cs2", q.Wallets[0].WalletId);
        await cluster.Fails("sign", "--wallet", q.Wallets[0].WalletId, "--message", "00", "--signers", "cs2,cs3");

        var restored = await cluster.Ok("backup", "restore", "--node", "cs2", file, "--key-file", RecipientKeyFile);
        Assert.Equal([q.Wallets[0].WalletId], restored["restored"]!.AsArray().Select(w => w!.GetValue<string>()));
        await q.CheckUsable(cluster.Api, "cs2,cs3");
    }

    [Fact]
    public async Task A_lost_shard_is_repaired_from_the_other_members_without_a_backup_and_signs()
    {
        var q = await TestQuorum.Create(cluster.Api, "secp256k1");
        var wallet = q.Wallets[0].WalletId;
        await WipeShards("cs3", wallet);
        var plan = await cluster.Ok("reshare", "plan", "--quorum", q.Name, "--reason", "security-policy");
        Assert.Contains(plan["preflight"]!.AsArray(), p => p!.GetValue<string>().Contains("rotor repair --node cs3"));

        var repaired = await cluster.Ok("repair", "--node", "cs3", "--wallet", wallet);
        Assert.Equal(0ul, repaired["epoch"]!.GetValue<ulong>());
        Assert.Equal(2, repaired["helpers"]!.AsArray().Count);
        await q.CheckUsable(cluster.Api, "cs1,cs3");
        await Checks.SettledAsync(cluster.Api, q.Name);
    }

    [Fact]
    public async Task Derived_keys_and_addresses_are_the_same_after_refresh_repair_and_restructure_and_sign_for_their_path()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519", "secp256k1", "bip340");
        string[] paths = ["m/0/7", "m/1/2/3/4/5"];
        async Task<Dictionary<string, (string Key, string Address)>> Children()
        {
            var result = new Dictionary<string, (string, string)>();
            foreach (var w in q.Wallets)
                foreach (var p in paths)
                {
                    var a = await cluster.Ok("wallet", "address", "--wallet", w.WalletId, "--path", p);
                    Assert.Equal(p, a["path"]!.GetValue<string>());
                    result[$"{w.WalletId} {p}"] = (a["publicKey"]!.GetValue<string>(), a["address"]!.GetValue<string>());
                }
            return result;
        }
        async Task SignForPaths(string signers)
        {
            foreach (var w in q.Wallets)
            {
                var p = paths[0];
                var child = (await cluster.Ok("wallet", "address", "--wallet", w.WalletId, "--path", p))["publicKey"]!.GetValue<string>();
                var s = await cluster.Ok("sign", "--wallet", w.WalletId, "--message", "68656c6c6f", "--path", p, "--signers", signers);
                Assert.Equal(child, s["publicKey"]!.GetValue<string>());
                Assert.Equal(p, s["path"]!.GetValue<string>());
                var sig = Convert.FromHexString(s["signature"]!.GetValue<string>());
                Assert.True(SchemeSignatures.Verify(Schemes.Parse(w.Scheme), Convert.FromHexString(child), "hello"u8, sig), $"{w.Scheme} at {p}");
                Assert.False(SchemeSignatures.Verify(Schemes.Parse(w.Scheme), Convert.FromHexString(w.PublicKey), "hello"u8, sig));
            }
        }
        var before = await Children();
        Assert.All(before.Values, v => Assert.DoesNotContain(v.Key, q.Wallets.Select(w => w.PublicKey)));
        Assert.StartsWith("bc1p", before[$"{q.Wallets[2].WalletId} m/0/7"].Address);
        var xpub = await cluster.Ok("wallet", "xpub", "--wallet", q.Wallets[1].WalletId);
        Assert.StartsWith("xpub", xpub["xpub"]!.GetValue<string>());
        await SignForPaths("cs1,cs2");

        Assert.Equal("committed", (await cluster.Api.Reshare(q.Name, "refresh")).Status);
        Assert.Equal(before, await Children());
        await SignForPaths("cs2,cs3");
        await Checks.SettledAsync(cluster.Api, q.Name);

        foreach (var w in q.Wallets) await WipeShards("cs3", w.WalletId);
        foreach (var w in q.Wallets) await cluster.Ok("repair", "--node", "cs3", "--wallet", w.WalletId);
        Assert.Equal(before, await Children());
        await SignForPaths("cs1,cs3");
        await Checks.SettledAsync(cluster.Api, q.Name);

        Assert.Equal("committed", (await cluster.Api.Reshare(q.Name, "threshold 3", "cs1,cs2,cs3", 3)).Status);
        Assert.Equal(before, await Children());
        await SignForPaths("cs1,cs2,cs3");
        await Checks.SettledAsync(cluster.Api, q.Name);

        Assert.Contains("hardened", await cluster.Fails("wallet", "address", "--wallet", q.Wallets[0].WalletId, "--path", "m/0'/1"));
        Assert.Contains("2^31", await cluster.Fails("sign", "--wallet", q.Wallets[0].WalletId, "--message", "00", "--path", "m/2147483648"));
    }

    [Fact]
    public async Task A_wrong_key_a_truncated_file_a_tampered_file_and_a_passphrase_each_get_a_clear_error()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        var pass = SecretFile("pass", Passphrase);
        var file = Path.Combine(cluster.Dir, $"{q.Name}-cs1.rotorbak");
        var refused = await cluster.Fails("backup", "create", "--node", "cs1", "--out", file, "--passphrase-file", pass);
        Assert.Contains("passphrase backups are no longer made", refused);
        Assert.False(File.Exists(file));
        await cluster.Ok("backup", "create", "--node", "cs1", "--out", file);
        var vault = VaultFile("cs1");
        var before = await File.ReadAllBytesAsync(vault);

        var other = await RotorProcess.Ok("backup", "keygen", "--out", Path.Combine(cluster.Dir, $"{q.Name}-other.key"));
        var wrong = await cluster.Fails("backup", "restore", "--node", "cs1", file, "--key-file", other["keyFile"]!.GetValue<string>());
        Assert.StartsWith("wrong key:", wrong);
        Assert.Contains("passphrase", await cluster.Fails("backup", "restore", "--node", "cs1", file, "--passphrase-file", pass));

        var bytes = await File.ReadAllBytesAsync(file);
        var truncated = Path.Combine(cluster.Dir, $"{q.Name}-truncated.rotorbak");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3)]);
        Assert.StartsWith("truncated backup file:", await cluster.Fails("backup", "verify", truncated));
        Assert.StartsWith("truncated backup file:", await cluster.Fails("backup", "restore", "--node", "cs1", truncated));

        var json = JsonNode.Parse(bytes)!;
        json["shards"]![0]!["epoch"] = 7;
        var tampered = Path.Combine(cluster.Dir, $"{q.Name}-tampered.rotorbak");
        await File.WriteAllTextAsync(tampered, json.ToJsonString());
        var altered = await cluster.Fails("backup", "restore", "--node", "cs1", tampered);
        Assert.StartsWith("tampered backup file:", altered);
        Assert.Contains("altered after it was written", altered);
        Assert.Equal(before, await File.ReadAllBytesAsync(vault));
    }

    /// <summary>Approves, with the cluster's operator key, the automatic backup requests a commit filed; returns their nodes.</summary>
    private async Task<List<string>> ApproveFiledBackups(string operation)
    {
        var filed = (await cluster.Ok("requests", "list", "--status", "awaiting-approval"))["requests"]!.AsArray().Select(r => r!.AsObject())
            .Where(r => r["action"]!.GetValue<string>() == "backup-export" && r["requestedBy"]!.GetValue<string>().Contains(operation)).ToList();
        Assert.All(filed, r => Assert.Equal(Recipient, r["description"]!["backupRecipient"]!.GetValue<string>()));
        foreach (var r in filed)
            Assert.Equal("done", (await cluster.Ok("approve", r["id"]!.GetValue<string>(), "--key", cluster.Api.OperatorKey))["status"]!.GetValue<string>());
        return filed.Select(r => r["description"]!["nodes"]![0]!.GetValue<string>()).Order().ToList();
    }

    [Fact]
    public async Task A_scheduled_reshare_runs_inside_its_window_and_auto_backup_writes_fresh_backups()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        await cluster.Ok("quorum", "options", "--quorum", q.Name, "--auto-backup", "--recipient", Recipient);
        var start = DateTimeOffset.UtcNow.AddSeconds(3);
        var op = await cluster.Ok("reshare", "schedule", "--quorum", q.Name, "--reason", "compliance", "--note", "audit 2025",
            "--window-start", Iso(start), "--window-end", Iso(start.AddMinutes(2)));
        Assert.Equal("scheduled", op["status"]!.GetValue<string>());
        var done = await WaitForStatus(op["id"]!.GetValue<string>(), "committed");
        Assert.True(done["started"]!.GetValue<long>() >= start.AddSeconds(-1).ToUnixTimeMilliseconds(), "started before its window opened");
        Assert.NotNull(done["transcriptHash"]);
        Assert.NotNull(done["certificate"]);
        Assert.All((await q.CheckUsable(cluster.Api, "cs1,cs2")).Values, e => Assert.Equal(1ul, e));
        var kinds = (await Log(q.Name)).Where(e => e["subject"]?.GetValue<string>() == op["id"]!.GetValue<string>()).Select(e => e["kind"] + ":" + e["details"]!["to"]).ToList();
        Assert.Equal(["reshare.requested:", "reshare.status:running", "reshare.status:committed"], kinds);

        // A backup export needs the operators' approval on each node: the commit files one request per new member.
        Assert.Equal(["cs1", "cs2", "cs3"], await ApproveFiledBackups(op["id"]!.GetValue<string>()));

        foreach (var node in new[] { "cs1", "cs2", "cs3" })
        {
            var auto = (await cluster.Ok("backup", "list", "--node", node, "--wallet", q.Wallets[0].WalletId))["backups"]!.AsArray().Single()!;
            Assert.Equal("current", auto["status"]!.GetValue<string>());
            Assert.Equal(1ul, auto["wallets"]![0]!["epoch"]!.GetValue<ulong>());
            var copy = auto["nodePath"]!.GetValue<string>();
            Assert.StartsWith(Path.Combine(cluster.Dir, "nodes", node), copy);
            var verdict = await cluster.Ok("backup", "verify", copy, "--key-file", RecipientKeyFile);
            Assert.True(verdict["allCurrent"]!.GetValue<bool>() && verdict["authenticated"]!.GetValue<bool>());
        }

        // The next commit makes those kept copies obsolete: each node deletes its file, the registry and the log say so.
        var kept = new List<(string Id, string Path)>();
        foreach (var node in new[] { "cs1", "cs2", "cs3" })
        {
            var b = (await cluster.Ok("backup", "list", "--node", node, "--wallet", q.Wallets[0].WalletId))["backups"]!.AsArray().Single()!;
            kept.Add((b["backupId"]!.GetValue<string>(), b["nodePath"]!.GetValue<string>()));
        }
        var next = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-policy");
        Assert.Equal("committed", next["status"]!.GetValue<string>());
        Assert.Equal(["cs1", "cs2", "cs3"], await ApproveFiledBackups(next["id"]!.GetValue<string>()));
        foreach (var (id, path) in kept)
        {
            Assert.False(File.Exists(path), $"obsolete kept backup {path} is still on disk");
            var b = (await cluster.Ok("backup", "list"))["backups"]!.AsArray().Single(x => x!["backupId"]!.GetValue<string>() == id)!;
            Assert.Equal("obsolete", b["status"]!.GetValue<string>());
            Assert.Null(b["nodePath"]);
            Assert.Contains(await Log(q.Name), e => e["kind"]!.GetValue<string>() == "backup.deleted" && e["subject"]!.GetValue<string>() == id);
        }
        foreach (var node in new[] { "cs1", "cs2", "cs3" })
            Assert.Contains((await cluster.Ok("backup", "list", "--node", node, "--wallet", q.Wallets[0].WalletId))["backups"]!.AsArray(),
                b => b!["status"]!.GetValue<string>() == "current" && File.Exists(b["nodePath"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_node_offline_at_the_commit_deletes_its_obsolete_kept_backup_once_it_is_back()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        await cluster.Ok("quorum", "options", "--quorum", q.Name, "--auto-backup", "--recipient", Recipient);
        var first = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-policy");
        Assert.Equal("committed", first["status"]!.GetValue<string>());
        await ApproveFiledBackups(first["id"]!.GetValue<string>());
        var kept = (await cluster.Ok("backup", "list", "--node", "cs3", "--wallet", q.Wallets[0].WalletId))["backups"]!.AsArray().Single()!;
        var id = kept["backupId"]!.GetValue<string>();
        var path = kept["nodePath"]!.GetValue<string>();
        Assert.True(File.Exists(path));

        // cs3 leaves the quorum while it is down: it is erased by settlement, and its kept copy deleted, when it is back.
        await cluster.Ok("cluster", "stop-node", "--name", "cs3");
        try
        {
            var r = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-policy", "--members", "cs1,cs2", "--threshold", "2");
            Assert.Equal("committed", r["status"]!.GetValue<string>());
            Assert.True(File.Exists(path), "the node was down; nothing could delete its file yet");
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (File.Exists(path) && DateTime.UtcNow < deadline) await Task.Delay(500);
        Assert.False(File.Exists(path), $"obsolete kept backup {path} is still on cs3's disk");
        JsonNode? listed = null;
        while (DateTime.UtcNow < deadline)
        {
            listed = (await cluster.Ok("backup", "list", "--node", "cs3"))["backups"]!.AsArray().Single(b => b!["backupId"]!.GetValue<string>() == id);
            if (listed!["nodePath"] is null) break;
            await Task.Delay(500);
        }
        Assert.Null(listed!["nodePath"]);
        Assert.Contains(await Log(q.Name), e => e["kind"]!.GetValue<string>() == "backup.deleted" && e["subject"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task A_scheduled_reshare_whose_window_closes_first_expires_with_the_old_epoch_active()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        cluster.Kill("cs3");
        try
        {
            var start = DateTimeOffset.UtcNow.AddSeconds(1);
            var op = await cluster.Ok("reshare", "schedule", "--quorum", q.Name, "--reason", "security-policy",
                "--window-start", Iso(start), "--window-end", Iso(start.AddSeconds(4)));
            var expired = await WaitForStatus(op["id"]!.GetValue<string>(), "expired");
            Assert.Contains("window closed", expired["problem"]!.GetValue<string>());
            Assert.Contains("cs3", expired["problem"]!.GetValue<string>());
            Assert.All((await q.CheckUsable(cluster.Api, "cs1,cs2")).Values, e => Assert.Equal(0ul, e));
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        await Checks.SettledAsync(cluster.Api, q.Name);
    }

    [Fact]
    public async Task A_rotation_policy_schedules_its_next_refresh()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519");
        var set = await cluster.Ok("policy", "set", "--quorum", q.Name, "--every", "90d", "--window", "Sun 02:00-04:00");
        var next = DateTimeOffset.Parse(set["nextWindowStart"]!.GetValue<string>());
        Assert.Equal(DayOfWeek.Sunday, next.UtcDateTime.DayOfWeek);
        Assert.Equal(2, next.UtcDateTime.Hour);
        Assert.InRange(next - DateTimeOffset.UtcNow, TimeSpan.FromDays(90), TimeSpan.FromDays(97));
        var shown = (await cluster.Ok("policy", "show", "--quorum", q.Name))["policies"]!.AsArray().Single()!;
        var opId = shown["nextOperation"]!.GetValue<string>();
        var op = await cluster.Ok("reshare", "show", opId);
        Assert.Equal("scheduled", op["status"]!.GetValue<string>());
        Assert.Equal("security-policy", op["reason"]!.GetValue<string>());
        Assert.Equal($"policy:{q.Name}", op["requestedBy"]!.GetValue<string>());
        Assert.Equal(set["nextWindowStart"]!.GetValue<string>(), op["windowStart"]!.GetValue<string>());
        await cluster.Ok("policy", "clear", "--quorum", q.Name);
        Assert.Equal("cancelled", (await cluster.Ok("reshare", "show", opId))["status"]!.GetValue<string>());

        var later = DateTimeOffset.UtcNow.AddDays(1);
        var manual = await cluster.Ok("reshare", "schedule", "--quorum", q.Name, "--reason", "compliance", "--window-start", Iso(later), "--window-end", Iso(later.AddHours(1)));
        var cancelled = await cluster.Ok("reshare", "cancel", manual["id"]!.GetValue<string>());
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.Contains("cancelled by", cancelled["problem"]!.GetValue<string>());
        Assert.Contains("only a scheduled reshare", await cluster.Fails("reshare", "cancel", manual["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_offline_member_catches_up_after_an_allow_offline_reshare_and_signs()
    {
        var q = await TestQuorum.Create(cluster.Api, "ed25519", "bip340");
        cluster.Kill("cs3");
        try
        {
            Assert.Contains("--allow-offline", await cluster.Fails("reshare", "--quorum", q.Name, "--reason", "security-policy"));
            var r = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-policy", "--allow-offline", "cs3");
            Assert.Equal("committed", r["status"]!.GetValue<string>());
            var status = await cluster.Ok("quorum", "status", q.Name);
            var cs3 = status["members"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "cs3")!;
            Assert.Equal(2, cs3["sharesWaiting"]!.AsArray().Count);
            Assert.All((await q.CheckUsable(cluster.Api, "cs1,cs2")).Values, e => Assert.Equal(1ul, e));
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        await Checks.SettledAsync(cluster.Api, q.Name);
        Assert.All((await q.CheckUsable(cluster.Api, "cs3,cs1")).Values, e => Assert.Equal(1ul, e));
        var delivered = (await Log(q.Name)).Where(e => e["kind"]!.GetValue<string>() == "mailbox.delivered").ToList();
        Assert.Single(delivered);
        Assert.True(delivered[0]["details"]!["activated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task An_offline_member_whose_mail_fails_its_checks_is_repaired_by_the_others_and_signs()
    {
        var q = await TestQuorum.Create(cluster.Api, "secp256k1");
        cluster.Kill("cs3");
        try
        {
            var r = await cluster.Ok("reshare", "--quorum", q.Name, "--reason", "security-incident", "--allow-offline", "cs3");
            // Alter one byte of the last envelope held for cs3 (inside its signature): cs3 must refuse it and keep nothing.
            var ops = Path.Combine(cluster.Dir, "coordinator", "operations.db");
            var payload = Scalar<byte[]>(ops, $"SELECT payload FROM mailbox WHERE operation = '{r["id"]!.GetValue<string>()}'");
            payload[^10] ^= 0x01;
            Sql(ops, "UPDATE mailbox SET payload = $p WHERE operation = $o", ("$p", payload), ("$o", r["id"]!.GetValue<string>()));
        }
        finally { await cluster.Ok("cluster", "start-node", "--name", "cs3"); }
        // cs3 refuses the altered mail and keeps nothing; the nodes repair only with approval, so the coordinator
        // asks the operators for it: one repair request per wallet, filed once, awaiting approval.
        var pending = await WaitForRepairRequest("cs3", q.Wallets[0].WalletId);
        Assert.Equal("cs3", pending["description"]!["repairTarget"]!["name"]!.GetValue<string>());
        Assert.Equal(1ul, pending["description"]!["wallets"]![0]!["epoch"]!.GetValue<ulong>());
        var approved = await cluster.Ok("approve", pending["id"]!.GetValue<string>(), "--key", cluster.Api.OperatorKey);
        Assert.Equal("done", approved["status"]!.GetValue<string>());
        await Checks.SettledAsync(cluster.Api, q.Name);
        Assert.All((await q.CheckUsable(cluster.Api, "cs3,cs2")).Values, e => Assert.Equal(1ul, e));
        Assert.Single((await cluster.Ok("requests", "list"))["requests"]!.AsArray(),
            r => r!["action"]!.GetValue<string>() == "repair" && r["description"]!["repairTarget"]!["name"]!.GetValue<string>() == "cs3"
                 && r["description"]!["wallets"]![0]!["keyId"]!.GetValue<string>() == q.Wallets[0].WalletId);
        var log = await Log(q.Name);
        var delivery = log.Single(e => e["kind"]!.GetValue<string>() == "mailbox.delivered");
        Assert.False(delivery["details"]!["activated"]!.GetValue<bool>());
        Assert.Contains("signature", delivery["details"]!["problem"]!.GetValue<string>());
        Assert.Contains(log, e => e["kind"]!.GetValue<string>() == "repair.completed" && e["subject"]!.GetValue<string>() == "cs3");
    }

    [Fact]
    public async Task Editing_deleting_or_reordering_one_audit_row_is_detected_by_log_verify()
    {
        await TestQuorum.Create(cluster.Api, "ed25519");
        var intact = await cluster.Ok("log", "--verify");
        Assert.True(intact["intact"]!.GetValue<bool>());
        var audit = Path.Combine(cluster.Dir, "coordinator", "audit.db");

        var original = Scalar<string>(audit, "SELECT details FROM audit WHERE seq = 2");
        Sql(audit, "UPDATE audit SET details = '{\"threshold\":1}' WHERE seq = 2");
        await AssertBroken(2, "edited");
        Sql(audit, "UPDATE audit SET details = $d WHERE seq = 2", ("$d", original));

        Sql(audit, "CREATE TABLE saved AS SELECT * FROM audit WHERE seq = 3; DELETE FROM audit WHERE seq = 3");
        await AssertBroken(3, "missing");
        Sql(audit, "INSERT INTO audit SELECT * FROM saved; DROP TABLE saved");

        Sql(audit, "UPDATE audit SET seq = -4 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = -4");
        await AssertBroken(4, "reordered");
        Sql(audit, "UPDATE audit SET seq = -5 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = -5");

        Assert.True((await cluster.Ok("log", "--verify"))["intact"]!.GetValue<bool>());
    }

    // ------------------------------------------------------------------ helpers

    private async Task AssertBroken(long seq, string why)
    {
        var (code, json, _) = await cluster.Run("log", "--verify");
        Assert.Equal(3, code);
        Assert.False(json["intact"]!.GetValue<bool>());
        Assert.Equal(seq, json["firstBadEntry"]!.GetValue<long>());
        Assert.Contains(why, json["problem"]!.GetValue<string>());
    }

    private async Task<List<JsonObject>> Log(string quorum) =>
        (await cluster.Ok("log", "--quorum", quorum))["entries"]!.AsArray().Select(e => e!.AsObject()).ToList();

    /// <summary>Waits for the repair request the coordinator files for a node's wallet (awaiting approval).</summary>
    private async Task<JsonObject> WaitForRepairRequest(string node, string wallet)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            var found = (await cluster.Ok("requests", "list", "--status", "awaiting-approval"))["requests"]!.AsArray().Select(r => r!.AsObject())
                .FirstOrDefault(r => r["action"]!.GetValue<string>() == "repair" && r["description"]!["repairTarget"]!["name"]!.GetValue<string>() == node
                                     && r["description"]!["wallets"]![0]!["keyId"]!.GetValue<string>() == wallet);
            if (found is not null) return found;
            await Task.Delay(500);
        } while (DateTime.UtcNow < deadline);
        Assert.Fail($"no repair request for {node}'s {wallet} was filed");
        return null!;
    }

    private async Task<JsonObject> WaitForStatus(string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonObject op;
        do
        {
            op = await cluster.Ok("reshare", "show", id);
            if (op["status"]!.GetValue<string>() == status) return op;
            await Task.Delay(500);
        } while (DateTime.UtcNow < deadline);
        Assert.Fail($"reshare {id} is {op["status"]}, not {status}: {op.ToJsonString()}");
        return op;
    }

    /// <summary>Stops the node, deletes its shards of the wallet from its vault file (as a lost disk would), and starts it again.</summary>
    private async Task WipeShards(string node, string wallet)
    {
        cluster.Kill(node);
        Sql(VaultFile(node), "DELETE FROM shards WHERE key_id = $k", ("$k", wallet));
        await cluster.Ok("cluster", "start-node", "--name", node);
    }

    private string VaultFile(string node) => Directory.GetFiles(Path.Combine(cluster.Dir, "nodes", node), "*vault*.db").Single();

    private string SecretFile(string name, string content)
    {
        var path = Path.Combine(cluster.Dir, $"{name}-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, content + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    private static void Sql(string db, string sql, params (string Name, object Value)[] args) => Databases.Change(db, sql, args);

    private static T Scalar<T>(string db, string sql)
    {
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (T)cmd.ExecuteScalar()!;
    }
}
