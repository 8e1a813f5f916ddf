using Google.Protobuf;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Rotor.Rpc.Tls;
using Authorization = Rotor.Rpc.Node.Authorization;

namespace Rotor.Node.Tests.Bindings;

/// <summary>
/// The operators of an in-process test cluster: one key, pinned by every node, that approves exactly what each start
/// request asks for (so that a test reaches the checks behind the approvals: bindings, certificates, transcripts).
/// </summary>
public sealed class TestApprovals(PeerTrust trust)
{
    public const string Quorum = "q";

    private readonly (byte[] Seed, string PublicKey) key = OperatorKeys.Create();

    public GovernancePolicy Policy => GovernancePolicy.Uniform([new Approver("tester", key.PublicKey)], 1);

    /// <summary>Puts on <paramref name="start"/> an approval of exactly what it asks (a copy; the original is unchanged).</summary>
    public StartRequest Approve(StartRequest start)
    {
        var approved = start.Clone();
        approved.Authorization = Sign(Describe(start));
        return approved;
    }

    public Authorization Sign(ActionRequest request)
    {
        var bytes = request.Encode();
        var s = OperatorKeys.Approve(key.Seed, bytes);
        var a = new Authorization { Description = ByteString.CopyFrom(bytes) };
        a.Approvals.Add(new ApprovalSig { Key = ByteString.CopyFrom(s.Key), Signature = ByteString.CopyFrom(s.Signature) });
        return a;
    }

    private ActionRequest Base(string action) => new()
    {
        Action = action, RequestId = ActionRequest.NewRequestId(), Expires = DateTimeOffset.UtcNow.AddHours(1).AddTicks(-(DateTimeOffset.UtcNow.Ticks % TimeSpan.TicksPerSecond)), Quorum = Quorum,
    };

    private ApprovedMember Member(Party p) =>
        new(p.Name, p.Index, Convert.ToHexStringLower(trust.NodeIdentity(p.Certificate.Span, p.Name).SigningKey));

    public ActionRequest Describe(StartRequest start) => start.KindCase switch
    {
        StartRequest.KindOneofCase.Dkg => Base(Actions.CreateWallets) with
        {
            Scheme = start.Dkg.Scheme, Count = start.Dkg.KeyIds.Count, NewThreshold = (int)start.Dkg.Threshold,
            NewMembers = start.Dkg.Parties.Select(Member).ToList(),
        },
        StartRequest.KindOneofCase.Reshare => Base(Actions.Restructure) with
        {
            Wallets = start.Reshare.Wallets.Select(w => new ApprovedWallet(w.KeyId, w.Epoch)).ToList(),
            OldThreshold = (int)start.Reshare.Wallets[0].Threshold,
            OldMembers = start.Reshare.Wallets[0].VerifyingShares.Keys.Select(i => new ApprovedMember($"#{i}", i, "")).ToList(),
            NewThreshold = (int)start.Reshare.NewThreshold,
            NewMembers = start.Reshare.NewMembers.Select(Member).ToList(),
        },
        StartRequest.KindOneofCase.Repair => Base(Actions.Repair) with
        {
            Wallets = [new ApprovedWallet(start.Repair.Current.KeyId, start.Repair.Current.Epoch)],
            RepairTarget = Member(start.Repair.Target),
        },
        StartRequest.KindOneofCase.Sign => Base(Actions.Sign) with
        {
            Scheme = null, Wallets = [new ApprovedWallet(start.Sign.KeyId, null)], Message = ApprovedMessage.Of(start.Sign.Message.Span),
            Path = start.Sign.Path.Length > 0 ? start.Sign.Path : null,
        },
        _ => throw new ArgumentException($"no approval for {start.KindCase}"),
    };
}
