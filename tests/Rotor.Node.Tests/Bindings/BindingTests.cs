using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;

namespace Rotor.Node.Tests.Bindings;

/// <summary>
/// A malicious coordinator against real node services: every attack is refused, the culprit is named where there is
/// one, and every vault is unchanged (the shard lists are compared before and after).
/// </summary>
public sealed class BindingTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly NodeCluster cluster = new(4);

    public void Dispose() => cluster.Dispose();

    private TestNode[] Nodes(params string[] names) => names.Select(n => cluster[n]).ToArray();

    private Dictionary<string, string> Vaults() => cluster.Nodes.ToDictionary(n => n.Key, n => n.Value.Shards());

    private StartRequest ReshareStart(string eventId, IEnumerable<KeyPackage> wallets, IEnumerable<Party> dealers, IEnumerable<Party> newMembers, int threshold)
    {
        var start = new StartRequest { Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Reshare = new ReshareParams { EventId = eventId, NewThreshold = (uint)threshold } };
        start.Reshare.Wallets.AddRange(wallets);
        start.Reshare.Dealers.AddRange(dealers);
        start.Reshare.NewMembers.AddRange(newMembers);
        return cluster.Approved(start);
    }

    private static CommitRequest Certificate(string eventId, StartRequest start, IReadOnlyDictionary<string, byte[]> outputs)
    {
        var commit = new CommitRequest { EventId = eventId, Start = start };
        foreach (var (node, bytes) in outputs)
            foreach (var (scheme, hex) in JsonSerializer.Deserialize<ReshareOutput>(bytes, Json)!.Confirmations)
                commit.Certificate.Add(new Confirmation { Node = node, Scheme = scheme, Signed = ByteString.CopyFrom(Convert.FromHexString(hex)) });
        return commit;
    }

    private static async Task<string> Refused(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        return e.Status.Detail;
    }

    /// <summary>A 2-of-3 key on cs1..cs3, refreshed once (epoch 1 committed everywhere); returns the epoch-1 package and the certificate.</summary>
    private async Task<(KeyPackage Package, CommitRequest Certificate)> KeyAtEpochOne(string keyId = "w1")
    {
        var members = Nodes("cs1", "cs2", "cs3");
        var summary = await cluster.KeygenAsync(members, 2, keyId: keyId);
        var start = ReshareStart("ev-" + keyId, [NodeCluster.Wire(summary)], members.Take(2).Select(m => NodeCluster.PartyOf(m)), members.Select(m => NodeCluster.PartyOf(m)), 2);
        var outputs = await cluster.RunAsync(members, _ => start);
        var cert = Certificate("ev-" + keyId, start, outputs);
        foreach (var m in members) await m.Service.Commit(cert, new TestCallContext());
        var next = JsonSerializer.Deserialize<ReshareOutput>(outputs["cs1"], Json)!.Keys.Single(k => k.KeyId == keyId);
        return (NodeCluster.Wire(next), cert);
    }

    [Fact]
    public async Task Key_packages_record_each_members_certified_identity_key()
    {
        var members = Nodes("cs1", "cs2", "cs3");
        var summary = await cluster.KeygenAsync(members, 2);
        foreach (var m in members)
            Assert.Equal(Convert.ToHexStringLower(m.State.Identity.Public.SigningKey), summary.MemberKeys[m.Index]);
        var share = cluster["cs2"].State.WithVault(v => v.GetActive("w1"))!;
        Assert.True(share.Public.IsBound);
        // A restructure to cs1, cs2, cs4 records cs4's key for its identifier in the new package.
        var start = ReshareStart("ev-r", [NodeCluster.Wire(summary)], members.Take(2).Select(m => NodeCluster.PartyOf(m)),
            Nodes("cs1", "cs2", "cs4").Select(m => NodeCluster.PartyOf(m)), 2);
        var outputs = await cluster.RunAsync(Nodes("cs1", "cs2", "cs4"), _ => start);
        var next = JsonSerializer.Deserialize<ReshareOutput>(outputs["cs4"], Json)!.Keys[0];
        Assert.Equal(Convert.ToHexStringLower(cluster["cs4"].State.Identity.Public.SigningKey), next.MemberKeys[4]);
        Assert.False(next.MemberKeys.ContainsKey(3));
        // Committed: the new members activate epoch 1 and erase epoch 0; cs3, an old member that leaves, erases its shard.
        var commit = Certificate("ev-r", start, outputs);
        foreach (var n in Nodes("cs1", "cs2", "cs3", "cs4")) await n.Service.Commit(commit, new TestCallContext());
        Assert.Equal("w1@1:Active:", cluster["cs4"].Shards());
        Assert.Equal("w1@1:Active:", cluster["cs1"].Shards());
        Assert.Equal("", cluster["cs3"].Shards());
    }

    [Fact]
    public async Task A_repair_to_a_node_that_does_not_hold_the_identifier_is_refused_by_name()
    {
        var (package, _) = await KeyAtEpochOne();
        var before = Vaults();
        // cs4 would learn the share of identifier 3 (cs3's).
        var repair = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Repair = new RepairParams { Current = package, Target = NodeCluster.PartyOf(cluster["cs4"], 3) },
        };
        repair.Repair.Helpers.Add(NodeCluster.PartyOf(cluster["cs1"]));
        repair.Repair.Helpers.Add(NodeCluster.PartyOf(cluster["cs2"]));
        foreach (var n in Nodes("cs1", "cs2", "cs4"))
        {
            var error = await Refused(() => n.Service.Start(repair, new TestCallContext()));
            Assert.Contains("repair target 'cs4' is not the node recorded for identifier 3", error);
        }
        // A helper given another's identifier is refused too.
        repair.Repair.Target = NodeCluster.PartyOf(cluster["cs3"]);
        repair.Repair.Helpers[1] = NodeCluster.PartyOf(cluster["cs4"], 2);
        Assert.Contains("repair helper 'cs4' is not the node recorded for identifier 2", await Refused(() => cluster["cs1"].Service.Start(repair, new TestCallContext())));
        Assert.Equal(before, Vaults());
    }

    [Fact]
    public async Task A_dealer_under_an_identifier_it_does_not_hold_is_refused_by_name()
    {
        var (package, _) = await KeyAtEpochOne();
        var before = Vaults();
        // cs4 claims identifier 2 (cs2's) as a dealer: nobody takes part.
        var start = ReshareStart("ev-x", [package], [NodeCluster.PartyOf(cluster["cs1"]), NodeCluster.PartyOf(cluster["cs4"], 2)],
            [NodeCluster.PartyOf(cluster["cs1"]), NodeCluster.PartyOf(cluster["cs4"], 2)], 1);
        foreach (var n in Nodes("cs1", "cs4"))
            { var err = await Refused(() => n.Service.Start(start, new TestCallContext())); Assert.True(err.Contains("dealer 'cs4' is not the node recorded for identifier 2"), err); }
        Assert.Equal(before, Vaults());
    }

    [Fact]
    public async Task A_fake_old_package_given_to_a_new_member_makes_the_session_fail()
    {
        var (package, _) = await KeyAtEpochOne();
        var before = Vaults();
        // The coordinator shows cs4 the old package shifted by δ (Y + δ·G, every Y_i + δ·G: a consistent package of a key
        // it would know the difference to), and the dealers the real one.
        var g = Schemes.Parse(package.Scheme).Group();
        var shift = g.MulBase(g.RandomScalar());
        var fake = package.Clone();
        fake.GroupPublicKey = ByteString.CopyFrom((g.DecodeElement(package.GroupPublicKey.Span) + shift).ToBytes());
        foreach (var k in package.VerifyingShares.Keys.ToList())
            fake.VerifyingShares[k] = ByteString.CopyFrom((g.DecodeElement(package.VerifyingShares[k].Span) + shift).ToBytes());
        var real = ReshareStart("ev-f", [package], Nodes("cs1", "cs2").Select(m => NodeCluster.PartyOf(m)), Nodes("cs1", "cs2", "cs4").Select(m => NodeCluster.PartyOf(m)), 2);
        var faked = real.Clone();
        faked.Reshare.Wallets[0] = fake;
        var e = await Assert.ThrowsAsync<RpcException>(() => cluster.RunAsync(Nodes("cs1", "cs2", "cs4"), n => n.Name == "cs4" ? faked : real));
        Assert.Contains("session", e.Status.Detail);
        // cs4 got nothing; the old epoch stays active everywhere. The honest dealers, also new members, hold pending
        // shards of the failed event until proof that it cannot commit: cs4's renunciation of the real event.
        Assert.Equal("", cluster["cs4"].Shards());
        Assert.All(before, b => Assert.StartsWith(b.Value, cluster[b.Key].Shards()));
        var renounced = await cluster["cs4"].Service.Renounce(new RenounceRequest { Start = real }, new TestCallContext());
        var proof = new DiscardRequest { EventId = "ev-f", Start = real };
        proof.Renunciations.Add(renounced.Renunciation);
        foreach (var n in Nodes("cs1", "cs2")) await n.Service.Discard(proof, new TestCallContext());
        Assert.Equal(before, Vaults());
    }

    [Fact]
    public async Task A_commit_erases_only_what_the_verified_event_says()
    {
        var (_, certificate) = await KeyAtEpochOne("w1");
        await KeyAtEpochOne("w2");
        var before = Vaults();
        Assert.Contains("w1@1:Active", before["cs1"]);
        // Replay the old certificate with an erase list reaching every epoch of every wallet.
        var replay = certificate.Clone();
        replay.Wallets.Clear();
        replay.Wallets.Add(new WalletEpoch { KeyId = "w1", Epoch = ulong.MaxValue });
        replay.Wallets.Add(new WalletEpoch { KeyId = "w2", Epoch = ulong.MaxValue });
        foreach (var n in Nodes("cs1", "cs2", "cs3"))
        {
            var reply = await n.Service.Commit(replay, new TestCallContext());
            Assert.Empty(reply.Erased);
        }
        Assert.Equal(before, Vaults());
    }

    [Fact]
    public async Task Pending_shards_are_discarded_only_with_proof_that_the_event_cannot_commit()
    {
        var members = Nodes("cs1", "cs2", "cs3");
        var summary = await cluster.KeygenAsync(members, 2);
        var start = ReshareStart("ev-p", [NodeCluster.Wire(summary)], members.Take(2).Select(m => NodeCluster.PartyOf(m)), members.Select(m => NodeCluster.PartyOf(m)), 2);
        // cs3 never gets its messages: cs1 and cs2 confirm and hold pending shards, cs3 does not.
        var outputs = await cluster.RunAsync(members, _ => start, deliverTo: n => n != "cs3");
        Assert.Equal(["cs1", "cs2"], outputs.Keys.Order());
        var before = Vaults();
        Assert.Contains("w1@1:Pending:ev-p", before["cs1"]);

        // On the registry's word alone: refused, nothing discarded.
        Assert.Contains("keeps its pending shards", await Refused(() => cluster["cs1"].Service.Discard(new DiscardRequest { EventId = "ev-p", Reason = "failed" }, new TestCallContext())));
        // A member that confirmed does not renounce: it hands back its confirmation instead.
        var confirmed = await cluster["cs2"].Service.Renounce(new RenounceRequest { Start = start }, new TestCallContext());
        Assert.Null(confirmed.Renunciation);
        Assert.False(confirmed.ConfirmedOutput.IsEmpty);
        // A renunciation forged in cs3's name (signed by cs2) is refused, naming it.
        var cs3 = await cluster["cs3"].Service.Renounce(new RenounceRequest { Start = start }, new TestCallContext());
        var forged = cs3.Renunciation.Clone();
        forged.Signature = ByteString.CopyFrom(cluster["cs2"].State.Identity.Sign(Rotor.Rpc.Sessions.ReshareSetup.RenunciationBytes("ev-p", forged.SessionId.Span)));
        var bad = new DiscardRequest { EventId = "ev-p", Start = start };
        bad.Renunciations.Add(forged);
        Assert.Contains("renunciation by 'cs3' does not verify", await Refused(() => cluster["cs1"].Service.Discard(bad, new TestCallContext())));
        Assert.Equal(before, Vaults());

        // cs3 renounced for good: it refuses the event afterwards.
        cluster["cs3"].State.Remove(cs3.Renunciation.SessionId.Span);
        Assert.Contains("has renounced reshare ev-p", await Refused(() => cluster["cs3"].Service.Start(start, new TestCallContext())));
        // Its signed renunciation rules out any certificate (every member must confirm): now the discard goes through.
        var proof = new DiscardRequest { EventId = "ev-p", Start = start };
        proof.Renunciations.Add(cs3.Renunciation);
        foreach (var n in Nodes("cs1", "cs2"))
            Assert.Single((await n.Service.Discard(proof, new TestCallContext())).Discarded);
        Assert.DoesNotContain("Pending", string.Concat(Vaults().Values));
        Assert.Contains("w1@0:Active", cluster["cs1"].Shards());
    }
}

/// <summary>An old member checks that a certified event keeps the group key before it erases anything.</summary>
public sealed class GroupKeyCheckTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly NodeCluster cluster = new(4);

    public void Dispose() => cluster.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_certificate_for_another_group_key_or_package_erases_nothing_on_the_old_members(bool samePackageKey)
    {
        var members = new[] { cluster["cs1"], cluster["cs2"], cluster["cs3"] };
        var summary = await cluster.KeygenAsync(members, 2);
        var before = string.Join("|", cluster.Nodes.Values.Select(n => n.Shards()));
        // A restructure to cs4 alone, certified by cs4 (malicious, with the coordinator) with a confirmation that claims
        // another group key (or the right one, over an old package that records cs4 for identifier 3): its signature
        // and dealer list are all a certificate checks.
        var start = new StartRequest { Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Reshare = new ReshareParams { EventId = "ev-y", NewThreshold = 1 } };
        var package = NodeCluster.Wire(summary);
        if (samePackageKey) package.MemberKeys[3] = ByteString.CopyFrom(cluster["cs4"].State.Identity.Public.SigningKey);
        start.Reshare.Wallets.Add(package);
        start.Reshare.Dealers.AddRange(members.Take(2).Select(m => NodeCluster.PartyOf(m)));
        start.Reshare.NewMembers.Add(NodeCluster.PartyOf(cluster["cs4"]));
        var scheme = Scheme.Ed25519;
        var g = scheme.Group();
        var ev = Rotor.Rpc.Sessions.ReshareSetup.Events(start.Reshare, start.Nonce.Span)[scheme];
        var bytes = new List<byte> { 0x13 };
        bytes.AddRange(ev.Digest);
        bytes.AddRange(Identifier.FromUInt64(g, 4).ToBytes());
        bytes.AddRange(samePackageKey   // group keys: the old Y, or not
            ? Rotor.Protocols.Resharing.ReshareConfirmation.GroupKeysDigest([("w1", g.DecodeElement(Convert.FromHexString(summary.GroupPublicKey)))])
            : RandomNumberGenerator.GetBytes(64));
        bytes.AddRange(RandomNumberGenerator.GetBytes(64));   // aggregate commitments
        bytes.AddRange(new byte[] { 0, 2 });
        foreach (var d in new ulong[] { 1, 2 })
        {
            bytes.AddRange(Identifier.FromUInt64(g, d).ToBytes());
            bytes.AddRange(RandomNumberGenerator.GetBytes(64));
        }
        var confirmation = Rotor.Protocols.Resharing.ReshareConfirmation.Decode(scheme, bytes.ToArray());
        var signed = confirmation.Sign(cluster["cs4"].State.Identity);
        var commit = new CommitRequest { EventId = "ev-y", Start = start };
        commit.Certificate.Add(new Confirmation { Node = "cs4", Scheme = "ed25519", Signed = ByteString.CopyFrom(signed.ToBytes()) });
        foreach (var n in samePackageKey ? members.Take(2) : members)
        {
            var e = await Assert.ThrowsAsync<RpcException>(async () => await n.Service.Commit(commit, new TestCallContext()));
            Assert.Contains(samePackageKey ? "another public package of key 'w1'" : "does not keep the group keys", e.Status.Detail);
        }
        if (samePackageKey) Assert.Empty((await cluster["cs3"].Service.Commit(commit, new TestCallContext())).Erased);
        Assert.Equal(before, string.Join("|", cluster.Nodes.Values.Select(n => n.Shards())));
    }
}
