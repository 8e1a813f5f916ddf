using Authorization = Rotor.Rpc.Node.Authorization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Envelopes;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Rotor.Rpc.NodeOps;

namespace Rotor.Integration.Tests.Malicious;

/// <summary>
/// Issue 9, "Done when", first bullet: a coordinator that holds everything the coordinator holds (its TLS key, admin
/// token, database, every certificate) talks straight to the real nodes and tries to sign, move, export or re-pin
/// what the operators did not approve. Every attempt is refused by every node it reaches, the message names the
/// failed check, and no node's vault or approval ledger changes (<see cref="VaultSnapshot"/>). Where an attack reuses
/// a real approval in the wrong place, the same approval then works for what it did approve: the refusal was the
/// approval check, and the refused attempt did not spend it.
/// </summary>
[Collection(MaliciousCollection.Name)]
public sealed class MaliciousCoordinatorTests(MaliciousCluster f)
{
    private MaliciousCoordinator Evil => f.Evil;
    private static readonly string[] Signers = ["cs1", "cs2"];

    public static string BackupId() => "bk-" + Guid.NewGuid().ToString("N")[..16];

    private static byte[] Message(string text) => Encoding.UTF8.GetBytes(text + " " + Guid.NewGuid());

    /// <summary>Runs <paramref name="attack"/> and asserts that no node's shards or vault/ledger files changed.</summary>
    private async Task<T> Unchanged<T>(Func<Task<T>> attack)
    {
        var before = await Evil.Snapshot();
        var result = await attack();
        (await Evil.Snapshot()).AssertSameAs(before);
        return result;
    }

    private Task<RpcException> Refused(Func<Task> call) => Unchanged(() => Assert.ThrowsAsync<RpcException>(call));

    private void Verifies(string walletId, byte[] message, byte[] signature)
    {
        var w = Evil.Registry.FindWallet(walletId)!;
        var key = Convert.FromHexString(Rotor.Coordinator.Engine.Display(w).PublicKey);
        Assert.True(SchemeSignatures.Verify(Schemes.Parse(w.Scheme), key, message, signature), "the signature does not verify");
    }

    // ------------------------------------------------------------------ honest controls

    [Fact]
    public async Task Control_the_harness_signs_and_exports_when_the_operators_approve()
    {
        var m = Message("pay 1");
        var viaEngine = await Evil.Honestly(f.Operator.Approve(f.Requests.Sign(f.Ed, m)), e => e.Signing.SignAsync(f.Ed, m, [], null));
        Verifies(f.Ed, m, viaEngine.Bytes);

        var m2 = Message("pay 2");
        Verifies(f.Secp, m2, await Evil.SignTwoRounds(f.Secp, m2, Signers, f.Operator.Approve(f.Requests.Sign(f.Secp, m2))));

        // To the recipient every node pins (the cluster's DIR/backup-recipient.pub).
        var recipient = Evil.PinnedRecipient;
        var backup = new NodeBackupRequest { BackupId = BackupId(), Recipient = ByteString.CopyFrom(recipient) };
        backup.Wallets.Add(f.Ed);
        backup.Authorization = f.Operator.Approve(Requests.BackupExport(["cs1"], [f.Ed], recipient));
        Assert.False((await Evil.Backup("cs1", backup)).File.IsEmpty);
    }

    [Fact]
    public async Task Control_approved_actions_change_what_the_snapshot_compares()
    {
        // An approved signature spends its request id: the ledger files of the signers change.
        var before = await Evil.Snapshot();
        var m = Message("pay 3");
        Verifies(f.Ed, m, await Evil.SignTwoRounds(f.Ed, m, Signers, f.Operator.Approve(f.Requests.Sign(f.Ed, m))));
        var after = await Evil.Snapshot();
        foreach (var signer in Signers)
            Assert.Contains(before.Files, kv => kv.Key.Contains($"{signer}-approvals.db") && !kv.Value.AsSpan().SequenceEqual(after.Files.GetValueOrDefault(kv.Key, [])));
        Assert.ThrowsAny<Exception>(() => after.AssertSameAs(before));

        // An approved key generation, restructure (to cs1, cs2) and two refreshes under one rotation policy, in a
        // quorum of their own: shards appear, move and leave cs3; the wallet keeps its key and signs at the new epoch.
        var quorum = "ctl-" + Guid.NewGuid().ToString("N")[..6];
        Evil.Engine.CreateQuorum(quorum, 2, MaliciousCluster.All);
        before = await Evil.Snapshot();
        var w = (await Evil.Honestly(f.Operator.Approve(f.Requests.CreateWallets(quorum, "secp256k1")), e => e.KeyGeneration.CreateWalletsAsync(quorum, "secp256k1", 1)))[0];
        var created = await Evil.Snapshot();
        foreach (var node in MaliciousCluster.All) Assert.Contains($"{w.Id}@0:active", created.Shards[node]);
        Assert.ThrowsAny<Exception>(() => created.AssertSameAs(before));

        var restructure = f.Operator.Approve(f.Requests.Reshare(Actions.Restructure, quorum, Signers, 2));
        await Evil.Honestly(restructure, e => e.ReshareAsync(quorum, [], "decommission cs3", Signers, 2));
        var rotation = f.Operator.Approve(f.Requests.RotationPolicy(quorum));
        for (var i = 0; i < 2; i++) await Evil.Honestly(rotation, e => e.ReshareAsync(quorum, [], "scheduled", [], 0));
        Assert.Equal(3UL, Evil.Registry.FindWallet(w.Id)!.Epoch);
        var moved = await Evil.Snapshot();
        foreach (var node in Signers) Assert.Contains($"{w.Id}@3:active", moved.Shards[node]);
        Assert.DoesNotContain(w.Id, moved.Shards["cs3"]);
        var m2 = Message("after the move");
        Verifies(w.Id, m2, await Evil.SignTwoRounds(w.Id, m2, Signers, f.Operator.Approve(f.Requests.Sign(w.Id, m2))));
        Assert.Equal(w.PublicKey, Evil.Registry.FindWallet(w.Id)!.PublicKey);
    }

    // ------------------------------------------------------------------ signing

    [Fact]
    public async Task Signing_without_an_approval_is_refused_by_every_signer()
    {
        var start = Evil.Sign(f.Ed, Message("drain"), Signers);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(start, Signers)), Signers, ApprovalFault.Missing, "needs approvals");
    }

    [Fact]
    public async Task Signing_with_an_approval_for_another_message_or_wallet_is_refused_and_does_not_spend_it()
    {
        var approved = Message("pay 5 to alice");
        var approval = f.Operator.Approve(f.Requests.Sign(f.Ed, approved));
        var other = Evil.Sign(f.Ed, Message("pay 5000 to mallory"), Signers, approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(other, Signers)), Signers, ApprovalFault.Mismatched, "message");
        var otherWallet = Evil.Sign(f.Secp, approved, Signers, approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(otherWallet, Signers)), Signers, ApprovalFault.Mismatched, "wallets");

        Verifies(f.Ed, approved, await Evil.SignTwoRounds(f.Ed, approved, Signers, approval));
    }

    [Fact]
    public async Task Signing_under_an_approval_for_another_quorum_is_refused()
    {
        // The coordinator's registry is its own: it can claim the wallet is in a quorum the operators treat more
        // loosely. Each node compares with the quorum it recorded from the approved key generation.
        var m = Message("pay");
        var elsewhere = f.Operator.Approve(f.Requests.Sign(f.Ed, m) with { Quorum = "petty-cash" });
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, elsewhere), Signers)), Signers,
            ApprovalFault.Mismatched, "quorum is petty-cash", $"the request's is {MaliciousCluster.Quorum}");
    }

    [Fact]
    public async Task Signing_with_an_expired_approval_is_refused()
    {
        var m = Message("pay");
        var expired = f.Operator.Approve(f.Requests.Sign(f.Ed, m, lifetime: TimeSpan.FromMinutes(-1)));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, expired), Signers)), Signers, ApprovalFault.Expired, "expired at");
    }

    [Fact]
    public async Task A_signing_approval_is_refused_past_its_one_retry()
    {
        // A signer makes its share of an approved message at most twice (one retry of a signing another signer broke
        // off); a third use of the approval is refused, and nothing it yields is for another message.
        var m = Message("pay once");
        var approval = f.Operator.Approve(f.Requests.Sign(f.Ed, m));
        Verifies(f.Ed, m, await Evil.SignTwoRounds(f.Ed, m, Signers, approval));
        Verifies(f.Ed, m, await Evil.SignTwoRounds(f.Ed, m, Signers, approval));

        var e = await Refused(() => Evil.SignTwoRounds(f.Ed, m, Signers, approval));
        var request = ActionRequest.Decode(approval.Description.Span);
        Refusal.Check(e, "cs1", ApprovalFault.Replayed, request.RequestId, "already used on node 'cs1' 2 times");
    }

    [Fact]
    public async Task A_tampered_description_or_signature_is_refused()
    {
        var m = Message("pay");
        var request = f.Operator.Approve(f.Requests.Sign(f.Ed, m));
        var description = request.Description.ToByteArray();
        var signature = request.Approvals[0];

        // One hex digit of the approved message digest changed: still canonical, so the operator's signature is what fails.
        var text = Encoding.UTF8.GetString(description);
        var at = text.IndexOf("\"sha256\":\"", StringComparison.Ordinal) + 10;
        var altered = Encoding.UTF8.GetBytes(text[..at] + (text[at] == '0' ? '1' : '0') + text[(at + 1)..]);
        var tamperedDescription = Approver.Wire(altered, new ApprovalSignature(signature.Key.ToByteArray(), signature.Signature.ToByteArray()));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, tamperedDescription), Signers)),
            Signers, ApprovalFault.BadSignature, "approver 'operator'", "does not verify");

        // One bit of the signature flipped.
        var sig = signature.Signature.ToByteArray();
        sig[17] ^= 0x40;
        var tamperedSignature = Approver.Wire(description, new ApprovalSignature(signature.Key.ToByteArray(), sig));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, tamperedSignature), Signers)),
            Signers, ApprovalFault.BadSignature, "approver 'operator'");

        // A byte of the description's structure changed: not canonical, refused before any signature is looked at.
        var broken = (byte[])description.Clone();
        broken[^1] = (byte)' ';
        var malformed = Approver.Wire(broken, new ApprovalSignature(signature.Key.ToByteArray(), signature.Signature.ToByteArray()));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, malformed), Signers)), Signers, ApprovalFault.Malformed);

        // The untouched approval still signs: none of the above spent it.
        Verifies(f.Ed, m, await Evil.SignTwoRounds(f.Ed, m, Signers, request));
    }

    [Fact]
    public async Task An_approval_by_a_key_the_nodes_do_not_pin_is_refused()
    {
        var m = Message("pay");
        var request = f.Requests.Sign(f.Ed, m);
        var stranger = Approver.Stranger("coordinator's own key");
        var byStranger = stranger.Approve(request);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, byStranger), Signers)),
            Signers, ApprovalFault.Insufficient, "needs 1 approval", "has 0",
            $"ignored signature by key this policy does not pin: {stranger.PublicKey[..16]}…");

        // The operator's signature copied under the stranger's key, and the stranger's under the operator's key.
        var op = f.Operator.Sign(request.Encode());
        var swapped = Approver.Wire(request.Encode(), new ApprovalSignature(op.Key, byStranger.Approvals[0].Signature.ToByteArray()));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, swapped), Signers)), Signers, ApprovalFault.BadSignature);
    }

    // ------------------------------------------------------------------ moving the key

    [Fact]
    public async Task A_restructure_to_one_node_with_threshold_1_is_refused_without_a_restructure_approval_for_it()
    {
        string[] toMe = ["cs3"];
        var wallets = new[] { f.Ed, f.Secp };
        StartRequest Move(Authorization? a) => Evil.Reshare(wallets, Signers, toMe, 1, a);

        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Move(null), MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Missing);

        var refresh = f.Operator.Approve(f.Requests.Reshare(Actions.Refresh, MaliciousCluster.Quorum, MaliciousCluster.All, 2));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Move(refresh), MaliciousCluster.All)), MaliciousCluster.All,
            ApprovalFault.Mismatched, "the approval is for a refresh");

        var rotation = f.Operator.Approve(f.Requests.RotationPolicy(MaliciousCluster.Quorum));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Move(rotation), MaliciousCluster.All)), MaliciousCluster.All,
            ApprovalFault.Mismatched, "a rotation policy allows refreshes only");

        // A real restructure approval (to cs1, cs2 with threshold 2) does not move the key to cs3 alone.
        var other = f.Operator.Approve(f.Requests.Reshare(Actions.Restructure, MaliciousCluster.Quorum, ["cs1", "cs2"], 2));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Move(other), MaliciousCluster.All)), MaliciousCluster.All,
            ApprovalFault.Mismatched, "new threshold");

        // To a node outside the quorum.
        string[] outsider = [MaliciousCluster.Outsider];
        string[] involved = [.. Signers, MaliciousCluster.Outsider];
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Reshare(wallets, Signers, outsider, 1, null), involved)), involved, ApprovalFault.Missing);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Reshare(wallets, Signers, outsider, 1, other), involved)), involved,
            ApprovalFault.Mismatched, "new threshold");

        // An approval signed by the coordinator's own key for exactly this move.
        var own = Approver.Stranger().Approve(f.Requests.Reshare(Actions.Restructure, MaliciousCluster.Quorum, toMe, 1));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Move(own), MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Insufficient);
    }

    [Fact]
    public async Task A_refresh_approval_covers_only_its_wallets_and_epochs()
    {
        // Approved: a refresh of both wallets. Attempted: the same refresh of one wallet only (the other left behind).
        var refresh = f.Operator.Approve(f.Requests.Reshare(Actions.Refresh, MaliciousCluster.Quorum, MaliciousCluster.All, 2));
        var partial = Evil.Reshare([f.Ed], Signers, MaliciousCluster.All, 2, refresh);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(partial, MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Mismatched, "wallets");
    }

    [Fact]
    public async Task A_key_generation_with_altered_members_threshold_or_count_is_refused_and_its_approval_is_single_use()
    {
        var request = f.Requests.CreateWallets(MaliciousCluster.Quorum, "ed25519");
        var approval = f.Operator.Approve(request);

        var lower = Evil.Dkg("ed25519", 1, MaliciousCluster.All, approval: approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(lower, MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Mismatched, "threshold");

        var fewer = Evil.Dkg("ed25519", 2, Signers, approval: approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(fewer, Signers)), Signers, ApprovalFault.Mismatched, "members");

        var more = Evil.Dkg("ed25519", 2, MaliciousCluster.All, count: 3, approval: approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(more, MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Mismatched, "number of wallets");

        var scheme = Evil.Dkg("secp256k1", 2, MaliciousCluster.All, approval: approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(scheme, MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Mismatched, "scheme");

        // The approval the operators gave for the fixture's key generation, used again.
        var again = Evil.Dkg("ed25519", 2, MaliciousCluster.All, approval: f.UsedKeygenApproval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(again, MaliciousCluster.All)), MaliciousCluster.All, ApprovalFault.Replayed);
    }

    [Fact]
    public async Task A_repair_for_a_target_other_than_the_approved_one_is_refused_by_the_helpers()
    {
        var approval = f.Operator.Approve(f.Requests.Repair(f.Ed, "cs3"));
        // Approved: rebuild cs3's share with helpers cs1, cs2. Attempted: "rebuild" cs2's share, helped by cs1 and cs3.
        var other = Evil.Repair(f.Ed, "cs2", ["cs1", "cs3"], approval: approval);
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(other, ["cs1", "cs3"])), ["cs1", "cs3"], ApprovalFault.Mismatched, "repair target");
        // cs3 (the approved target) claiming identifier 1 (cs1's share): with three nodes cs1 must help, and the
        // session refuses two parties with one index before the approval is looked at. (With a fourth node the
        // helpers would not include cs1: the approval then names cs3 with its own index, so it mismatches; an
        // approval that itself names the wrong index is for branch 'bind', PendingDefenceTests.)
        var stolenIndex = Evil.Repair(f.Ed, "cs3", Signers, targetIndex: Evil.Node("cs1").Index, approval: approval);
        foreach (var (node, e) in await Unchanged(() => Evil.StartRefusedEverywhere(stolenIndex, Signers)))
        {
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains($"node '{node}': two parties share an index", e.Status.Detail);
        }
        // Without any approval.
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Repair(f.Ed, "cs3", Signers), Signers)), Signers, ApprovalFault.Missing);

        // The approval, as approved, is accepted by the helpers (then aborted): the refusals above did not spend it.
        foreach (var helper in Signers)
        {
            var reply = await Evil.Start(helper, Evil.Repair(f.Ed, "cs3", Signers, approval: approval));
            await Evil.Signer(helper).AbortAsync(new AbortRequest { SessionId = reply.SessionId });
        }
    }

    [Fact]
    public async Task A_repair_that_would_teach_another_node_an_identifier_is_refused()
    {
        // Approved: rebuild cs1's share (identifier 1). Attempted: deal identifier 1's share to cs4, helped by cs2, cs3.
        var approval = f.Operator.Approve(f.Requests.Repair(f.Ed, "cs1"));
        var one = Evil.Node("cs1").Index;
        string[] parties = ["cs2", "cs3", MaliciousCluster.Outsider];
        var toOutsider = Evil.Repair(f.Ed, MaliciousCluster.Outsider, ["cs2", "cs3"], targetIndex: one, approval: approval);
        // Refused by an earlier check than the approval's: the key package binds identifier 1 to cs1's certified identity
        // key (KeyPackage.member_keys), so every party refuses to rebuild it for cs4 before it compares the approval (which
        // names cs1 and would not match either). Only a package that lied about the binding would get further, and the
        // nodes check the package against their own record.
        foreach (var (node, e) in await Unchanged(() => Evil.StartRefusedEverywhere(toOutsider, parties)))
            Assert.Contains($"node '{node}': repair target '{MaliciousCluster.Outsider}' is not the node recorded for identifier {one}", e.Status.Detail);
        foreach (var (node, e) in await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Repair(f.Ed, MaliciousCluster.Outsider, ["cs2", "cs3"], targetIndex: one), parties)))
            Assert.Contains($"node '{node}': repair target '{MaliciousCluster.Outsider}' is not the node recorded for identifier {one}", e.Status.Detail);
    }

    // ------------------------------------------------------------------ extracting the key

    private NodeBackupRequest Backup(byte[] recipient, Authorization? approval, params string[] wallets)
    {
        var r = new NodeBackupRequest { BackupId = BackupId(), Recipient = ByteString.CopyFrom(recipient), Authorization = approval };
        r.Wallets.AddRange(wallets);
        return r;
    }

    [Fact]
    public async Task A_backup_export_to_the_coordinators_own_key_is_refused_without_an_approval_for_that_recipient()
    {
        using var mine = SealedBoxKey.Create();
        // The operators approve exports to the recipient every node pins; the attacker wants them sealed to its own key.
        var approvedRecipient = new { PublicKey = Evil.PinnedRecipient };
        foreach (var node in MaliciousCluster.All)
        {
            // Its own key is not pinned: refused before approvals are even looked at. The pinned key without approval: missing.
            var e = await Refused(() => Evil.Backup(node, Backup(mine.PublicKey, null)));
            Assert.Contains($"node '{node}': backup recipient {Convert.ToHexStringLower(mine.PublicKey)} is not pinned", e.Status.Detail);
            Refusal.Check(await Refused(() => Evil.Backup(node, Backup(approvedRecipient.PublicKey, null))), node, ApprovalFault.Missing);
        }

        var approval = f.Operator.Approve(Requests.BackupExport(["cs1", "cs2"], [f.Ed], approvedRecipient.PublicKey));
        Assert.Contains("is not pinned", (await Refused(() => Evil.Backup("cs1", Backup(mine.PublicKey, approval, f.Ed)))).Status.Detail);
        // Every wallet instead of the approved one.
        Refusal.Check(await Refused(() => Evil.Backup("cs1", Backup(approvedRecipient.PublicKey, approval))), "cs1", ApprovalFault.Mismatched, "wallets");
        // A node the approval does not name.
        Refusal.Check(await Refused(() => Evil.Backup("cs3", Backup(approvedRecipient.PublicKey, approval, f.Ed))), "cs3", ApprovalFault.Mismatched, "not 'cs3'");
        // A passphrase lock of the coordinator's choosing instead of the approved recipient.
        var withPassphrase = Backup(approvedRecipient.PublicKey, approval, f.Ed);
        var node1 = Evil.Node("cs1");
        withPassphrase.Passphrase = new SealedSecret
        {
            Kind = "passphrase",
            Box = ByteString.CopyFrom(Rotor.Node.Backups.BackupSecrets.Seal(new IdentityKeys(Convert.FromHexString(node1.SigningKey), Convert.FromHexString(node1.AgreementKey)).AgreementKey,
                "cs1", Rotor.Node.Backups.NodeOperationsService.CreatePurpose, withPassphrase.BackupId, Rotor.Node.Backups.BackupSecretKind.Passphrase, "guessable"u8)),
        };
        Assert.Contains("passphrase backups are not made over the network", (await Refused(() => Evil.Backup("cs1", withPassphrase))).Status.Detail);

        // As approved, it works (once per node).
        Assert.False((await Evil.Backup("cs1", Backup(approvedRecipient.PublicKey, approval, f.Ed))).File.IsEmpty);
        Refusal.Check(await Refused(() => Evil.Backup("cs1", Backup(approvedRecipient.PublicKey, approval, f.Ed))), "cs1", ApprovalFault.Replayed);
    }

    [Fact]
    public async Task A_restore_is_refused_without_an_approval_naming_the_node_and_the_file()
    {
        var request = new NodeRestoreRequest { File = ByteString.CopyFrom(new byte[64]), MemberIndex = Evil.Node("cs2").Index };
        Refusal.Check(await Refused(() => Evil.Operations("cs2").RestoreBackupAsync(request).ResponseAsync), "cs2", ApprovalFault.Missing);
        request.Authorization = f.Operator.Approve(Requests.New(Actions.Restore) with { Nodes = ["cs1"] });
        Refusal.Check(await Refused(() => Evil.Operations("cs2").RestoreBackupAsync(request).ResponseAsync), "cs2", ApprovalFault.Mismatched, "not 'cs2'");
        // An approval to restore one backup file does not restore another (an older one, say).
        var approvedFile = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(new byte[65]));
        request.Authorization = f.Operator.Approve(Requests.New(Actions.Restore) with { Nodes = ["cs2"], BackupFile = approvedFile });
        Refusal.Check(await Refused(() => Evil.Operations("cs2").RestoreBackupAsync(request).ResponseAsync), "cs2", ApprovalFault.Mismatched, "backup file");
    }

    [Fact]
    public async Task A_restore_is_refused_unless_the_approval_names_each_wallet_at_the_backups_epoch_and_the_package_is_this_nodes()
    {
        // A real backup of cs2's shard of the Ed25519 wallet, to the recipient every node pins.
        var export = Backup(Evil.PinnedRecipient, f.Operator.Approve(Requests.BackupExport(["cs2"], [f.Ed], Evil.PinnedRecipient)), f.Ed);
        var file = (await Evil.Backup("cs2", export)).File;
        var epoch = Evil.Registry.FindWallet(f.Ed)!.Epoch;
        var fileHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file.Span));
        NodeRestoreRequest Restore(Authorization approval, string? packageOf = null)
        {
            var r = new NodeRestoreRequest { File = file, MemberIndex = Evil.Node(packageOf ?? "cs2").Index, Authorization = approval };
            r.Current.Add(Evil.Package(f.Ed));
            return r;
        }
        Authorization Approve(params ApprovedWallet[] wallets) =>
            f.Operator.Approve(Requests.New(Actions.Restore) with { Nodes = ["cs2"], BackupFile = fileHash, Wallets = wallets });

        // The approval must name the wallet, at the backup's own epoch: an operator approving "epoch 0" sees it.
        Refusal.Check(await Refused(() => Evil.Operations("cs2").RestoreBackupAsync(Restore(Approve())).ResponseAsync), "cs2", ApprovalFault.Mismatched, $"does not cover wallet '{f.Ed}'");
        Refusal.Check(await Refused(() => Evil.Operations("cs2").RestoreBackupAsync(Restore(Approve(new ApprovedWallet(f.Ed, epoch + 1)))).ResponseAsync),
            "cs2", ApprovalFault.Mismatched, $"at epoch {epoch + 1}, the backup holds epoch {epoch}");
        // Told to restore it under another member's identifier: the package records another identity key there.
        var e = await Refused(() => Evil.Operations("cs2").RestoreBackupAsync(Restore(Approve(new ApprovedWallet(f.Ed, epoch)), packageOf: "cs1")).ResponseAsync);
        Assert.Contains($"does not record node 'cs2''s identity key for identifier {Evil.Node("cs1").Index}", e.Status.Detail);
    }

    // ------------------------------------------------------------------ changing the rules

    [Fact]
    public async Task A_policy_change_is_refused_unless_approved_under_the_pinned_policy_with_the_next_serial()
    {
        var pinned = await Evil.PinnedPolicy("cs1");
        var attacker = Approver.Stranger("coordinator");
        var takeover = GovernancePolicy.Uniform([new Rotor.Protocols.Governance.Approver("coordinator", attacker.PublicKey)], 1) with { Serial = pinned.Serial + 1 };

        foreach (var node in MaliciousCluster.All)
            Refusal.Check(await Refused(() => Evil.UpdatePolicy(node, null)), node, ApprovalFault.Missing);
        var selfApproved = attacker.Approve(Requests.PolicyChange(takeover));
        foreach (var node in MaliciousCluster.All)
            Refusal.Check(await Refused(() => Evil.UpdatePolicy(node, selfApproved)), node, ApprovalFault.Insufficient, "does not pin");

        // Approved by the operator, but not the next serial (an old policy replayed, or one that skips ahead).
        foreach (var serial in new[] { pinned.Serial, pinned.Serial + 2 })
        {
            var wrong = f.Operator.Approve(Requests.PolicyChange(pinned with { Serial = serial }));
            Refusal.Check(await Refused(() => Evil.UpdatePolicy("cs1", wrong)), "cs1", ApprovalFault.InvalidPolicy, "serial");
        }
        // An approval of another action presented as a policy change.
        var signApproval = f.Operator.Approve(f.Requests.Sign(f.Ed, Message("x")));
        Refusal.Check(await Refused(() => Evil.UpdatePolicy("cs1", signApproval)), "cs1", ApprovalFault.Mismatched, "'sign'");

        foreach (var node in MaliciousCluster.All) Assert.Equal(pinned, await Evil.PinnedPolicy(node));

        // The control: the operator's approval of the next serial (same approvers) is pinned by every node; used
        // again it no longer follows the pinned serial.
        var next = f.Operator.Approve(Requests.PolicyChange(pinned with { Serial = pinned.Serial + 1 }));
        foreach (var node in MaliciousCluster.All) Assert.Equal(pinned.Serial + 1, await UpdatedSerial(node, next));
        foreach (var node in MaliciousCluster.All)
            Refusal.Check(await Refused(() => Evil.UpdatePolicy(node, next)), node, ApprovalFault.InvalidPolicy, "serial");
    }

    private async Task<ulong> UpdatedSerial(string node, Authorization approval) =>
        Rotor.Protocols.Governance.GovernancePolicy.Decode((await Evil.UpdatePolicy(node, approval)).Policy.Span).Serial;

    [Fact]
    public async Task Approvals_of_one_action_are_refused_for_another()
    {
        // A backup-export approval presented for signing, a signing approval for a repair.
        var m = Message("pay");
        using var key = SealedBoxKey.Create();
        var backup = f.Operator.Approve(Requests.BackupExport(MaliciousCluster.All, [], key.PublicKey));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Sign(f.Ed, m, Signers, backup), Signers)), Signers, ApprovalFault.Mismatched, "'backup-export'");
        var sign = f.Operator.Approve(f.Requests.Sign(f.Ed, m));
        Refusal.Everywhere(await Unchanged(() => Evil.StartRefusedEverywhere(Evil.Repair(f.Ed, "cs3", Signers, approval: sign), Signers)), Signers, ApprovalFault.Mismatched, "'sign'");
    }
}
