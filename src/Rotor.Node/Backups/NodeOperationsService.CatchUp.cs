using Grpc.Core;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Sessions;
using Rotor.Protocols;
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
        var wallets = commit.Wallets.ToDictionary(w => w.KeyId, w => w.Epoch);
        if (node.WithVault(v => wallets.All(w => v.GetActive(w.Key)?.Epoch == w.Value)))
            return Reply(true, "");
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
        return Reply(true, "");

        CatchUpReply Reply(bool activated, string problem)
        {
            var reply = new CatchUpReply { Activated = activated, Problem = problem };
            if (activated) reply.Wallets.AddRange(commit.Wallets);
            return reply;
        }
    }
}
