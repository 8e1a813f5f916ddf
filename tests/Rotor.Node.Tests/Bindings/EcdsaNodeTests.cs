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
        byte[] nonce;
        using (var t = new Rotor.Crypto.Hashing.Transcript("rotor/node-session/ecdsa-sign-nonce/v1")) nonce = t.Append("nonce", start.Nonce.Span).Digest()[..32];
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
}
