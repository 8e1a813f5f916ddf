using System.Text;
using Rotor.Protocols.Governance;
using static Rotor.Protocols.Tests.Governance.GovernanceTestData;

namespace Rotor.Protocols.Tests.Governance;

/// <summary>The canonical description operators sign: one encoding per description, and nothing else decodes.</summary>
public class ActionRequestTests
{
    private static ApprovalFault Fault(byte[] bytes) => Refused(() => ActionRequest.Decode(bytes)).Fault;

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Every_field_round_trips_and_lists_are_encoded_sorted()
    {
        var r = Full();
        var bytes = r.Encode();
        var back = ActionRequest.Decode(bytes);
        Assert.Equal(bytes, back.Encode());
        Assert.Equal(r.Action, back.Action);
        Assert.Equal(r.RequestId, back.RequestId);
        Assert.Equal(r.Expires, back.Expires);
        Assert.Equal(r.Quorum, back.Quorum);
        Assert.Equal(r.Scheme, back.Scheme);
        Assert.Equal(r.Count, back.Count);
        Assert.Equal(r.OldThreshold, back.OldThreshold);
        Assert.Equal(r.NewThreshold, back.NewThreshold);
        Assert.Equal(r.Reason, back.Reason);
        Assert.Equal(r.Note, back.Note);
        Assert.Equal(r.Message, back.Message);
        Assert.Equal(r.Path, back.Path);
        Assert.Equal(r.BackupRecipient, back.BackupRecipient);
        Assert.Equal(r.RepairTarget, back.RepairTarget);
        Assert.Equal(r.Policy, back.Policy);
        Assert.Equal(r.Schedule, back.Schedule);
        Assert.Equal(r.Wallets.OrderBy(w => w.KeyId, StringComparer.Ordinal), back.Wallets);
        Assert.Equal(r.OldMembers.OrderBy(m => m.Index), back.OldMembers);
        Assert.Equal(r.NewMembers.OrderBy(m => m.Index), back.NewMembers);
        Assert.Equal(r.Nodes.Order(StringComparer.Ordinal), back.Nodes);
        // Listing the same things in another order is the same description, byte for byte.
        var shuffled = r with { Wallets = [.. r.Wallets.Reverse()], NewMembers = [.. r.NewMembers.Reverse()], Nodes = [.. r.Nodes.Reverse()] };
        Assert.Equal(bytes, shuffled.Encode());
        Assert.Equal(r.Digest(), shuffled.Digest());
        Assert.StartsWith("{\"domain\":\"rotor/action/v1\",\"action\":\"restructure\",", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void A_minimal_description_round_trips_with_every_absent_field_null_or_empty()
    {
        var r = new ActionRequest { Action = Actions.Restore, RequestId = ActionRequest.NewRequestId(), Expires = Now, Nodes = ["cs1"] };
        var text = Encoding.UTF8.GetString(r.Encode());
        Assert.Contains("\"quorum\":null", text);
        Assert.Contains("\"wallets\":[]", text);
        Assert.Contains("\"policy\":null", text);
        Assert.Equal(r.Encode(), ActionRequest.Decode(r.Encode()).Encode());
    }

    [Fact]
    public void Whitespace_is_not_canonical()
    {
        var text = Encoding.UTF8.GetString(Full().Encode());
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(" " + text)));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text + "\n")));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace("\"action\":", "\"action\": "))));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(",\"requestId\"", ", \"requestId\""))));
        var pretty = System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(text).RootElement, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(pretty)));
    }

    [Fact]
    public void Reordered_fields_unsorted_lists_and_duplicates_are_not_canonical()
    {
        var r = Full();
        var text = Encoding.UTF8.GetString(r.Encode());
        // Two top-level fields swapped.
        var quorum = "\"quorum\":\"treasury\",";
        var scheme = "\"scheme\":\"ed25519\",";
        Assert.Contains(quorum + scheme, text);
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(quorum + scheme, scheme + quorum))));
        // A member's fields reordered.
        var m = r.NewMembers.Single(x => x.Name == "cs4");
        var canonicalMember = $"{{\"name\":\"cs4\",\"index\":4,\"identity\":\"{m.Identity}\"}}";
        Assert.Contains(canonicalMember, text);
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(canonicalMember, $"{{\"index\":4,\"name\":\"cs4\",\"identity\":\"{m.Identity}\"}}"))));
        // A list out of its canonical order.
        Assert.Contains("\"nodes\":[\"cs1\",\"cs2\"]", text);
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace("\"nodes\":[\"cs1\",\"cs2\"]", "\"nodes\":[\"cs2\",\"cs1\"]"))));
        // A field given twice (JSON readers disagree on which one wins).
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(quorum, quorum + "\"quorum\":\"other\","))));
        // A field left out, and one added.
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(quorum, ""))));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(quorum, quorum + "\"extra\":1,"))));
        // A number written another way, a string escaped another way.
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace("\"count\":3", "\"count\":3.0"))));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace("\"treasury\"", "\"tr\\u0065asury\""))));
    }

    [Fact]
    public void Upper_case_hex_and_other_request_id_forms_are_refused()
    {
        var r = Full();
        var text = Encoding.UTF8.GetString(r.Encode());
        var upper = Fault(Utf8(text.Replace(r.RequestId, r.RequestId.ToUpperInvariant())));
        Assert.Equal(ApprovalFault.Malformed, upper);
        Assert.Contains("lower-case", Refused(() => ActionRequest.Decode(Utf8(text.Replace(r.RequestId, r.RequestId.ToUpperInvariant())))).Message);
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(r.RequestId, r.RequestId[..30]))));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace(r.RequestId, "zz" + r.RequestId[2..]))));
        // Keys inside an embedded policy follow the policy's rule (64 lower-case hex digits).
        var key = r.Policy!.Approvers[0].Key;
        Assert.Equal(ApprovalFault.InvalidPolicy, Fault(Utf8(text.Replace(key, key.ToUpperInvariant()))));
    }

    [Fact]
    public void An_upper_case_message_digest_decodes_but_never_matches_a_message()
    {
        // The digest is compared as text with the digest of the message the node is asked to sign (lower case).
        var r = Sign() with { Message = new ApprovedMessage(ApprovedMessage.Of("pay 5"u8).Sha256.ToUpperInvariant(), 5) };
        var back = ActionRequest.Decode(r.Encode());
        Assert.Equal(ApprovalFault.Mismatched, Refused(() => ActionRequest.Expect("message", back.Message, ApprovedMessage.Of("pay 5"u8))).Fault);
    }

    [Fact]
    public void Other_malformed_descriptions_are_refused_naming_why()
    {
        var text = Encoding.UTF8.GetString(Sign().Encode());
        Assert.Equal(ApprovalFault.Missing, Fault([]));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8("not json")));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8("[]")));
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace("rotor/action/v1", "rotor/action/v2"))));
        Assert.Contains("unknown action", Refused(() => ActionRequest.Decode(Utf8(text.Replace("\"action\":\"sign\"", "\"action\":\"steal\"")))).Message);
        Assert.Equal(ApprovalFault.Malformed, Fault(Utf8(text.Replace("\"expires\":\"", "\"expires\":\"x"))));
        Assert.Equal(ApprovalFault.Malformed, Fault(new byte[ActionRequest.MaxLength + 1]));
        Assert.Equal(ApprovalFault.Malformed, Fault([.. Encoding.UTF8.GetBytes(text), 0]));
    }

    [Fact]
    public void Expect_names_the_field_and_both_values()
    {
        var e = Refused(() => ActionRequest.Expect("new threshold", 2, 1));
        Assert.Equal(ApprovalFault.Mismatched, e.Fault);
        Assert.Contains("new threshold is 2, the request's is 1", e.Message);
        ActionRequest.ExpectSet("wallets", ["b", "a"], ["a", "b"]);
        Assert.Equal(ApprovalFault.Mismatched, Refused(() => ActionRequest.ExpectSet("wallets", ["a"], ["a", "b"])).Fault);
        var m = Member("cs1", 1);
        ActionRequest.ExpectMembers("members", [m], [m with { }]);
        Assert.Equal(ApprovalFault.Mismatched, Refused(() => ActionRequest.ExpectMembers("members", [m], [m with { Identity = Hex(32) }])).Fault);
        Assert.Equal(ApprovalFault.Mismatched, Refused(() => ActionRequest.ExpectMembers("members", [m], [m with { Index = 2 }])).Fault);
    }

    [Fact]
    public void Every_fault_has_a_word_in_the_message()
    {
        foreach (var f in Enum.GetValues<ApprovalFault>())
        {
            Assert.StartsWith($"approval {ApprovalException.Describe(f)}: ", new ApprovalException(f, "x").Message);
        }
        Assert.Equal(["missing", "malformed", "insufficient", "expired", "replayed", "mismatched", "bad signature", "invalid policy"],
            Enum.GetValues<ApprovalFault>().Select(ApprovalException.Describe));
    }
}
