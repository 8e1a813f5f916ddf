using Rotor.Protocols.Governance;
using static Rotor.Protocols.Tests.Governance.GovernanceTestData;

namespace Rotor.Protocols.Tests.Governance;

/// <summary>
/// <see cref="ApprovalVerifier"/>: every refusal (<see cref="ApprovalFault"/>) and what passes. Replayed is the
/// node's ledger (NodeGovernance.Consume), shown by the malicious-coordinator suite (A_signing_approval_used_twice...).
/// </summary>
public class ApprovalVerifierTests
{
    private static readonly Key Alice = NewKey("alice"), Bob = NewKey("bob"), Carol = NewKey("carol");

    private static ApprovalException Fault(GovernancePolicy policy, Authorization? a, DateTimeOffset? now = null, params string[] actions) =>
        Refused(() => ApprovalVerifier.Verify(policy, a, now ?? Now, actions.Length == 0 ? [Actions.Sign] : actions));

    [Fact]
    public void A_valid_approval_passes_and_names_its_approvers()
    {
        var v = ApprovalVerifier.Verify(Policy(2, Alice, Bob, Carol), Approve(Sign(), Carol, Alice), Now, Actions.Sign);
        Assert.Equal(["carol", "alice"], v.Approvers);
        Assert.Null(v.ApiClient);
        Assert.Equal(Actions.Sign, v.Request.Action);
    }

    [Fact]
    public void Missing()
    {
        Assert.Equal(ApprovalFault.Missing, Fault(Policy(1, Alice), null).Fault);
        Assert.Equal(ApprovalFault.Missing, Fault(Policy(1, Alice), new Authorization([], [])).Fault);
        Assert.Contains("sign needs approvals", Fault(Policy(1, Alice), null).Message);
    }

    [Fact]
    public void Malformed()
    {
        var d = Sign().Encode();
        Assert.Equal(ApprovalFault.Malformed, Fault(Policy(1, Alice), new Authorization([.. d, (byte)' '], [Alice.Sign(d)])).Fault);
    }

    [Fact]
    public void Insufficient_counts_distinct_pinned_approvers_only()
    {
        var policy = Policy(2, Alice, Bob, Carol);
        var request = Sign();
        Assert.Equal(ApprovalFault.Insufficient, Fault(policy, Approve(request)).Fault);
        var one = Fault(policy, Approve(request, Alice));
        Assert.Equal(ApprovalFault.Insufficient, one.Fault);
        Assert.Contains("needs 2 approvals", one.Message);
        Assert.Contains("has 1 (alice)", one.Message);
        // The same approver twice is one approval.
        Assert.Equal(ApprovalFault.Insufficient, Fault(policy, Approve(request, Alice, Alice)).Fault);
        // Signatures by keys the policy does not pin count for nothing and are said to be there.
        var stranger = Fault(policy, Approve(request, Alice, NewKey("mallory"), NewKey("node identity")));
        Assert.Equal(ApprovalFault.Insufficient, stranger.Fault);
        Assert.Contains("ignored signatures by keys this policy does not pin", stranger.Message);
        ApprovalVerifier.Verify(policy, Approve(request, Alice, NewKey("mallory"), Bob), Now, Actions.Sign);
    }

    [Fact]
    public void Per_class_counts_apply()
    {
        var policy = Policy(1, Alice, Bob, Carol) with
        {
            Approvals = Actions.Classes.ToDictionary(c => c, c => c == ActionClass.Restructure ? 3 : 1),
        };
        policy.Validated();
        var restructure = Full() with { Expires = Now.AddHours(1) };
        Assert.Equal(ApprovalFault.Insufficient, Fault(policy, Approve(restructure, Alice, Bob), actions: Actions.Restructure).Fault);
        ApprovalVerifier.Verify(policy, Approve(restructure, Alice, Bob, Carol), Now, Actions.Restructure);
        ApprovalVerifier.Verify(policy, Approve(Sign(), Bob), Now, Actions.Sign);
        // A rotation policy is counted as a refresh.
        var rotation = new ActionRequest { Action = Actions.RotationPolicy, RequestId = ActionRequest.NewRequestId(), Expires = Now.AddDays(1), Quorum = "q" };
        Assert.Equal(ActionClass.Refresh, rotation.Class);
    }

    [Fact]
    public void Expired_at_and_after_the_expiry()
    {
        var request = Sign(expires: Now);
        var a = Approve(request, Alice);
        Assert.Equal(ApprovalFault.Expired, Fault(Policy(1, Alice), a, Now).Fault);
        Assert.Equal(ApprovalFault.Expired, Fault(Policy(1, Alice), a, Now.AddDays(30)).Fault);
        Assert.Contains(request.RequestId, Fault(Policy(1, Alice), a, Now).Message);
        ApprovalVerifier.Verify(Policy(1, Alice), a, Now.AddSeconds(-1), Actions.Sign);
    }

    [Fact]
    public void Mismatched_action()
    {
        var e = Fault(Policy(1, Alice), Approve(Sign(), Alice), actions: [Actions.Refresh, Actions.Restructure]);
        Assert.Equal(ApprovalFault.Mismatched, e.Fault);
        Assert.Contains("the approval is for 'sign', not 'refresh' or 'restructure'", e.Message);
    }

    [Fact]
    public void Bad_signature_names_the_approver()
    {
        var request = Sign();
        var d = request.Encode();
        var good = Alice.Sign(d);
        var flipped = good.Signature.ToArray();
        flipped[0] ^= 1;
        var e = Fault(Policy(1, Alice), new Authorization(d, [new ApprovalSignature(good.Key, flipped)]));
        Assert.Equal(ApprovalFault.BadSignature, e.Fault);
        Assert.Contains("approver 'alice'", e.Message);
        // Alice's signature over another description.
        var other = Alice.Sign(Sign().Encode());
        Assert.Equal(ApprovalFault.BadSignature, Fault(Policy(1, Alice), new Authorization(d, [other])).Fault);
        // A signature without the domain prefix (Alice signed the bare bytes for something else).
        var bare = NSec.Cryptography.SignatureAlgorithm.Ed25519.Sign(
            NSec.Cryptography.Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, Alice.Seed, NSec.Cryptography.KeyBlobFormat.RawPrivateKey), d);
        Assert.Equal(ApprovalFault.BadSignature, Fault(Policy(1, Alice), new Authorization(d, [new ApprovalSignature(good.Key, bare)])).Fault);
        // One bad signature refuses even when enough good ones are there.
        Assert.Equal(ApprovalFault.BadSignature, Fault(Policy(1, Alice, Bob), new Authorization(d, [Bob.Sign(d), new ApprovalSignature(good.Key, flipped)])).Fault);
    }

    // ------------------------------------------------------------------ API clients

    private static GovernancePolicy WithClient(Key client, params string[] quorums) =>
        Policy(2, Alice, Bob) with { ApiClients = [new ApiClient("engine", client.Public, quorums)] };

    [Fact]
    public void An_api_client_alone_authorises_signing_in_its_quorums()
    {
        var engine = NewKey("engine");
        var v = ApprovalVerifier.Verify(WithClient(engine, "hot"), Approve(Sign("hot"), engine), Now, Actions.Sign);
        Assert.Equal("engine", v.ApiClient);
        Assert.Empty(v.Approvers);
        // No quorums listed: every quorum.
        ApprovalVerifier.Verify(WithClient(engine), Approve(Sign("cold"), engine), Now, Actions.Sign);
    }

    [Fact]
    public void An_api_client_is_refused_outside_its_quorums()
    {
        var engine = NewKey("engine");
        var e = Fault(WithClient(engine, "hot"), Approve(Sign("cold"), engine));
        Assert.Equal(ApprovalFault.Mismatched, e.Fault);
        Assert.Contains("api client 'engine' may sign for quorums [hot], not 'cold'", e.Message);
        Assert.Equal(ApprovalFault.Mismatched, Fault(WithClient(engine, "hot"), Approve(Sign() with { Quorum = null }, engine)).Fault);
    }

    [Fact]
    public void An_api_client_authorises_nothing_but_signing()
    {
        var engine = NewKey("engine");
        var policy = WithClient(engine);
        foreach (var action in Actions.All.Where(a => a != Actions.Sign))
        {
            var request = new ActionRequest { Action = action, RequestId = ActionRequest.NewRequestId(), Expires = Now.AddHours(1), Quorum = "hot" };
            var e = Fault(policy, Approve(request, engine), actions: action);
            Assert.Equal(ApprovalFault.Insufficient, e.Fault);
            Assert.Contains("not pin", e.Message);
        }
        // A bad signature under the client key is named as the client's.
        var d = Sign("hot").Encode();
        var sig = engine.Sign(d);
        sig.Signature[5] ^= 2;
        var bad = Fault(policy, new Authorization(d, [sig]));
        Assert.Equal(ApprovalFault.BadSignature, bad.Fault);
        Assert.Contains("api client 'engine'", bad.Message);
    }
}
