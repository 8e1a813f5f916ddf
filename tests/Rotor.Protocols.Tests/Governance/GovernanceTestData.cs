using System.Security.Cryptography;
using Rotor.Protocols.Governance;

namespace Rotor.Protocols.Tests.Governance;

/// <summary>Keys, policies and descriptions for the governance tests.</summary>
internal static class GovernanceTestData
{
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_790_000_000);

    public sealed record Key(string Name, byte[] Seed)
    {
        public string Public => OperatorKeys.PublicKeyOf(Seed);
        public ApprovalSignature Sign(byte[] description) => OperatorKeys.Approve(Seed, description);
    }

    public static Key NewKey(string name) => new(name, RandomNumberGenerator.GetBytes(32));

    public static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    public static ApprovedMember Member(string name, ulong index) => new(name, index, Hex(32));

    /// <summary>A description with every field set (not one a node would accept: the point is the encoding).</summary>
    public static ActionRequest Full() => new()
    {
        Action = Actions.Restructure,
        RequestId = ActionRequest.NewRequestId(),
        Expires = Now.AddHours(1),
        Quorum = "treasury",
        Scheme = "ed25519",
        Wallets = [new ApprovedWallet("ed25519-0000000000bb", 7), new ApprovedWallet("ed25519-0000000000aa", null)],
        Count = 3,
        OldThreshold = 2,
        OldMembers = [Member("cs3", 3), Member("cs1", 1), Member("cs2", 2)],
        NewThreshold = 3,
        NewMembers = [Member("cs4", 4), Member("cs1", 1), Member("cs2", 2)],
        Reason = "hardware \"rotation\" \\ ünïcødé € <&>",
        Note = "line one\nline two\ttab",
        Message = ApprovedMessage.Of("pay 5"u8),
        Path = "m/44'/0'/0'",
        BackupRecipient = Hex(32),
        Nodes = ["cs2", "cs1"],
        RepairTarget = Member("cs3", 3),
        Policy = GovernancePolicy.Uniform([new Approver("alice", Hex(32)), new Approver("bob", Hex(32))], 2),
        Schedule = "every 90 days",
    };

    /// <summary>A signing description for quorum <paramref name="quorum"/>.</summary>
    public static ActionRequest Sign(string quorum = "treasury", DateTimeOffset? expires = null) => new()
    {
        Action = Actions.Sign,
        RequestId = ActionRequest.NewRequestId(),
        Expires = expires ?? Now.AddHours(1),
        Quorum = quorum,
        Scheme = "ed25519",
        Wallets = [new ApprovedWallet("ed25519-0000000000aa", null)],
        Message = ApprovedMessage.Of("pay 5"u8),
    };

    public static Authorization Approve(ActionRequest request, params Key[] keys)
    {
        var d = request.Encode();
        return new Authorization(d, keys.Select(k => k.Sign(d)).ToList());
    }

    public static GovernancePolicy Policy(int approvals, params Key[] approvers) =>
        GovernancePolicy.Uniform(approvers.Select(a => new Approver(a.Name, a.Public)).ToList(), approvals);

    /// <summary>Runs <paramref name="call"/> and returns the fault it was refused with.</summary>
    public static ApprovalException Refused(Action call) => Assert.Throws<ApprovalException>(call);
}
