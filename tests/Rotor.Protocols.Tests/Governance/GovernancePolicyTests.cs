using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Rotor.Protocols.Governance;
using static Rotor.Protocols.Tests.Governance.GovernanceTestData;

namespace Rotor.Protocols.Tests.Governance;

/// <summary>The pinned policy: its shape, its canonical form.</summary>
public class GovernancePolicyTests
{
    private static readonly Approver A = new("alice", Hex(32)), B = new("bob", Hex(32));

    private static ApprovalException Invalid(Func<GovernancePolicy> make)
    {
        var e = Assert.Throws<ApprovalException>(() => make().Validated());
        Assert.Equal(ApprovalFault.InvalidPolicy, e.Fault);
        return e;
    }

    [Fact]
    public void Counts_outside_one_to_the_number_of_approvers_are_refused()
    {
        Assert.Contains("outside 1..2", Invalid(() => GovernancePolicy.Uniform([A, B], 3)).Message);
        Assert.Contains("outside 1..2", Invalid(() => GovernancePolicy.Uniform([A, B], 0)).Message);
        var one = GovernancePolicy.Uniform([A, B], 1);
        Assert.Contains("'repair' needs -1", Invalid(() => one with { Approvals = Actions.Classes.ToDictionary(c => c, c => c == ActionClass.Repair ? -1 : 1) }).Message);
        Assert.Contains("does not say how many approvals 'policy-change'",
            Invalid(() => one with { Approvals = Actions.Classes.Where(c => c != ActionClass.PolicyChange).ToDictionary(c => c, _ => 1) }).Message);
        GovernancePolicy.Uniform([A, B], 2);
    }

    [Fact]
    public void Duplicate_keys_or_names_no_approvers_and_malformed_keys_are_refused()
    {
        Assert.Contains("listed twice", Invalid(() => GovernancePolicy.Uniform([A, A with { Name = "alice2" }], 1)).Message);
        Assert.Contains("listed twice", Invalid(() => GovernancePolicy.Uniform([A, B with { Name = "alice" }], 1)).Message);
        Assert.Contains("at least one approver", Invalid(() => GovernancePolicy.Uniform([], 1)).Message);
        Invalid(() => GovernancePolicy.Uniform([A with { Key = A.Key.ToUpperInvariant() }], 1));
        Invalid(() => GovernancePolicy.Uniform([A with { Key = A.Key[..62] }], 1));
        Invalid(() => GovernancePolicy.Uniform([A with { Key = "zz" + A.Key[2..] }], 1));
        Invalid(() => GovernancePolicy.Uniform([A], 1) with { ApiClients = [new ApiClient("engine", "00", [])] });
        Invalid(() => GovernancePolicy.Uniform([A], 1, ["not hex"]));
    }

    [Fact]
    public void A_policy_round_trips_and_only_its_canonical_form_decodes()
    {
        var p = GovernancePolicy.Uniform([B, A], 2, [Hex(32), Hex(32)]) with { Serial = 7, ApiClients = [new ApiClient("engine", Hex(32), ["hot", "card"])] };
        var bytes = p.Encode();
        var back = GovernancePolicy.Decode(bytes);
        Assert.Equal(p, back);
        Assert.Equal(bytes, back.Encode());
        Assert.Equal(7UL, back.Serial);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Throws<ApprovalException>(() => GovernancePolicy.Decode(Encoding.UTF8.GetBytes(text + " ")));
        Assert.Throws<ApprovalException>(() => GovernancePolicy.Decode(Encoding.UTF8.GetBytes(text.Replace("\"serial\":7", "\"serial\":07"))));
        Assert.Throws<ApprovalException>(() => GovernancePolicy.Decode(Encoding.UTF8.GetBytes(text.Replace("rotor/policy/v1", "rotor/action/v1"))));
        Assert.Throws<ApprovalException>(() => GovernancePolicy.Decode("{}"u8));
        // Any order of the approvers is the same policy.
        Assert.Equal(p.Digest(), (p with { Approvers = [A, B] }).Digest());
    }
}

/// <summary>Random descriptions: they round-trip; any single-byte change of a description or a signature is refused.</summary>
public class ApprovalPropertyTests
{
    private static readonly Key Operator = NewKey("operator");
    private static readonly GovernancePolicy Pinned = Policy(1, Operator);

    private const string Chars = "abcxyzABC0189 -_.:/\"\\'\n\té€ü<>&{}[],";

    private static Gen<string> Text => Gen.Choose(0, 24).SelectMany(n => Gen.ArrayOf(Gen.Elements(Chars.ToCharArray()), n)).Select(a => new string(a));

    private static Gen<string?> Maybe(Gen<string> g) => Gen.Frequency((1, Gen.Constant<string?>(null)), (3, g.Select(s => (string?)s)));

    private static Gen<string> HexGen(int bytes) => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), bytes).Select(Convert.ToHexStringLower);

    private static Gen<ApprovedMember> MemberGen =>
        from name in Text
        from index in Gen.Choose(1, 1000)
        from id in HexGen(32)
        select new ApprovedMember(name, (ulong)index, id);

    private static Gen<ActionRequest> RequestGen =>
        from action in Gen.Elements(Actions.All.ToArray())
        from id in HexGen(16)
        from expires in Gen.Choose(1, int.MaxValue)
        from quorum in Maybe(Text)
        from scheme in Maybe(Gen.Elements("ed25519", "secp256k1", "bip340"))
        from wallets in Gen.ListOf(from k in Text from e in Gen.Frequency((1, Gen.Constant<ulong?>(null)), (2, Gen.Choose(0, int.MaxValue).Select(x => (ulong?)(ulong)x * 3)))
                                   select new ApprovedWallet(k, e))
        from count in Gen.Frequency((1, Gen.Constant<int?>(null)), (1, Gen.Choose(0, 100_000).Select(x => (int?)x)))
        from oldT in Gen.Frequency((1, Gen.Constant<int?>(null)), (1, Gen.Choose(1, 9).Select(x => (int?)x)))
        from oldMembers in Gen.ListOf(MemberGen)
        from newMembers in Gen.ListOf(MemberGen)
        from reason in Maybe(Text)
        from message in Gen.Frequency((1, Gen.Constant<ApprovedMessage?>(null)),
            (1, from h in HexGen(32) from len in Gen.Choose(0, int.MaxValue) select (ApprovedMessage?)new ApprovedMessage(h, len)))
        from recipient in Maybe(HexGen(32))
        from nodes in Gen.ListOf(Text)
        from target in Gen.Frequency((1, Gen.Constant<ApprovedMember?>(null)), (1, MemberGen.Select(m => (ApprovedMember?)m)))
        from schedule in Maybe(Text)
        select new ActionRequest
        {
            Action = action, RequestId = id, Expires = DateTimeOffset.FromUnixTimeSeconds(expires),
            Quorum = quorum, Scheme = scheme, Wallets = wallets.DistinctBy(w => w.KeyId).ToList(), Count = count,
            OldThreshold = oldT, OldMembers = oldMembers.DistinctBy(m => m.Index).ToList(), NewThreshold = oldT, NewMembers = newMembers.DistinctBy(m => m.Index).ToList(),
            Reason = reason, Note = reason is null ? null : reason + "!", Message = message, Path = null, BackupRecipient = recipient,
            Nodes = nodes, RepairTarget = target, Schedule = schedule,
        };

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property Random_descriptions_round_trip() => Prop.ForAll(RequestGen.ToArbitrary(), r =>
    {
        var bytes = r.Encode();
        var back = ActionRequest.Decode(bytes);
        return bytes.AsSpan().SequenceEqual(back.Encode()) && back.RequestId == r.RequestId && back.Action == r.Action && back.Expires == r.Expires
            && back.Quorum == r.Quorum && Equals(back.Message, r.Message) && Equals(back.RepairTarget, r.RepairTarget) && back.Nodes.Count == r.Nodes.Count;
    });

    /// <summary>A description (every action, far from expiry), a byte position in it or in the signature, and a non-zero XOR.</summary>
    private static Arbitrary<(ActionRequest Request, int Position, byte Xor)> Changes() =>
        (from r in RequestGen
         from p in Gen.Choose(0, int.MaxValue)
         from x in Gen.Choose(1, 255)
         select (r with { Expires = Now.AddDays(1) }, p, (byte)x)).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Any_single_byte_change_of_the_description_is_refused() => Prop.ForAll(Changes(), c =>
    {
        var d = c.Request.Encode();
        var sig = Operator.Sign(d);
        // Unchanged, it verifies (the control).
        ApprovalVerifier.Verify(Pinned, new Authorization(d, [sig]), Now, c.Request.Action);
        var changed = (byte[])d.Clone();
        changed[c.Position % changed.Length] ^= c.Xor;
        try
        {
            ApprovalVerifier.Verify(Pinned, new Authorization(changed, [sig]), Now, Actions.All.ToArray());
            return false;
        }
        catch (ApprovalException) { return true; }
    });

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Any_single_byte_change_of_the_signature_is_refused_as_a_bad_signature() => Prop.ForAll(Changes(), c =>
    {
        var d = c.Request.Encode();
        var sig = Operator.Sign(d);
        var changed = (byte[])sig.Signature.Clone();
        changed[c.Position % changed.Length] ^= c.Xor;
        try
        {
            ApprovalVerifier.Verify(Pinned, new Authorization(d, [new ApprovalSignature(sig.Key, changed)]), Now, c.Request.Action);
            return false;
        }
        catch (ApprovalException e) { return e.Fault == ApprovalFault.BadSignature; }
    });
}
