using Rotor.Node.Sessions;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Authorization = Rotor.Rpc.Node.Authorization;
using Rotor.Rpc.NodeOps;

namespace Rotor.Node.Governance;

/// <summary>What each action's approval must say, compared with what the node is asked to do (docs/architecture.md, "Approvals").</summary>
public sealed partial class NodeGovernance
{
    /// <summary>A key generation: quorum, scheme, number of keys, threshold and members with their certified identities.</summary>
    public VerifiedAction CheckDkg(DkgParams p, Authorization? authorization, SessionParties parties)
    {
        var v = Verify(authorization, Actions.CreateWallets);
        var r = v.Request;
        RequireQuorum(r);
        ActionRequest.Expect("scheme", r.Scheme, p.Scheme);
        ActionRequest.Expect("number of wallets", r.Count, p.KeyIds.Count);
        ActionRequest.Expect("threshold", r.NewThreshold, (int)p.Threshold);
        ActionRequest.ExpectMembers("members", r.NewMembers, Members(p.Parties, parties));
        Consume(r);
        RecordQuorum(p.KeyIds, r.Quorum!);
        return v;
    }

    /// <summary>A signature: the wallet, its quorum and scheme, and the message (by its SHA-256 and length). Spent when the share is made.</summary>
    public VerifiedAction CheckSign(SignParams p, Authorization? authorization, string scheme)
    {
        var v = Verify(authorization, Actions.Sign);
        var r = v.Request;
        ActionRequest.ExpectSet("wallets", r.Wallets.Select(Text), [Text(new ApprovedWallet(p.KeyId, null))]);
        ActionRequest.Expect("quorum", r.Quorum, QuorumOf(p.KeyId));
        ActionRequest.Expect("scheme", r.Scheme, scheme);
        ActionRequest.Expect("message", r.Message, ApprovedMessage.Of(p.Message.Span));
        // The path the node derives its child share for, canonical (m/0/7); null for the root key.
        var path = string.IsNullOrEmpty(p.Path) ? Rotor.Protocols.Keys.Hd.DerivationPath.Root : Rotor.Protocols.Keys.Hd.DerivationPath.Parse(p.Path);
        ActionRequest.Expect("derivation path", r.Path, path.IsRoot ? null : path.ToString());
        return v;
    }

    /// <summary>
    /// A reshare: a refresh or restructure approved as such (wallets at their old epochs, old and new members and
    /// thresholds), or a refresh under an approved rotation policy for the wallets' quorum. A new holder records the
    /// quorum of wallets it did not hold.
    /// </summary>
    public VerifiedAction CheckReshare(ReshareParams p, Authorization? authorization, SessionParties parties, bool isNewHolder)
    {
        var v = Verify(authorization, Actions.Refresh, Actions.Restructure, Actions.RotationPolicy);
        var r = v.Request;
        RequireQuorum(r);
        var oldSets = p.Wallets.Select(w => (Threshold: (int)w.Threshold, Members: w.VerifyingShares.Keys.Order().ToArray())).ToList();
        var (oldThreshold, oldMembers) = oldSets[0];
        if (oldSets.Any(s => s.Threshold != oldThreshold || !s.Members.SequenceEqual(oldMembers)))
            throw new ApprovalException(ApprovalFault.Mismatched, "the reshare's wallets are held by different member sets; an approval covers one");
        var newMembers = p.NewMembers.Select(m => m.Index).Order().ToArray();
        var refresh = newMembers.SequenceEqual(oldMembers) && p.NewThreshold == oldThreshold;
        foreach (var w in p.Wallets)
        {
            var recorded = QuorumOf(w.KeyId);
            if (recorded is not null) ActionRequest.Expect($"quorum (wallet {w.KeyId})", r.Quorum, recorded);
            else if (!isNewHolder || r.Action == Actions.RotationPolicy)
                throw new ApprovalException(ApprovalFault.Mismatched, $"node '{node.Name}' has no record that wallet {w.KeyId} belongs to quorum '{r.Quorum}'");
        }
        if (r.Action == Actions.RotationPolicy)
        {
            if (!refresh)
                throw new ApprovalException(ApprovalFault.Mismatched, $"a rotation policy allows refreshes only; this reshare moves the key to members [{string.Join(", ", newMembers)}] with threshold {p.NewThreshold} (from [{string.Join(", ", oldMembers)}], {oldThreshold})");
            if (r.Wallets.Count > 0) throw new ApprovalException(ApprovalFault.Malformed, "a rotation policy names no wallets");
        }
        else
        {
            if (r.Action == Actions.Refresh && !refresh)
                throw new ApprovalException(ApprovalFault.Mismatched, $"the approval is for a refresh, but this reshare moves the key to members [{string.Join(", ", newMembers)}] with threshold {p.NewThreshold}");
            ActionRequest.ExpectSet("wallets", r.Wallets.Select(Text), p.Wallets.Select(w => Text(new ApprovedWallet(w.KeyId, w.Epoch))));
            ActionRequest.Expect("old threshold", r.OldThreshold, oldThreshold);
            ActionRequest.ExpectSet("old member identifiers", r.OldMembers.Select(m => m.Index.ToString()), oldMembers.Select(m => m.ToString()));
            ActionRequest.Expect("new threshold", r.NewThreshold, (int)p.NewThreshold);
            ActionRequest.ExpectMembers("new members", r.NewMembers, Members(p.NewMembers, parties));
            Consume(r);
        }
        if (isNewHolder) RecordQuorum(p.Wallets.Where(w => QuorumOf(w.KeyId) is null).Select(w => w.KeyId), r.Quorum!);
        return v;
    }

    /// <summary>A repair: the wallet at its epoch, and the target by name, identifier and certified identity.</summary>
    public VerifiedAction CheckRepair(RepairParams p, Authorization? authorization, SessionParties parties, bool isTarget)
    {
        var v = Verify(authorization, Actions.Repair);
        var r = v.Request;
        RequireQuorum(r);
        var recorded = QuorumOf(p.Current.KeyId);
        if (recorded is not null || !isTarget) ActionRequest.Expect("quorum", r.Quorum, recorded);
        ActionRequest.ExpectSet("wallets", r.Wallets.Select(Text), [Text(new ApprovedWallet(p.Current.KeyId, p.Current.Epoch))]);
        ActionRequest.Expect("repair target", r.RepairTarget, new ApprovedMember(p.Target.Name, p.Target.Index, IdentityOf(parties, p.Target.Name)));
        Consume(r);
        if (isTarget && recorded is null) RecordQuorum([p.Current.KeyId], r.Quorum!);
        return v;
    }

    /// <summary>A backup export from this node: the wallets (none: all), and the recipient, which the policy must pin.</summary>
    public VerifiedAction CheckBackup(NodeBackupRequest request)
    {
        var v = Verify(request.Authorization, Actions.BackupExport);
        var r = v.Request;
        RequireNode(r);
        ActionRequest.ExpectSet("wallets", r.Wallets.Select(Text), request.Wallets.Select(w => Text(new ApprovedWallet(w, null))));
        var recipient = request.LockCase == NodeBackupRequest.LockOneofCase.Recipient ? Convert.ToHexStringLower(request.Recipient.Span) : null;
        ActionRequest.Expect("backup recipient", r.BackupRecipient, recipient);
        if (recipient is not null && Policy.BackupRecipients.Count > 0 && !Policy.BackupRecipients.Contains(recipient))
            throw new ApprovalException(ApprovalFault.Mismatched, $"backup recipient {recipient} is not pinned on node '{node.Name}'");
        Consume(r);
        return v;
    }

    /// <summary>A restore onto this node.</summary>
    /// <param name="matches">The restore's own checks against what was approved (wallets and epochs); run before the
    /// approval is spent, so that a refused restore does not use it up.</param>
    public VerifiedAction CheckRestore(NodeRestoreRequest request, Action<ActionRequest> matches)
    {
        var v = Verify(request.Authorization, Actions.Restore);
        RequireNode(v.Request);
        ActionRequest.Expect("backup file", v.Request.BackupFile, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(request.File.Span)));
        matches(v.Request);
        Consume(v.Request);
        return v;
    }

    /// <summary>
    /// A member that joined a reshare late (the mailbox) records the wallets' quorum from the reshare's approval. The
    /// approval's signatures are checked under the pinned policy; its expiry and single use are not, since the
    /// reshare was certified by the confirmations of every other new member, each of which checked them in time.
    /// </summary>
    public void RecordQuorumOfCertifiedReshare(StartRequest start)
    {
        if (start.Authorization is not { } a || a.Description.IsEmpty) return;
        var described = ActionRequest.Decode(a.Description.Span);
        var v = ApprovalVerifier.Verify(Policy, ToCore(a), described.Expires.AddSeconds(-1), Actions.Refresh, Actions.Restructure, Actions.RotationPolicy);
        RecordQuorum(start.Reshare.Wallets.Where(w => QuorumOf(w.KeyId) is null).Select(w => w.KeyId), v.Request.Quorum!);
    }

    private void RequireNode(ActionRequest r)
    {
        if (!r.Nodes.Contains(node.Name))
            throw new ApprovalException(ApprovalFault.Mismatched, $"the approval covers nodes [{string.Join(", ", r.Nodes)}], not '{node.Name}'");
    }

    private static void RequireQuorum(ActionRequest r)
    {
        if (string.IsNullOrEmpty(r.Quorum)) throw new ApprovalException(ApprovalFault.Malformed, $"the {r.Action} approval names no quorum");
    }

    private static string Text(ApprovedWallet w) => w.Epoch is { } e ? $"{w.KeyId}@{e}" : w.KeyId;
}
