using Google.Protobuf;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Authorization = Rotor.Rpc.Node.Authorization;

namespace Rotor.Cli.Governance;

/// <summary>
/// Approvals a caller makes itself and sends with its request in one call: what a custody platform's transaction
/// engine does with its API client key to sign without a person in the loop (and what <c>rotor bench</c> does).
/// </summary>
public static class DirectApproval
{
    /// <summary>A "sign" description for one wallet and message, approved by every key in <paramref name="seeds"/>.</summary>
    public static Authorization Sign(IEnumerable<byte[]> seeds, string quorum, string scheme, string walletId, ReadOnlySpan<byte> message, TimeSpan lifetime)
    {
        var description = new ActionRequest
        {
            Action = Actions.Sign,
            RequestId = ActionRequest.NewRequestId(),
            Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, lifetime),
            Quorum = quorum,
            Scheme = scheme,
            Wallets = [new ApprovedWallet(walletId, null)],
            Message = ApprovedMessage.Of(message),
        }.Encode();
        var a = new Authorization { Description = ByteString.CopyFrom(description) };
        foreach (var seed in seeds)
        {
            var s = OperatorKeys.Approve(seed, description);
            a.Approvals.Add(new ApprovalSig { Key = ByteString.CopyFrom(s.Key), Signature = ByteString.CopyFrom(s.Signature) });
        }
        return a;
    }
}
