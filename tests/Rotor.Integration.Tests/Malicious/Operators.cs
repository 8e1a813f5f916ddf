using Authorization = Rotor.Rpc.Node.Authorization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Coordinator;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests.Malicious;

/// <summary>
/// A person holding an Ed25519 approval key: the cluster's operator (DIR/operator.key, the one key every node pins),
/// or anyone else (an attacker's own key, a node's identity key). Signs exactly the description it is given.
/// </summary>
public sealed class Approver(string name, byte[] seed)
{
    public string Name { get; } = name;

    public string PublicKey { get; } = OperatorKeys.PublicKeyOf(seed);

    /// <summary>The cluster's local operator key (as <c>rotor cluster up</c> wrote it: a plain, unsealed key file).</summary>
    public static Approver ClusterOperator(string dir)
    {
        var o = JsonNode.Parse(SecretFiles.Read(Path.Combine(dir, "operator.key")))!;
        var approver = new Approver("operator", Convert.FromHexString(o["seed"]!.GetValue<string>()));
        Assert.Equal(o["publicKey"]!.GetValue<string>(), approver.PublicKey);
        return approver;
    }

    /// <summary>A fresh key that no node pins.</summary>
    public static Approver Stranger(string name = "stranger") => new(name, RandomNumberGenerator.GetBytes(32));

    public ApprovalSignature Sign(byte[] description) => OperatorKeys.Approve(seed, description);

    /// <summary>The request's canonical description with this approver's signature, as it travels on the wire.</summary>
    public Authorization Approve(ActionRequest request) => Wire(request.Encode(), Sign(request.Encode()));

    public static Authorization Wire(byte[] description, params ApprovalSignature[] approvals)
    {
        var a = new Authorization { Description = ByteString.CopyFrom(description) };
        a.Approvals.AddRange(approvals.Select(s => new ApprovalSig { Key = ByteString.CopyFrom(s.Key), Signature = ByteString.CopyFrom(s.Signature) }));
        return a;
    }
}

/// <summary>
/// Descriptions of actions as an honest requester builds them from public data (the registry's members with their
/// certified identity keys, the wallets' current epochs). Each is a fresh request, valid for an hour unless told.
/// </summary>
public sealed class Requests(Registry registry)
{
    public static ActionRequest New(string action, TimeSpan? lifetime = null) => new()
    {
        Action = action,
        RequestId = ActionRequest.NewRequestId(),
        Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, lifetime ?? TimeSpan.FromHours(1)),
    };

    public ApprovedMember Member(string node, ulong? index = null)
    {
        var n = registry.FindNode(node)!;
        return new ApprovedMember(n.Name, index ?? n.Index, n.SigningKey);
    }

    public ActionRequest CreateWallets(string quorum, string scheme, int count = 1)
    {
        var q = registry.FindQuorum(quorum)!;
        return New(Actions.CreateWallets) with
        {
            Quorum = quorum, Scheme = scheme, Count = count, NewThreshold = q.Threshold, NewMembers = q.Members.Select(m => Member(m)).ToList(),
        };
    }

    public ActionRequest Sign(string walletId, byte[] message, TimeSpan? lifetime = null)
    {
        var w = registry.FindWallet(walletId)!;
        return New(Actions.Sign, lifetime) with
        {
            Quorum = w.Quorum, Scheme = w.Scheme, Wallets = [new ApprovedWallet(w.Id, null)], Message = ApprovedMessage.Of(message),
        };
    }

    /// <summary>A refresh or restructure of every wallet of the quorum to <paramref name="members"/> with <paramref name="threshold"/>.</summary>
    public ActionRequest Reshare(string action, string quorum, IReadOnlyList<string> members, int threshold)
    {
        var wallets = registry.ListWallets(quorum);
        var epoch = registry.FindEpoch(wallets[0].Id, wallets[0].Epoch)!;
        return New(action) with
        {
            Quorum = quorum,
            Wallets = wallets.Select(w => new ApprovedWallet(w.Id, w.Epoch)).ToList(),
            OldThreshold = epoch.Threshold,
            OldMembers = epoch.Members.Select(m => Member(m)).ToList(),
            NewThreshold = threshold,
            NewMembers = members.Select(m => Member(m)).ToList(),
            Reason = "test",
        };
    }

    public ActionRequest RotationPolicy(string quorum) => New(Actions.RotationPolicy, TimeSpan.FromDays(365)) with { Quorum = quorum, Schedule = "every 90 days" };

    public ActionRequest Repair(string walletId, string target, ulong? targetIndex = null)
    {
        var w = registry.FindWallet(walletId)!;
        return New(Actions.Repair) with { Quorum = w.Quorum, Wallets = [new ApprovedWallet(w.Id, w.Epoch)], RepairTarget = Member(target, targetIndex) };
    }

    public static ActionRequest BackupExport(IReadOnlyList<string> nodes, IReadOnlyList<string> wallets, byte[] recipient) =>
        New(Actions.BackupExport) with
        {
            Nodes = nodes, Wallets = wallets.Select(w => new ApprovedWallet(w, null)).ToList(), BackupRecipient = Convert.ToHexStringLower(recipient),
        };

    public static ActionRequest PolicyChange(GovernancePolicy policy) => New(Actions.PolicyChange) with { Policy = policy };
}

/// <summary>Assertions over a node's refusal.</summary>
public static class Refusal
{
    /// <summary>
    /// The node refused (PermissionDenied or FailedPrecondition), named itself, and the message names the failed check
    /// (<c>approval missing</c>, <c>approval insufficient</c>, ...) and everything in <paramref name="mentions"/>.
    /// </summary>
    public static string Check(RpcException e, string node, ApprovalFault fault, params string[] mentions)
    {
        Assert.True(e.StatusCode is StatusCode.PermissionDenied or StatusCode.FailedPrecondition, $"{e.StatusCode}: {e.Status.Detail}");
        var detail = e.Status.Detail;
        Assert.Contains($"node '{node}'", detail);
        Assert.Contains($"approval {ApprovalException.Describe(fault)}:", detail);
        foreach (var m in mentions) Assert.Contains(m, detail);
        return detail;
    }

    /// <summary>Every node in <paramref name="refusals"/> refused for <paramref name="fault"/>.</summary>
    public static void Everywhere(IReadOnlyDictionary<string, RpcException> refusals, IEnumerable<string> nodes, ApprovalFault fault, params string[] mentions)
    {
        Assert.Equal(nodes.Order(), refusals.Keys.Order());
        foreach (var (node, e) in refusals) Check(e, node, fault, mentions);
    }
}
