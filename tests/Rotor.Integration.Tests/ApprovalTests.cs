using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Requests;

namespace Rotor.Integration.Tests;

/// <summary>A cluster whose nodes pin two operators, alice and bob, and need both for every action (2-of-2); eve is no approver.</summary>
public sealed class TwoOperatorCluster : ClusterFixture
{
    public string Alice => Path.Combine(Dir, "alice.key");
    public string Bob => Path.Combine(Dir, "bob.key");
    public string Eve => Path.Combine(Dir, "eve.key");
    public string Carol => Path.Combine(Dir, "carol.key");

    public Dictionary<string, string> Keys { get; } = [];

    protected override async Task PrepareAsync()
    {
        foreach (var (name, file) in new[] { ("alice", Alice), ("bob", Bob), ("eve", Eve), ("carol", Carol) })
            Keys[name] = (await RotorProcess.Ok("operator", "keygen", "--out", file))["publicKey"]!.GetValue<string>();
    }

    protected override IEnumerable<string> UpArguments => ["--approvers", $"alice={Keys["alice"]},bob={Keys["bob"]}", "--approvals", "2"];
}

/// <summary>
/// The request flow over real processes: an action waits for the approvals the nodes' policy asks for and runs once
/// they are in; approvals by keys the nodes do not pin, or that do not verify, are refused and change nothing; a
/// request whose cluster moved on fails asking for a new one; the policy itself changes only by approval.
/// </summary>
public sealed class ApprovalTests(TwoOperatorCluster cluster) : IClassFixture<TwoOperatorCluster>
{
    private ClusterApi Api => cluster.Api;

    private async Task<string> Quorum()
    {
        var name = "q-" + Guid.NewGuid().ToString("N")[..8];
        await Api.CreateQuorum(name, 2, "cs1", "cs2", "cs3");
        return name;
    }

    private async Task<WalletRecord> Wallet(string quorum)
    {
        var r = await Api.Submit(new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = quorum, Scheme = "ed25519" } }, cluster.Alice, cluster.Bob);
        Assert.True(r.Status == "done", $"{r.Status}: {r.Error}");
        return r.Result.Wallets.Wallets[0];
    }

    [Fact]
    public async Task An_action_awaits_the_second_operator_and_runs_when_bob_approves()
    {
        var quorum = await Quorum();
        // One of two approvals: recorded, nothing done, exit 0.
        var pending = await cluster.Ok("wallet", "create", "--quorum", quorum, "--scheme", "ed25519", "--approve-with", cluster.Alice);
        Assert.Equal("awaiting-approval", pending["status"]!.GetValue<string>());
        Assert.Equal(1, pending["approvals"]!.GetValue<int>());
        Assert.Equal(2, pending["approvalsNeeded"]!.GetValue<int>());
        var id = pending["requestId"]!.GetValue<string>();
        Assert.Empty(await Api.Wallets(quorum));

        // What bob is asked to sign: exactly the key generation, with each member's certified identity.
        Assert.Contains((await cluster.Ok("requests", "list", "--status", "awaiting-approval"))["requests"]!.AsArray(), r => r!["id"]!.GetValue<string>() == id);
        var shown = await cluster.Ok("requests", "show", id);
        var description = shown["description"]!.AsObject();
        Assert.Equal("create-wallets", description["action"]!.GetValue<string>());
        Assert.Equal(id, description["requestId"]!.GetValue<string>());
        Assert.Equal(quorum, description["quorum"]!.GetValue<string>());
        var nodes = (await Api.Client.ListNodesAsync(new ListNodesRequest())).Nodes.ToDictionary(n => n.Name, n => n.SigningKey);
        Assert.All(description["newMembers"]!.AsArray(), m => Assert.Equal(nodes[m!["name"]!.GetValue<string>()], m["identity"]!.GetValue<string>()));
        Assert.Equal(shown["canonical"]!.GetValue<string>(), ActionRequest.Decode(System.Text.Encoding.UTF8.GetBytes(shown["canonical"]!.GetValue<string>())).Encode() is var b
            ? System.Text.Encoding.UTF8.GetString(b) : null);

        var approved = await cluster.Ok("approve", id, "--key", cluster.Bob);
        Assert.Equal("done", approved["status"]!.GetValue<string>());
        Assert.Equal(["alice", "bob"], approved["approvers"]!.AsArray().Select(a => a!["approver"]!.GetValue<string>()).Order());
        var wallet = Assert.Single(await Api.Wallets(quorum));
        Assert.Contains(wallet.WalletId, approved["result"]!.ToJsonString());
        Assert.Contains("no more approvals", await cluster.Fails("approve", id, "--key", cluster.Alice));

        // Readable: the status, the request id, the approvals so far and needed, exit 0.
        var (code, text, _) = await cluster.RunText("sign", "--wallet", wallet.WalletId, "--message", "01", "--approve-with", cluster.Alice);
        Assert.Equal(0, code);
        Assert.Contains("status: awaiting-approval", text);
        Assert.Matches("request: [0-9a-f]{32} \\(sign\\)", text);
        Assert.Contains("approvals: 1 of 2 (alice)", text);

        // Both at once: the signature is made and the old JSON fields are there, with who approved.
        var signed = await cluster.Ok("sign", "--wallet", wallet.WalletId, "--message", "c0ffee", "--approve-with", $"{cluster.Alice},{cluster.Bob}");
        Assert.Equal(wallet.WalletId, signed["walletId"]!.GetValue<string>());
        Assert.Equal(["alice", "bob"], signed["approvedBy"]!.AsArray().Select(a => a!.GetValue<string>()).Order());
        Checks.Verifies(new SignReply
        {
            WalletId = wallet.WalletId, Scheme = "ed25519", Message = ByteString.CopyFrom(Convert.FromHexString("c0ffee")),
            Signature = ByteString.CopyFrom(Convert.FromHexString(signed["signature"]!.GetValue<string>())),
        }, wallet.PublicKey);

        // Every request and approval is in the audit log.
        var log = (await cluster.Ok("log"))["entries"]!.AsArray();
        Assert.Contains(log, e => e!["kind"]!.GetValue<string>() == "request.submitted" && e["subject"]!.GetValue<string>() == id);
        Assert.Equal(2, log.Count(e => e!["kind"]!.GetValue<string>() == "request.approved" && e["subject"]!.GetValue<string>() == id));
        Assert.Contains(log, e => e!["kind"]!.GetValue<string>() == "request.done" && e["subject"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task An_approval_by_a_key_the_nodes_do_not_pin_is_not_counted_and_the_request_stays_awaiting()
    {
        var wallet = await Wallet(await Quorum());
        var pending = await cluster.Ok("sign", "--wallet", wallet.WalletId, "--message", "00", "--approve-with", cluster.Alice);
        var id = pending["requestId"]!.GetValue<string>();
        var error = await cluster.Fails("approve", id, "--key", cluster.Eve);
        Assert.Contains("not an approver the nodes pin", error);
        Assert.Contains(cluster.Keys["eve"], error);
        // Approving twice with one key counts once.
        var again = await Api.Approve(await Api.Requests.ShowAsync(new RequestRef { Id = id }), cluster.Alice);
        foreach (var r in new[] { again, await Api.Requests.ShowAsync(new RequestRef { Id = id }) })
        {
            Assert.Equal("awaiting-approval", r.Status);
            Assert.Equal(["alice"], r.Approvals.Select(a => a.Approver));
        }
        var refused = (await cluster.Ok("log"))["entries"]!.AsArray().Where(e => e!["kind"]!.GetValue<string>() == "request.approval-refused" && e["subject"]!.GetValue<string>() == id);
        Assert.Single(refused);
        // With --approve-with alice,eve: alice counts, eve is refused by name, the command fails.
        var withEve = await cluster.Run("sign", "--wallet", wallet.WalletId, "--message", "00", "--approve-with", $"{cluster.Alice},{cluster.Eve}");
        Assert.NotEqual(0, withEve.Code);
        Assert.Contains("not an approver the nodes pin", withEve.Json["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tampered_approval_is_refused_with_a_clear_message_and_changes_nothing()
    {
        var wallet = await Wallet(await Quorum());
        var record = await Api.Requests.SubmitAsync(new ActionSpec { Sign = new SignRequest { WalletId = wallet.WalletId, Message = ByteString.CopyFrom([1, 2, 3]) } });
        var seed = OperatorKeyFiles.Seed(cluster.Alice);

        // Alice's signature over an altered description (another message digest), and one over another request.
        var altered = record.Description.ToByteArray();
        altered[altered.Length / 2] ^= 0x01;
        var other = await Api.Requests.SubmitAsync(new ActionSpec { Sign = new SignRequest { WalletId = wallet.WalletId, Message = ByteString.CopyFrom([1, 2, 3]) } });
        foreach (var signed in new[] { altered, other.Description.ToByteArray() })
        {
            var a = OperatorKeys.Approve(seed, signed);
            var e = await Assert.ThrowsAsync<RpcException>(async () => await Api.Requests.ApproveAsync(new ApproveRequest
            {
                Id = record.Id, Key = ByteString.CopyFrom(a.Key), Signature = ByteString.CopyFrom(a.Signature),
            }));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("approver 'alice' does not verify", e.Status.Detail);
        }
        // A valid signature with one bit flipped.
        var good = OperatorKeys.Approve(seed, record.Description.Span);
        var flipped = (byte[])good.Signature.Clone();
        flipped[5] ^= 0x80;
        var f = await Assert.ThrowsAsync<RpcException>(async () => await Api.Requests.ApproveAsync(new ApproveRequest
        {
            Id = record.Id, Key = ByteString.CopyFrom(good.Key), Signature = ByteString.CopyFrom(flipped),
        }));
        Assert.Contains("tampered", f.Status.Detail);
        var now = await Api.Requests.ShowAsync(new RequestRef { Id = record.Id });
        Assert.Equal("awaiting-approval", now.Status);
        Assert.Empty(now.Approvals);

        // The real ones still work.
        var done = await Api.Approve(await Api.Approve(now, cluster.Alice), cluster.Bob);
        Assert.True(done.Status == "done", done.Error);
        Checks.Verifies(done.Result.Signature, wallet.PublicKey);
    }

    [Fact]
    public async Task An_expired_request_takes_no_approval_and_runs_nothing()
    {
        var wallet = await Wallet(await Quorum());
        var record = await Api.Requests.SubmitAsync(new ActionSpec
        {
            Sign = new SignRequest { WalletId = wallet.WalletId, Message = ByteString.CopyFrom([9]) }, LifetimeSeconds = 1,
        });
        var expires = DateTimeOffset.Parse(record.Expires);
        while (DateTimeOffset.UtcNow <= expires.AddMilliseconds(200)) await Task.Delay(200);
        var e = await Assert.ThrowsAsync<RpcException>(() => Api.Approve(record, cluster.Alice));
        Assert.Contains("expired", e.Status.Detail);
        var now = await Api.Requests.ShowAsync(new RequestRef { Id = record.Id });
        Assert.Equal("expired", now.Status);
        Assert.Empty(now.Approvals);
        Assert.Contains((await cluster.Ok("log"))["entries"]!.AsArray(), x => x!["kind"]!.GetValue<string>() == "request.expired" && x["subject"]!.GetValue<string>() == record.Id);
    }

    [Fact]
    public async Task A_request_whose_wallets_moved_on_fails_asking_for_a_new_one()
    {
        var quorum = await Quorum();
        var wallet = await Wallet(quorum);
        var refresh = new ActionSpec { Reshare = new Rpc.Operations.ReshareSpec { Quorum = quorum, Reason = "security-policy" } };
        var first = await Api.Submit(refresh, cluster.Alice);
        Assert.Equal("awaiting-approval", first.Status);
        Assert.Equal("refresh", first.Action);
        var second = await Api.Submit(refresh, cluster.Alice, cluster.Bob);
        Assert.True(second.Status == "done", second.Error);
        Assert.Equal(1ul, (await Api.Wallets(quorum))[0].Epoch);

        var late = await Api.Approve(first, cluster.Bob);
        Assert.Equal("failed", late.Status);
        Assert.Contains("submit a new request", late.Error);
        Assert.Contains("epoch", late.Error);
        Assert.Equal(1ul, (await Api.Wallets(quorum))[0].Epoch);
        await Checks.SettledAsync(Api, quorum);
    }

    [Fact]
    public async Task The_policy_changes_only_with_the_current_approvers_and_then_binds_every_node()
    {
        var keys = cluster.Keys;
        var three = $"alice={keys["alice"]},bob={keys["bob"]},carol={keys["carol"]}";
        // Carol is not an approver yet: her approval of her own admission is refused.
        Assert.Contains("not an approver the nodes pin", await cluster.Fails("governance", "set", "--approvers", three, "--approvals", "2", "--approve-with", $"{cluster.Carol},{cluster.Alice}"));
        var before = await cluster.Ok("governance", "show");
        Assert.Equal(0ul, before["policy"]!["serial"]!.GetValue<ulong>());

        var changed = await cluster.Ok("governance", "set", "--approvers", three, "--approvals", "2", "--approve-with", $"{cluster.Alice},{cluster.Bob}");
        Assert.Equal(1ul, changed["serial"]!.GetValue<ulong>());
        Assert.Equal(["cs1", "cs2", "cs3"], changed["updated"]!.AsArray().Select(n => n!.GetValue<string>()).Order());
        var after = await cluster.Ok("governance", "show");
        Assert.Equal(changed["digest"]!.GetValue<string>(), after["digest"]!.GetValue<string>());
        Assert.All(after["nodes"]!.AsArray(), n => Assert.Equal(changed["digest"]!.GetValue<string>(), n!["digest"]!.GetValue<string>()));
        Assert.Equal(3, after["policy"]!["approvers"]!.AsArray().Count);

        // Carol now counts: with alice she can sign.
        var wallet = await Wallet(await Quorum());
        var signed = await cluster.Ok("sign", "--wallet", wallet.WalletId, "--message", "aa", "--approve-with", $"{cluster.Carol},{cluster.Alice}");
        Assert.Equal(["alice", "carol"], signed["approvedBy"]!.AsArray().Select(a => a!.GetValue<string>()).Order());
    }
}
