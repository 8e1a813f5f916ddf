using Authorization = Rotor.Rpc.Node.Authorization;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Coordinator.Audit;
using Rotor.Coordinator.Governance;
using Rotor.Coordinator.Operations;
using Rotor.Rpc;
using Rotor.Rpc.NodeOps;
using Rotor.Protocols;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Requests;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;

namespace Rotor.Integration.Tests.Malicious;

/// <summary>
/// Attacks of issue 9 whose defences came with the branches 'bind' (protocol bindings), 'audit' (backups and audit log)
/// and 'req' (the approval request flow), written against the real nodes with <see cref="MaliciousCoordinator"/>: each
/// asserts the refusal, the culprit where there is one, and that no vault changed (<see cref="VaultSnapshot"/>).
/// </summary>
[Collection(MaliciousCollection.Name)]
public sealed class PendingDefenceTests(MaliciousCluster f)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static DateTime Deadline => DateTime.UtcNow.AddMinutes(1);

    /// <summary>
    /// A quorum of its own with one wallet, refreshed (approved) <paramref name="refreshes"/> times; returns the wallet
    /// and the commit certificate of each refresh, as the coordinator's database keeps them.
    /// </summary>
    private async Task<(string Wallet, List<CommitRequest> Certificates)> Refreshed(int refreshes)
    {
        var quorum = "erase-" + Guid.NewGuid().ToString("N")[..6];
        f.Evil.Engine.CreateQuorum(quorum, 2, MaliciousCluster.All);
        var w = (await f.Evil.Honestly(f.Operator.Approve(f.Requests.CreateWallets(quorum, "ed25519")), e => e.KeyGeneration.CreateWalletsAsync(quorum, "ed25519", 1)))[0];
        var certificates = new List<CommitRequest>();
        for (var i = 0; i < refreshes; i++)
        {
            var ev = await f.Evil.Honestly(f.Operator.Approve(f.Requests.Reshare(Actions.Refresh, quorum, MaliciousCluster.All, 2)),
                e => e.ReshareAsync(quorum, [], "refresh", [], 0));
            certificates.Add(CommitRequest.Parser.ParseFrom(f.Evil.Registry.FindEvent(ev.Id)!.Certificate!));
        }
        return (w.Id, certificates);
    }

    /// <summary>Sends <paramref name="commit"/> with its erase list extended to epoch 2^64−1 to every node: nothing may be erased.</summary>
    private async Task ExtendedCommitErasesNothing(string wallet, CommitRequest commit)
    {
        commit.Wallets.Clear();
        commit.Wallets.Add(new WalletEpoch { KeyId = wallet, Epoch = ulong.MaxValue });
        var before = await f.Evil.Snapshot();
        foreach (var node in MaliciousCluster.All)
        {
            try
            {
                var reply = await f.Evil.Signer(node).CommitAsync(commit, deadline: DateTime.UtcNow.AddMinutes(1));
                Assert.Empty(reply.Erased);
            }
            catch (RpcException e) { Assert.Contains($"node '{node}'", e.Status.Detail); }
        }
        (await f.Evil.Snapshot()).AssertSameAs(before);
    }


    /// <summary>A quorum of its own (cs1..cs3, 2-of-3) with one wallet made by an approved key generation.</summary>
    private async Task<(string Quorum, string Wallet)> FreshWallet(string prefix)
    {
        var quorum = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        f.Evil.Engine.CreateQuorum(quorum, 2, MaliciousCluster.All);
        var w = (await f.Evil.Honestly(f.Operator.Approve(f.Requests.CreateWallets(quorum, "ed25519")), e => e.KeyGeneration.CreateWalletsAsync(quorum, "ed25519", 1)))[0];
        return (quorum, w.Id);
    }

    private static async Task<RpcException> Refused(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    // Before 'bind': every node erased every epoch of the wallet (the erase list was outside the verified certificate).
    [Fact]
    public async Task A_commit_with_an_extended_erase_list_erases_nothing()
    {
        var (wallet, certificates) = await Refreshed(1);
        await ExtendedCommitErasesNothing(wallet, certificates[0]);
    }

    // An old event's certificate replayed after a later commit, its erase list extended: nothing erased, nothing activated.
    [Fact]
    public async Task A_replayed_commit_certificate_erases_nothing()
    {
        var (wallet, certificates) = await Refreshed(2);
        await ExtendedCommitErasesNothing(wallet, certificates[0]);
    }

    // Settlement (Commit/Discard) without a certificate or a verifiable failure record: the node keeps its epochs and pending shards.
    [Fact]
    public async Task Settlement_without_proof_erases_and_discards_nothing()
    {
        // Epoch 1 committed (its certificate is what an attacker has of an earlier event), then an approved refresh to
        // epoch 2 whose messages never reach cs3: cs1 and cs2 confirm and hold pending shards, no certificate exists.
        var (wallet, certificates) = await Refreshed(1);
        var quorum = f.Evil.Registry.FindWallet(wallet)!.Quorum;
        var approval = f.Operator.Approve(f.Requests.Reshare(Rotor.Protocols.Governance.Actions.Refresh, quorum, MaliciousCluster.All, 2));
        var start = f.Evil.Reshare([wallet], ["cs1", "cs2"], MaliciousCluster.All, 2, approval);
        var outputs = await f.Evil.RunByHand(MaliciousCluster.All.ToDictionary(n => n, _ => start), deliverTo: n => n != "cs3");
        Assert.Equal(["cs1", "cs2"], outputs.Keys.Order());
        var eventId = start.Reshare.EventId;
        var before = await f.Evil.Snapshot();
        foreach (var n in new[] { "cs1", "cs2" }) Assert.Contains($"{wallet}@2:pending/{eventId}", before.Shards[n]);
        Assert.Contains($"{wallet}@1:active", before.Shards["cs3"]);

        foreach (var node in new[] { "cs1", "cs2" })
        {
            var signer = f.Evil.Signer(node);
            // A discard on the coordinator's word alone.
            Assert.Contains($"node '{node}' keeps its pending shards of reshare {eventId}",
                (await Refused(() => signer.DiscardAsync(new DiscardRequest { EventId = eventId, Reason = "failed" }, deadline: Deadline).ResponseAsync)).Status.Detail);
            // The start request without any renunciation, and with a renunciation in cs3's name signed by cs1 (forged).
            var bare = new DiscardRequest { EventId = eventId, Start = start };
            Assert.Contains("do not rule out a commit certificate", (await Refused(() => signer.DiscardAsync(bare, deadline: Deadline).ResponseAsync)).Status.Detail);
            // A renunciation in the name of cs2 (which confirmed), signed by cs3 (a malicious member holding its own key).
            var session = f.Evil.LastSessions["cs1"];
            var forged = new DiscardRequest { EventId = eventId, Start = start };
            forged.Renunciations.Add(new Rotor.Rpc.Node.Renunciation
            {
                Node = "cs2", EventId = eventId, SessionId = session,
                Signature = ByteString.CopyFrom(Sign(f.Cs3IdentitySeed, Rotor.Rpc.Sessions.ReshareSetup.RenunciationBytes(eventId, session.Span))),
            });
            Assert.Contains("the renunciation by 'cs2' does not verify", (await Refused(() => signer.DiscardAsync(forged, deadline: Deadline).ResponseAsync)).Status.Detail);
            // A commit with no confirmation at all, and with the two confirmations there are (cs3's is missing).
            var empty = new CommitRequest { EventId = eventId, Start = start };
            Assert.Contains($"node '{node}'", (await Refused(() => signer.CommitAsync(empty, deadline: Deadline).ResponseAsync)).Status.Detail);
            Assert.Contains($"node '{node}'", (await Refused(() => signer.CommitAsync(Certificate(eventId, start, outputs), deadline: Deadline).ResponseAsync)).Status.Detail);
            // An earlier event's certificate as the "later" one that supersedes the pending shards: nothing discarded.
            var old = new DiscardRequest { EventId = eventId, SupersededBy = certificates[0] };
            Assert.Empty((await signer.DiscardAsync(old, deadline: Deadline)).Discarded);
        }
        (await f.Evil.Snapshot()).AssertSameAs(before);

        // The control: cs3 renounces the event for good; with its signed renunciation the pending shards go, epoch 1 stays.
        var renounced = (await f.Evil.Signer("cs3").RenounceAsync(new RenounceRequest { Start = start }, deadline: Deadline)).Renunciation;
        Assert.NotNull(renounced);
        var proof = new DiscardRequest { EventId = eventId, Start = start };
        proof.Renunciations.Add(renounced);
        foreach (var node in new[] { "cs1", "cs2" })
            Assert.Equal($"{wallet}@2", Assert.Single((await f.Evil.Signer(node).DiscardAsync(proof, deadline: Deadline)).Discarded) is var d ? $"{d.KeyId}@{d.Epoch}" : "");
        var after = await f.Evil.Snapshot();
        foreach (var node in MaliciousCluster.All)
        {
            Assert.Contains($"{wallet}@1:active", after.Shards[node]);
            Assert.DoesNotContain($"{wallet}@2", after.Shards[node]);
        }
    }

    private static byte[] Sign(byte[] seed, byte[] data)
    {
        using var key = NSec.Cryptography.Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        return NSec.Cryptography.SignatureAlgorithm.Ed25519.Sign(key, data);
    }

    /// <summary>The commit certificate assembled from the parties' outputs (every confirmation they gave).</summary>
    private static CommitRequest Certificate(string eventId, StartRequest start, IReadOnlyDictionary<string, byte[]> outputs)
    {
        var commit = new CommitRequest { EventId = eventId, Start = start };
        foreach (var (node, bytes) in outputs)
            foreach (var (scheme, hex) in JsonSerializer.Deserialize<ReshareOutput>(bytes, Json)!.Confirmations)
                commit.Certificate.Add(new Confirmation { Node = node, Scheme = scheme, Signed = ByteString.CopyFrom(Convert.FromHexString(hex)) });
        return commit;
    }

    // A repair whose approval itself names a node that does not hold the identifier (cs4 with cs1's index: the
    // operators were misled): the helpers refuse, since the identifier is bound to cs1's identity. (Altering an
    // approved repair that way: MaliciousCoordinatorTests.A_repair_that_would_teach_another_node_an_identifier_is_refused.)
    [Fact]
    public async Task A_repair_to_a_node_that_does_not_hold_the_identifier_is_refused()
    {
        var one = f.Evil.Node("cs1").Index;
        var misled = f.Operator.Approve(f.Requests.Repair(f.Ed, MaliciousCluster.Outsider, targetIndex: one));
        string[] parties = ["cs2", "cs3", MaliciousCluster.Outsider];
        var start = f.Evil.Repair(f.Ed, MaliciousCluster.Outsider, ["cs2", "cs3"], targetIndex: one, approval: misled);
        var before = await f.Evil.Snapshot();
        var refusals = await f.Evil.StartRefusedEverywhere(start, parties);
        Assert.Equal(parties.Order(), refusals.Keys.Order());
        foreach (var (node, e) in refusals)
            Assert.Contains($"node '{node}': repair target '{MaliciousCluster.Outsider}' is not the node recorded for identifier {one} of key '{f.Ed}'", e.Status.Detail);
        (await f.Evil.Snapshot()).AssertSameAs(before);
    }

    // A restructure start carrying a fake old public package (another Y_i) to the new members: refused, the coordinator blamed.
    [Fact]
    public async Task A_fake_old_package_is_refused_by_the_new_members()
    {
        var (quorum, wallet) = await FreshWallet("fake");
        string[] newMembers = ["cs1", "cs2", MaliciousCluster.Outsider];
        var approval = f.Operator.Approve(f.Requests.Reshare(Rotor.Protocols.Governance.Actions.Restructure, quorum, newMembers, 2));
        var real = f.Evil.Reshare([wallet], ["cs1", "cs2"], newMembers, 2, approval);
        // cs4 (which holds nothing of the key) is shown the old package shifted by δ (Y + δ·G and every Y_i + δ·G: a
        // consistent package of a key whose difference the coordinator knows); the dealers get the real one.
        var package = real.Reshare.Wallets[0];
        var g = Rotor.Protocols.Schemes.Parse(package.Scheme).Group();
        var shift = g.MulBase(g.RandomScalar());
        var fake = package.Clone();
        fake.GroupPublicKey = ByteString.CopyFrom((g.DecodeElement(package.GroupPublicKey.Span) + shift).ToBytes());
        foreach (var k in package.VerifyingShares.Keys.ToList())
            fake.VerifyingShares[k] = ByteString.CopyFrom((g.DecodeElement(package.VerifyingShares[k].Span) + shift).ToBytes());
        var faked = real.Clone();
        faked.Reshare.Wallets[0] = fake;

        var before = await f.Evil.Snapshot();
        var e = await Refused(() => f.Evil.RunByHand(new Dictionary<string, StartRequest> { ["cs1"] = real, ["cs2"] = real, [MaliciousCluster.Outsider] = faked }));
        // The parties were told two different things, which only the relay can do: the session id binds the old package,
        // so the envelopes of one session are refused in the other (by a named node; no party is blamed for the relay's lie).
        Assert.Contains("session", e.Status.Detail);
        Assert.Matches("node '(cs1|cs2|cs4)'", e.Status.Detail);

        // cs4 got nothing; every old shard stays active. The dealers, also new members, may hold pending shards of the failed
        // event until proof that it cannot commit: cs4's renunciation of the real event.
        var after = await f.Evil.Snapshot();
        Assert.DoesNotContain(wallet, after.Shards[MaliciousCluster.Outsider]);
        foreach (var node in MaliciousCluster.All) Assert.Contains($"{wallet}@0:active", after.Shards[node]);
        var renounced = (await f.Evil.Signer(MaliciousCluster.Outsider).RenounceAsync(new RenounceRequest { Start = real }, deadline: Deadline)).Renunciation;
        Assert.NotNull(renounced);
        var proof = new DiscardRequest { EventId = real.Reshare.EventId, Start = real };
        proof.Renunciations.Add(renounced);
        foreach (var node in new[] { "cs1", "cs2" }) await f.Evil.Signer(node).DiscardAsync(proof, deadline: Deadline);
        var settled = await f.Evil.Snapshot();
        foreach (var (node, shards) in before.Shards) Assert.Equal(shards, settled.Shards[node]);
    }

    // A protocol message whose body names another sender than its authenticated envelope: refused, its real sender blamed.
    // Here: a malicious cs3, dealing in an approved refresh, sends cs1 its round messages (in an envelope it signs, as it
    // must) with bodies that name cs2 as their sender. cs1 refuses them and blames cs3, never cs2; nothing is stored.
    [Fact]
    public async Task A_forged_protocol_sender_is_refused_and_the_real_sender_blamed()
    {
        var (quorum, wallet) = await FreshWallet("forge");
        var approval = f.Operator.Approve(f.Requests.Reshare(Rotor.Protocols.Governance.Actions.Refresh, quorum, MaliciousCluster.All, 2));
        var start = f.Evil.Reshare([wallet], ["cs2", "cs3"], MaliciousCluster.All, 2, approval);
        var group = Schemes.Parse(f.Evil.Registry.FindWallet(wallet)!.Scheme).Group();
        var (two, three) = (f.Evil.Node("cs2").Index, f.Evil.Node("cs3").Index);
        using var cs3 = Rotor.Crypto.Envelopes.NodeIdentity.ImportPrivate(f.Cs3Identity);
        var cs1Keys = f.Evil.Trust.NodeIdentity(f.Evil.Node("cs1").Certificate, "cs1");
        var forged = 0;
        byte[] Relay(string from, byte[] envelope, int round)
        {
            var e = Rotor.Crypto.Envelopes.Envelope.Decode(envelope);
            if (from != "cs3" || e.Recipient != "cs1") return envelope;
            // type ‖ digest (64) ‖ sender identifier ‖ body: the sender field names cs2's identifier.
            byte[] Claiming(byte type) =>
                [type, .. new byte[64], .. Rotor.Crypto.Sharing.Identifier.FromUInt64(group, two).ToBytes(), .. RandomNumberGenerator.GetBytes(256)];
            var deal = Rotor.Node.Sessions.BatchPayload.Encode([("commitment", Claiming(0x11)), ("sub-share", Claiming(0x12))]);
            forged++;
            return Rotor.Crypto.Envelopes.Envelope.Seal(cs3, "cs3", "cs1", cs1Keys, e.SessionId, e.Label, Rotor.Node.Sessions.BatchPayload.Encode([(wallet, deal)])).Encode();
        }
        var before = await f.Evil.Snapshot();
        var refusal = await Refused(() => f.Evil.RunByHand(MaliciousCluster.All.ToDictionary(n => n, _ => start), relay: Relay));
        Assert.True(forged == 1, $"{forged} forged; {refusal.Status.Detail}");
        Assert.Equal(StatusCode.Aborted, refusal.StatusCode);
        Assert.StartsWith("node 'cs1': ", refusal.Status.Detail);
        Assert.Contains($"sent by {three} names {two} as its sender", refusal.Status.Detail);
        Assert.EndsWith($"(blame: {three})", refusal.Status.Detail);
        // The approval was spent at the start (the ledgers changed); no shard changed anywhere.
        (await f.Evil.Snapshot()).AssertSameVaultsAs(before);
    }

    // Not here: a repair helper that lies about another helper's digest is blamed itself, not the other. Over the wire
    // it needs a target that lacks its share (this fixture has none: the node refuses "already holds key ... nothing to
    // repair") and cs3's σ rebuilt with another digest, i.e. a malicious node's protocol engine, not only its keys. The
    // defence (signed broadcast digests in σ) is tested in process by Rotor.Protocols.Tests
    // RepairAttackTests.AHelperThatLiesAboutAnothersBroadcastIsNamedItself (an empty skipped test stood here before).

    // The operators approved a passphrase backup of cs1 (recipient: none). The coordinator seals a passphrase of its
    // own choosing to cs1's public agreement key and would open the file it gets back (two such approvals, or one naming
    // two nodes, and it would hold the key). Refused: a backup over the network is sealed to a pinned recipient only.
    [Fact]
    public async Task A_backup_with_a_passphrase_the_coordinator_chose_is_refused()
    {
        var approval = f.Operator.Approve(Requests.New(Rotor.Protocols.Governance.Actions.BackupExport) with
        {
            Nodes = ["cs1"], Wallets = [new Rotor.Protocols.Governance.ApprovedWallet(f.Ed, null)], BackupRecipient = null,
        });
        var cs1 = f.Evil.Node("cs1");
        var request = new NodeBackupRequest { BackupId = MaliciousCoordinatorTests.BackupId(), Authorization = approval };
        request.Wallets.Add(f.Ed);
        request.Passphrase = new SealedSecret
        {
            Kind = "passphrase",
            Box = ByteString.CopyFrom(Rotor.Node.Backups.BackupSecrets.Seal(Convert.FromHexString(cs1.AgreementKey), "cs1",
                Rotor.Node.Backups.NodeOperationsService.CreatePurpose, request.BackupId, Rotor.Node.Backups.BackupSecretKind.Passphrase, "chosen by the coordinator"u8)),
        };
        var before = await f.Evil.Snapshot();
        var e = await Refused(() => f.Evil.Backup("cs1", request));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("node 'cs1': passphrase backups are not made over the network", e.Status.Detail);
        // Vaults only: the node spends the approval (NodeGovernance.CheckBackup) before this refusal, so its ledger changes.
        (await f.Evil.Snapshot()).AssertSameVaultsAs(before);
    }

    // An approved export to a recipient key the node does not pin (recipients pinned at init or by an approved change): refused.
    [Fact]
    public async Task A_backup_to_an_unpinned_recipient_is_refused_even_when_approved()
    {
        using var mine = Rotor.Crypto.Envelopes.SealedBoxKey.Create();
        var before = await f.Evil.Snapshot();
        foreach (var node in MaliciousCluster.All)
        {
            // The operators were misled into approving the coordinator's own key for this node's export.
            var request = new NodeBackupRequest
            {
                BackupId = MaliciousCoordinatorTests.BackupId(), Recipient = ByteString.CopyFrom(mine.PublicKey),
                Authorization = f.Operator.Approve(Requests.BackupExport([node], [f.Ed], mine.PublicKey)),
            };
            request.Wallets.Add(f.Ed);
            var e = await Refused(() => f.Evil.Backup(node, request));
            Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
            Assert.Contains($"backup recipient {Convert.ToHexStringLower(mine.PublicKey)} is not pinned on node '{node}'", e.Status.Detail);
            Assert.Contains(Convert.ToHexStringLower(f.Evil.PinnedRecipient), e.Status.Detail);
        }
        // Vaults only: the node spends the approval (NodeGovernance.CheckBackup) before the pin refuses, so its ledger changes.
        (await f.Evil.Snapshot()).AssertSameVaultsAs(before);
    }

    // The coordinator's audit log truncated or emptied: the nodes refuse to witness a head that went back, and their signed
    // statements (what rotor log --verify checks on the operator's side) show the head they witnessed and the conflict.
    [Fact]
    public async Task A_truncated_audit_log_is_detected()
    {
        var config = f.Evil.Config;
        var dir = Path.GetDirectoryName(config.Resolve(config.Database))!;
        using var key = AuditKey.LoadOrCreate(config.Resolve(config.AuditKeyFile));
        IReadOnlyList<AuditEntry> entries;
        using (var log = AuditLog.Open(Path.Combine(dir, OperationsHosting.AuditFile), key)) entries = log.Read();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.True(entries.Count >= 3, $"{entries.Count} audit entries");
        var last = entries[^1];
        AuditHead Head(AuditEntry e) => new()
        {
            Seq = e.Seq, Hash = ByteString.CopyFrom(e.Hash), PublicKey = ByteString.CopyFrom(key.PublicKey),
            Signature = ByteString.CopyFrom(key.Sign(AuditHeads.SignedHead(e.Seq, e.Hash))),
        };
        // The honest step: every node witnesses the log's real head (as the coordinator's heartbeat does).
        foreach (var node in MaliciousCluster.All) Assert.Equal(last.Seq, (await f.Evil.Operations(node).WitnessAuditHeadAsync(Head(last), deadline: Deadline)).Seq);

        // Truncated to entry 2, the head re-signed with the stolen audit key: the chain alone verifies.
        var truncated = entries.Take(2).ToList();
        var head2 = Head(truncated[^1]);
        Assert.True(AuditLog.Verify(truncated, (head2.Seq, head2.Hash.ToByteArray(), head2.Signature.ToByteArray()), key.PublicKey).Intact);
        var before = await f.Evil.Snapshot();
        foreach (var node in MaliciousCluster.All)
        {
            var e = await Refused(() => f.Evil.Operations(node).WitnessAuditHeadAsync(head2, deadline: Deadline).ResponseAsync);
            Assert.Contains($"node '{node}' refuses to witness", e.Status.Detail);
            Assert.Contains("the log went back", e.Status.Detail);
        }
        // Emptied: a new genesis signed with the same key (entry 1 of another log) is refused too.
        var genesis = Head(entries[0]);
        foreach (var node in MaliciousCluster.All)
            Assert.Contains("the log went back", (await Refused(() => f.Evil.Operations(node).WitnessAuditHeadAsync(genesis, deadline: Deadline).ResponseAsync)).Status.Detail);
        (await f.Evil.Snapshot()).AssertSameAs(before);

        // The operator's side: each node's statement over a fresh nonce, signed by its certified identity key, names the
        // head it witnessed (beyond the truncated log's end) and reports the conflict.
        foreach (var node in MaliciousCluster.All)
        {
            var nonce = RandomNumberGenerator.GetBytes(32);
            var s = await f.Evil.Operations(node).AttestAuditHeadAsync(new AttestRequest { Nonce = ByteString.CopyFrom(nonce) }, deadline: Deadline);
            var identity = f.Evil.Trust.NodeIdentity(f.Evil.Node(node).Certificate, node);
            Assert.True(AuditHeads.Verify(s, identity), $"node '{node}': the statement does not verify");
            Assert.Equal(nonce, s.Nonce.ToByteArray());
            Assert.Equal(last.Seq, s.Seq);
            Assert.True(s.Seq > truncated[^1].Seq);
            Assert.Equal(last.Hash, s.Hash.ToByteArray());
            Assert.Contains(s.Conflicts, c => c.Contains("the log went back"));
        }
    }

    // The coordinator's API: an action without enough approvals is recorded as awaiting approval and nothing reaches a node.
    [Fact]
    public async Task The_coordinator_api_runs_nothing_without_approvals()
    {
        // The coordinator's own request desk (as its API runs it), over the real nodes, with stores of its own.
        var scratch = Directory.CreateTempSubdirectory("rotor-req-");
        try
        {
            using var operationStore = new OperationStore(Path.Combine(scratch.FullName, "operations.db"));
            using var audit = AuditLog.Open(Path.Combine(scratch.FullName, "audit.db"), AuditKey.CreateEphemeral());
            using var requestStore = new RequestStore(Path.Combine(scratch.FullName, RequestStore.FileName));
            var operations = new OperationsDesk(f.Evil.Engine, operationStore, audit, f.Evil.Clients, () => DateTimeOffset.UtcNow);
            var desk = new RequestDesk(f.Evil.Engine, operations, requestStore, f.Evil.Clients, () => DateTimeOffset.UtcNow);

            var message = "pay the coordinator"u8.ToArray();
            var sign = new ActionSpec { Sign = new Rotor.Rpc.Coordinator.SignRequest { WalletId = f.Ed, Message = ByteString.CopyFrom(message) } };
            var keygen = new ActionSpec { CreateWallets = new Rotor.Rpc.Coordinator.CreateWalletsRequest { Quorum = MaliciousCluster.Quorum, Scheme = "ed25519", Count = 1 } };
            var restructure = new ActionSpec { Reshare = new Rotor.Rpc.Operations.ReshareSpec { Quorum = MaliciousCluster.Quorum, Reason = "personnel-change", Threshold = 2 } };
            restructure.Reshare.Members.AddRange(["cs1", "cs2"]);
            var wallets = f.Evil.Registry.ListWallets(MaliciousCluster.Quorum).Count;
            var before = await f.Evil.Snapshot();
            var stranger = Approver.Stranger("coordinator's own key");
            foreach (var spec in new[] { sign, keygen, restructure })
            {
                var r = await desk.SubmitAsync(spec, "attacker");
                Assert.Equal("awaiting-approval", r.Status);
                Assert.Equal(1u, r.ApprovalsNeeded);
                // An approval by a key the nodes do not pin is not counted: the request stays awaiting, nothing runs.
                var sig = stranger.Sign(r.Description.ToByteArray());
                var refused = await Assert.ThrowsAsync<Rotor.Coordinator.CoordinatorException>(() => desk.ApproveAsync(r.Id, sig.Key, sig.Signature));
                Assert.Contains("is not an approver the nodes pin", refused.Message);
                r = requestStore.Find(r.Id)!.Record;
                Assert.Equal("awaiting-approval", r.Status);
                Assert.Empty(r.Approvals);
            }
            (await f.Evil.Snapshot()).AssertSameAs(before);
            Assert.Equal(wallets, f.Evil.Registry.ListWallets(MaliciousCluster.Quorum).Count);

            // The control: the operator's approval of the signing request runs it, and the signature verifies.
            var pending = (await desk.SubmitAsync(sign, "operator"));
            var op = f.Operator.Sign(pending.Description.ToByteArray());
            var done = await desk.ApproveAsync(pending.Id, op.Key, op.Signature);
            Assert.True(done.Status == "done", $"{done.Status}: {done.Error}");
            var w = f.Evil.Registry.FindWallet(f.Ed)!;
            Assert.True(Rotor.Protocols.Frost.SchemeSignatures.Verify(Rotor.Protocols.Schemes.Parse(w.Scheme),
                Convert.FromHexString(Rotor.Coordinator.Engine.Display(w).PublicKey), message, done.Result.Signature.Signature.ToByteArray()));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            scratch.Delete(recursive: true);
        }
    }
}
