using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Governance;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Node.Sessions;

namespace Rotor.Node.Tests.Bindings;

/// <summary>
/// Threshold ECDSA on real node services in one process, driven as a coordinator would (or a malicious one): the pair
/// setup after key generation, signing in three rounds, and what the nodes refuse by name.
/// </summary>
public sealed class EcdsaNodeTests : IDisposable
{
    private readonly NodeCluster cluster = new(4);

    public void Dispose() => cluster.Dispose();

    private TestNode[] Nodes(params string[] names) => names.Select(n => cluster[n]).ToArray();

    private static async Task<string> Refused(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        return e.Status.Detail;
    }

    private static StartRequest Setup(string keyId, ulong epoch, IEnumerable<Party> members, string target = "")
    {
        var s = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            EcdsaSetup = new EcdsaSetupParams { KeyId = keyId, Epoch = epoch, Target = target },
        };
        s.EcdsaSetup.Members.AddRange(members);
        return s;
    }

    private StartRequest Sign(KeyPackageSummary key, byte[] digest, IEnumerable<TestNode> signers, bool approved = true)
    {
        var s = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Sign = new SignParams { KeyId = key.KeyId, Epoch = key.Epoch, Message = ByteString.CopyFrom(digest) },
        };
        s.Sign.Signers.AddRange(signers.Select(n => NodeCluster.PartyOf(n)));
        if (approved)
            s.Authorization = cluster.Approve(new ActionRequest
            {
                Action = Actions.Sign, RequestId = ActionRequest.NewRequestId(), Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)),
                Quorum = "q", Scheme = "ecdsa-secp256k1", Wallets = [new ApprovedWallet(key.KeyId, null)], Message = ApprovedMessage.Of(digest),
            });
        return s;
    }

    private async Task<KeyPackageSummary> EcdsaKey(params string[] members)
    {
        var key = await cluster.KeygenAsync(Nodes(members), 2, "ecdsa-secp256k1", "e1");
        var setup = Setup("e1", 0, Nodes(members).Select(n => NodeCluster.PartyOf(n)));
        var outputs = await cluster.RunAsync(Nodes(members), _ => setup);
        foreach (var (n, o) in outputs)
        {
            var r = System.Text.Json.JsonSerializer.Deserialize<EcdsaSetupOutput>(o, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
            Assert.True(r.Complete, $"{n} completed its pairs");
            Assert.Equal(members.Length - 1, r.Peers.Count);
        }
        return key;
    }

    private static EcdsaSignature Combine(KeyPackageSummary key, StartRequest start, Dictionary<string, byte[]> outputs, PublicKeyPackage pub)
    {
        var nonce = Rotor.Rpc.Sessions.EcdsaSigningNonce.From(start.Nonce.Span);
        var g = pub.Group;
        var session = new EcdsaSignSession(pub, start.Sign.Signers.Select(p => Identifier.FromUInt64(g, p.Index)).ToArray(), start.Sign.Message.Span, nonce);
        return EcdsaSignatures.Combine(session, outputs.Values.Select(b => EcdsaSignatureShare.FromBytes(b)));
    }

    private PublicKeyPackage Package(string node) => cluster[node].State.WithVault(v => v.GetActive("e1"))!.Public;

    [Fact]
    public async Task Nodes_set_up_pairs_after_key_generation_and_sign_a_digest_in_three_rounds()
    {
        var key = await EcdsaKey("cs1", "cs2", "cs3");
        var digest = SHA256.HashData("node test"u8);
        foreach (var pair in new[] { new[] { "cs1", "cs2" }, new[] { "cs2", "cs3" } })
        {
            var start = Sign(key, digest, Nodes(pair));
            var outputs = await cluster.RunAsync(Nodes(pair), _ => start);
            var sig = Combine(key, start, outputs, Package("cs1"));
            Assert.True(EcdsaSignature.Verify(Package("cs1").GroupPublicKey, digest, sig.ToBytes()));
        }
    }

    [Fact]
    public async Task A_key_is_not_usable_for_signing_before_its_pair_setup()
    {
        var key = await cluster.KeygenAsync(Nodes("cs1", "cs2"), 2, "ecdsa-secp256k1", "e1");
        var error = await Refused(() => cluster["cs1"].Service.Start(Sign(key, new byte[32], Nodes("cs1", "cs2")), new TestCallContext()));
        Assert.Contains("not usable", error);
        Assert.Contains("no OT material", error);
    }

    [Fact]
    public async Task A_setup_naming_a_node_that_does_not_hold_the_identifier_is_refused_by_name_and_changes_nothing()
    {
        await EcdsaKey("cs1", "cs2", "cs3");
        var pairsBefore = cluster["cs1"].State.WithVault(v => v.GetPairs("e1", 0)).Select(p => Convert.ToHexStringLower(p.ToBytes())).ToList();
        var members = new[] { NodeCluster.PartyOf(cluster["cs1"]), NodeCluster.PartyOf(cluster["cs2"]), NodeCluster.PartyOf(cluster["cs4"], 3) };
        foreach (var n in Nodes("cs1", "cs2"))
            Assert.Contains("member 'cs4' is not the node recorded for identifier 3", await Refused(() => n.Service.Start(Setup("e1", 0, members), new TestCallContext())));
        // Leaving a member out is refused too: the setup covers the whole epoch.
        Assert.Contains("names 2 members, the epoch has 3",
            await Refused(() => cluster["cs1"].Service.Start(Setup("e1", 0, members.Take(2)), new TestCallContext())));
        Assert.Equal(pairsBefore, cluster["cs1"].State.WithVault(v => v.GetPairs("e1", 0)).Select(p => Convert.ToHexStringLower(p.ToBytes())).ToList());
    }

    [Fact]
    public async Task A_frost_key_gets_no_ecdsa_setup_and_other_lengths_than_32_bytes_are_refused()
    {
        await cluster.KeygenAsync(Nodes("cs1", "cs2"), 2, "secp256k1", "e1");
        Assert.Contains("is a secp256k1 key",
            await Refused(() => cluster["cs1"].Service.Start(Setup("e1", 0, Nodes("cs1", "cs2").Select(n => NodeCluster.PartyOf(n))), new TestCallContext())));
        using var second = new NodeCluster(2);
        var key = await second.KeygenAsync([second["cs1"], second["cs2"]], 2, "ecdsa-secp256k1", "e2");
        var setup = Setup("e2", 0, new[] { second["cs1"], second["cs2"] }.Select(n => NodeCluster.PartyOf(n)));
        await second.RunAsync([second["cs1"], second["cs2"]], _ => setup);
        var start = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Sign = new SignParams { KeyId = "e2", Epoch = 0, Message = ByteString.CopyFrom(new byte[31]) },
        };
        start.Sign.Signers.AddRange(new[] { second["cs1"], second["cs2"] }.Select(n => NodeCluster.PartyOf(n)));
        var e = await Assert.ThrowsAsync<RpcException>(async () => await second["cs1"].Service.Start(start, new TestCallContext()));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("exactly a 32-byte digest", e.Status.Detail);
        Assert.Contains("got 31 bytes", e.Status.Detail);
    }

    [Fact]
    public async Task An_aborted_signing_leaves_nothing_to_resume_and_a_new_one_signs()
    {
        var key = await EcdsaKey("cs1", "cs2", "cs3");
        var digest = SHA256.HashData("abort"u8);
        var start = Sign(key, digest, Nodes("cs1", "cs2"));
        var opened = await cluster["cs1"].Service.Start(start, new TestCallContext());
        Assert.NotEmpty(opened.Envelopes);
        await cluster["cs1"].Service.Abort(new AbortRequest { SessionId = opened.SessionId, Reason = "test" }, new TestCallContext());
        var e = await Assert.ThrowsAsync<RpcException>(async () => await cluster["cs1"].Service.Step(new StepRequest { SessionId = opened.SessionId }, new TestCallContext()));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        // A fresh signing (a fresh approval) signs.
        var again = Sign(key, digest, Nodes("cs1", "cs2"));
        var sig = Combine(key, again, await cluster.RunAsync(Nodes("cs1", "cs2"), _ => again), Package("cs1"));
        Assert.True(EcdsaSignature.Verify(Package("cs1").GroupPublicKey, digest, sig.ToBytes()));
    }

    // ---------------------------------------------------------------- round 1 ahead of the message (presign)

    private static StartRequest Presign(KeyPackageSummary key, IEnumerable<TestNode> signers, uint count = 1, string path = "")
    {
        var s = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Sign = new SignParams { KeyId = key.KeyId, Epoch = key.Epoch, Presign = count, Path = path },
        };
        s.Sign.Signers.AddRange(signers.Select(n => NodeCluster.PartyOf(n)));
        return s;
    }

    /// <summary>Starts a presign on every signer: their round-1 replies (session id and sealed envelopes).</summary>
    private static async Task<Dictionary<string, StepReply>> Presigned(StartRequest presign, IEnumerable<TestNode> signers)
    {
        var replies = new Dictionary<string, StepReply>();
        foreach (var n in signers) replies[n.Name] = await n.Service.Start(presign, new TestCallContext());
        return replies;
    }

    private static List<ByteString> To(string node, IEnumerable<StepReply> replies) =>
        replies.SelectMany(r => r.Envelopes).Where(e => Rotor.Crypto.Envelopes.Envelope.Decode(e.Span).Recipient == node).ToList();

    /// <summary>Steps every signer with its envelopes and the coordinator input, until done; the signature shares.</summary>
    private static async Task<Dictionary<string, byte[]>> Finish(Dictionary<string, StepReply> replies, IReadOnlyList<TestNode> signers, Func<string, ByteString?> input)
    {
        for (int round = 1; ; round++)
        {
            if (replies.Values.All(r => r.Done)) return replies.ToDictionary(r => r.Key, r => r.Value.Output.ToByteArray());
            var next = new Dictionary<string, StepReply>();
            foreach (var n in signers)
            {
                var req = new StepRequest { SessionId = replies[n.Name].SessionId };
                req.Envelopes.AddRange(To(n.Name, replies.Values));
                if (round == 1 && input(n.Name) is { } i) req.CoordinatorInput = i;
                next[n.Name] = await n.Service.Step(req, new TestCallContext());
            }
            replies = next;
        }
    }

    [Fact]
    public async Task A_presign_made_before_the_message_signs_the_approved_request_bound_at_its_first_step_once()
    {
        var key = await EcdsaKey("cs1", "cs2", "cs3");
        var signers = Nodes("cs1", "cs3");
        var presign = Presign(key, signers);
        var replies = await Presigned(presign, signers);
        Assert.All(replies.Values, r => Assert.NotEmpty(r.Envelopes));
        var digest = SHA256.HashData("presigned"u8);
        var request = Sign(key, digest, signers);
        var outputs = await Finish(replies, signers, _ => request.ToByteString());
        // The signature is of the presign's session (its nonce) bound to the request's message.
        var bound = request.Clone();
        bound.Nonce = presign.Nonce;
        var sig = Combine(key, bound, outputs, Package("cs1"));
        Assert.True(EcdsaSignature.Verify(Package("cs1").GroupPublicKey, digest, sig.ToBytes()));
        // Used once: the sessions are gone.
        var again = await Assert.ThrowsAsync<RpcException>(async () => await cluster["cs1"].Service.Step(
            new StepRequest { SessionId = replies["cs1"].SessionId, CoordinatorInput = Sign(key, digest, signers).ToByteString() }, new TestCallContext()));
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
        Assert.Equal(0, cluster["cs1"].State.EcdsaPresigns.Count);
    }

    [Fact]
    public async Task A_presign_refuses_a_request_that_is_missing_unapproved_or_for_other_signers_and_is_closed()
    {
        var key = await EcdsaKey("cs1", "cs2", "cs3");
        var signers = Nodes("cs1", "cs2");
        var digest = SHA256.HashData("hostile coordinator"u8);
        async Task<RpcException> FirstStep(ByteString? input)
        {
            var replies = await Presigned(Presign(key, signers), signers);
            var req = new StepRequest { SessionId = replies["cs1"].SessionId };
            req.Envelopes.AddRange(To("cs1", replies.Values));
            if (input is not null) req.CoordinatorInput = input;
            var e = await Assert.ThrowsAsync<RpcException>(async () => await cluster["cs1"].Service.Step(req, new TestCallContext()));
            // whatever the refusal, the presign is closed: nothing of it can be tried again
            var closed = await Assert.ThrowsAsync<RpcException>(async () => await cluster["cs1"].Service.Step(
                new StepRequest { SessionId = replies["cs1"].SessionId, CoordinatorInput = Sign(key, digest, signers).ToByteString() }, new TestCallContext()));
            Assert.Equal(StatusCode.NotFound, closed.StatusCode);
            await cluster["cs2"].Service.Abort(new AbortRequest { SessionId = replies["cs2"].SessionId, Reason = "test" }, new TestCallContext());
            return e;
        }

        var none = await FirstStep(null);
        Assert.Equal(StatusCode.FailedPrecondition, none.StatusCode);
        Assert.Contains("needs the signing request", none.Status.Detail);

        var unapproved = await FirstStep(Sign(key, digest, signers, approved: false).ToByteString());
        Assert.Equal(StatusCode.PermissionDenied, unapproved.StatusCode);
        Assert.Contains("approval", unapproved.Status.Detail);

        var others = await FirstStep(Sign(key, digest, Nodes("cs1", "cs3")).ToByteString());
        Assert.Equal(StatusCode.FailedPrecondition, others.StatusCode);
        Assert.Contains("the presign was made with [cs1, cs2]", others.Status.Detail);

        var garbage = await FirstStep(ByteString.CopyFrom(0xff, 0x01, 0x02));
        Assert.Equal(StatusCode.FailedPrecondition, garbage.StatusCode);
        Assert.Contains("malformed signing request", garbage.Status.Detail);

        var wrongLength = Sign(key, new byte[31], signers);
        var shortDigest = await FirstStep(wrongLength.ToByteString());
        Assert.Equal(StatusCode.InvalidArgument, shortDigest.StatusCode);
        Assert.Contains("exactly a 32-byte digest", shortDigest.Status.Detail);
        Assert.Equal(0, cluster["cs1"].State.EcdsaPresigns.Count);
    }

    [Fact]
    public async Task A_node_keeps_at_most_four_unused_presigns_per_key_and_none_for_a_path_or_several_at_once()
    {
        var key = await EcdsaKey("cs1", "cs2", "cs3");
        var signers = Nodes("cs1", "cs2");
        var opened = new List<StepReply>();
        for (int i = 0; i < EcdsaPresignLimit.PerKey; i++) opened.Add(await cluster["cs1"].Service.Start(Presign(key, signers), new TestCallContext()));
        var full = await Refused(() => cluster["cs1"].Service.Start(Presign(key, signers), new TestCallContext()));
        Assert.Contains("already holds 4 unused ECDSA presigns", full);
        // one aborted gives its place back
        await cluster["cs1"].Service.Abort(new AbortRequest { SessionId = opened[0].SessionId, Reason = "test" }, new TestCallContext());
        Assert.Equal(EcdsaPresignLimit.PerKey - 1, cluster["cs1"].State.EcdsaPresigns.Count);
        await cluster["cs1"].Service.Start(Presign(key, signers), new TestCallContext());
        Assert.Contains("for no path", await Refused(() => cluster["cs2"].Service.Start(Presign(key, signers, path: "m/0/7"), new TestCallContext())));
        Assert.Contains("one presignature, not 2", await Refused(() => cluster["cs2"].Service.Start(Presign(key, signers, count: 2), new TestCallContext())));
        // a signing with a message asks for nothing in advance
        var mixed = Sign(key, new byte[32], signers);
        mixed.Sign.Presign = 1;
        Assert.Contains("makes nothing in advance", await Refused(() => cluster["cs2"].Service.Start(mixed, new TestCallContext())));
    }

    [Fact]
    public async Task A_committed_reshare_closes_the_unused_presigns_of_its_key()
    {
        var key = await EcdsaKey("cs1", "cs2", "cs3");
        var members = Nodes("cs1", "cs2", "cs3");
        var replies = await Presigned(Presign(key, Nodes("cs1", "cs2")), Nodes("cs1", "cs2"));
        Assert.Equal(1, cluster["cs1"].State.EcdsaPresigns.Count);
        // a refresh of the key, committed on every member
        var start = new StartRequest { Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Reshare = new ReshareParams { EventId = "ev-e1", NewThreshold = 2 } };
        start.Reshare.Wallets.Add(NodeCluster.Wire(key));
        start.Reshare.Dealers.AddRange(members.Take(2).Select(m => NodeCluster.PartyOf(m)));
        start.Reshare.NewMembers.AddRange(members.Select(m => NodeCluster.PartyOf(m)));
        start = cluster.Approved(start);
        var outputs = await cluster.RunAsync(members, _ => start);
        var commit = new CommitRequest { EventId = "ev-e1", Start = start };
        foreach (var (node, bytes) in outputs)
            foreach (var (scheme, hex) in System.Text.Json.JsonSerializer.Deserialize<ReshareOutput>(bytes, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!.Confirmations)
                commit.Certificate.Add(new Confirmation { Node = node, Scheme = scheme, Signed = ByteString.CopyFrom(Convert.FromHexString(hex)) });
        foreach (var m in members) await m.Service.Commit(commit, new TestCallContext());
        Assert.Equal(1ul, cluster["cs1"].State.WithVault(v => v.ActiveEpoch("e1")));
        // the presigns of epoch 0 are closed and wiped, not merely refused
        Assert.Equal(0, cluster["cs1"].State.EcdsaPresigns.Count);
        Assert.Equal(0, cluster["cs2"].State.EcdsaPresigns.Count);
        var e = await Assert.ThrowsAsync<RpcException>(async () => await cluster["cs1"].Service.Step(
            new StepRequest { SessionId = replies["cs1"].SessionId, CoordinatorInput = Sign(key, new byte[32], Nodes("cs1", "cs2")).ToByteString() }, new TestCallContext()));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }
}
