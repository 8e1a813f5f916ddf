using Grpc.Core;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Rpc.Sessions;
using Rotor.Rpc.NodeOps;

namespace Rotor.Node.Backups;

public sealed partial class NodeOperationsService
{
    /// <summary>
    /// Catches up on a reshare this node missed as an allowed-absent new member: rebuilds the reshare session from the
    /// certificate's start request, opens the dealers' envelopes (each sealed to this node and signed by its dealer),
    /// verifies every sub-share against its dealer's commitment and stores the new shards as pending, then commits them
    /// with the certificate — which checks that this node's transcript is the one the others confirmed — activating them
    /// and erasing the older epoch. When any check fails nothing is kept and the reply says why (the coordinator then
    /// repairs this node's shard from the others).
    /// </summary>
    public override async Task<CatchUpReply> CatchUp(CatchUpRequest request, ServerCallContext context)
    {
        var commit = request.Certificate ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "catch-up without a commit certificate"));
        var start = commit.Start;
        if (start?.Reshare is null || !start.Reshare.Absent.Contains(node.Name))
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"node '{node.Name}': reshare {commit.EventId} did not leave this node out; nothing to catch up"));
        // The event's wallets at their new epochs, from the start request the certificate is verified against (never
        // CommitRequest.wallets, which no signature covers).
        var wallets = start.Reshare.Wallets.GroupBy(w => w.KeyId).ToDictionary(g => g.Key, g => g.Max(w => w.Epoch) + 1);
        if (node.WithVault(v => wallets.All(w => v.GetActive(w.Key)?.Epoch == w.Value)))
            return Reply(true, "");
        // A catch-up cut between storing its pending shards and committing them (a crash, a lost reply) left this node's
        // own pending shards of this very event: it finishes the commit with the certificate instead of refusing.
        var stored = node.WithVault(v => v.PendingEvents()).FirstOrDefault(e => e.EventId == commit.EventId);
        if (stored is not null) return await FinishCatchUp(commit, stored, context, wallets);
        try
        {
            using var session = new ReshareSession(node, start.Reshare, start.Nonce.Span);
            var inbound = request.Envelopes.Select(bytes =>
            {
                var envelope = Envelope.Decode(bytes.Span);
                return new PeerMessage(envelope.Sender, envelope.Label, envelope.Open(node.Identity, node.Name, session.Id, session.Parties.KeysOf));
            }).ToList();
            session.Step(inbound, []);
        }
        catch (Exception e) when (e is ProtocolException or SessionRefusedException or EnvelopeException or ArgumentException)
        {
            return Reply(false, e.Message);
        }
        try { await signer.Commit(commit, context); }
        catch (RpcException e)
        {
            node.WithVault(v => v.Discard(commit.EventId));
            return Reply(false, e.Status.Detail);
        }
        node.Governance.RecordQuorumOfCertifiedReshare(start);
        return CatchUpReplyOf(true, "", wallets);

        CatchUpReply Reply(bool activated, string problem) => CatchUpReplyOf(activated, problem, wallets);
    }

    private static CatchUpReply CatchUpReplyOf(bool activated, string problem, Dictionary<string, ulong> wallets)
    {
        var reply = new CatchUpReply { Activated = activated, Problem = problem };
        if (activated) reply.Wallets.AddRange(wallets.Select(w => new Rotor.Rpc.Node.WalletEpoch { KeyId = w.Key, Epoch = w.Value }));
        return reply;
    }

    /// <summary>
    /// Finishes a catch-up whose pending shards this node already stored (it stopped before committing them). They must be
    /// of this event's session as this node rebuilds it from the certificate's start request; the certificate is verified
    /// (every new holder's signature, one transcript) before anything happens, and <see cref="SignerNodeService.Commit"/>
    /// then checks that it confirms the transcript stored with the pending shards before activating them and erasing the
    /// older epochs it allows. A certificate that does not verify changes nothing (the pending shards stay: settlement keeps
    /// its rules for them); a verified one that does not confirm this node's transcript proves that the pending shards can
    /// never commit, and they are discarded (the coordinator then repairs this node's shards from the others).
    /// </summary>
    private async Task<CatchUpReply> FinishCatchUp(Rotor.Rpc.Node.CommitRequest commit, PendingEvent stored, ServerCallContext context, Dictionary<string, ulong> wallets)
    {
        try
        {
            var sessionId = ReshareSession.SessionIdOf(node, commit.Start);
            if (!stored.SessionId.AsSpan().SequenceEqual(sessionId))
                return CatchUpReplyOf(false, $"node '{node.Name}' holds pending shards of reshare {commit.EventId} from another session than the certificate's start request: they stay until settled", wallets);
            ReshareSetup.VerifyCertificate(commit, party => node.Trust.NodeIdentity(party.Certificate.Span, party.Name));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return CatchUpReplyOf(false, e.Message, wallets);
        }
        try { await signer.Commit(commit, context); }
        catch (RpcException e)
        {
            node.WithVault(v => v.Discard(commit.EventId));
            return CatchUpReplyOf(false, e.Status.Detail, wallets);
        }
        node.Governance.RecordQuorumOfCertifiedReshare(commit.Start);
        return CatchUpReplyOf(true, "", wallets);
    }
}
