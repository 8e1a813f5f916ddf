using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.Rpc.Node;
using Rotor.Rpc.Sessions;

namespace Rotor.Node.Sessions;

/// <summary>
/// A reshare event on this node (Rotor.Protocols.Resharing), as dealer, new holder or both. A dealer deals its
/// active shard of every wallet (round 1); a new holder verifies what every dealer sent, stores its new shards as
/// pending (one vault transaction, the old epoch stays active) and returns its confirmation signed with its
/// identity key. Activation happens only later, on a valid commit certificate (<see cref="SignerNodeService.Commit"/>).
/// </summary>
public sealed class ReshareSession : INodeSession, IHasParties
{
    private const string DealLabel = "reshare/deal", CommitmentItem = "commitment", SubShareItem = "sub-share";

    private readonly NodeState node;
    private readonly string eventId;
    private readonly IReadOnlyDictionary<Scheme, ReshareEvent> events;
    private readonly string[] dealers;
    private readonly string[] newMembers;
    private readonly Dictionary<string, KeyShare> ownShares = [];
    private Dictionary<string, (byte[] Commitment, byte[] SubShare)>? ownDealing;
    private bool dealt;
    private bool finished;

    public ReshareSession(NodeState node, ReshareParams p, ReadOnlySpan<byte> nonce)
    {
        this.node = node;
        eventId = p.EventId;
        if (string.IsNullOrWhiteSpace(eventId)) throw new SessionRefusedException("reshare without an event id");
        foreach (var d in p.Dealers)
            if (p.NewMembers.FirstOrDefault(m => m.Name == d.Name) is { } m && m.Index != d.Index)
                throw new SessionRefusedException($"'{d.Name}' has two indexes");
        Parties = new SessionParties(p.Dealers.Concat(p.NewMembers).DistinctBy(x => x.Name), node.Trust, node.Name, node.Identity.Public);
        dealers = p.Dealers.Select(d => d.Name).ToArray();
        newMembers = p.NewMembers.Select(d => d.Name).ToArray();
        IsDealer = dealers.Contains(node.Name);
        IsNewHolder = newMembers.Contains(node.Name);
        if (!IsDealer && !IsNewHolder) throw new SessionRefusedException($"node '{node.Name}' is neither a dealer nor a new holder of reshare {eventId}");
        events = ReshareSetup.Events(p, nonce);
        // Who stands behind each identifier: every dealer must be the node the old package records for its identifier,
        // so no node can deal (or have dealt to it) under an identifier it does not hold.
        foreach (var plan in events.Values.SelectMany(e => e.Plans))
            foreach (var d in dealers) Parties.CheckHolds(plan.Current, d, "dealer");
        if (IsNewHolder && node.WithVault(v => v.IsRenounced(eventId)))
            throw new SessionRefusedException($"node '{node.Name}' has renounced reshare {eventId}: it will never confirm it");
        if (IsDealer)
            foreach (var plan in events.Values.SelectMany(e => e.Plans))
            {
                var share = node.WithVault(v => v.GetActive(plan.KeyId, plan.Current))
                    ?? throw new SessionRefusedException($"node '{node.Name}' holds no shard of key '{plan.KeyId}' to deal");
                if (share.Epoch != plan.Current.Epoch)
                    throw new SessionRefusedException($"node '{node.Name}' holds key '{plan.KeyId}' at epoch {share.Epoch}, the reshare is from epoch {plan.Current.Epoch}");
                ownShares[plan.KeyId] = share;
            }
        if (IsNewHolder && node.WithVault(v => v.PendingEvents().Any(e => e.EventId == eventId)))
            throw new SessionRefusedException($"node '{node.Name}' already holds pending shards of reshare {eventId}");
        Id = SessionIdOf(eventId, events, Parties, p);
    }

    /// <summary>The node-level session id of a reshare (what envelopes, pending shards and renunciations are bound to).</summary>
    public static byte[] SessionIdOf(string eventId, IReadOnlyDictionary<Scheme, ReshareEvent> events, SessionParties parties, ReshareParams p)
    {
        using var t = new Transcript("rotor/node-session/reshare/v1");
        t.Append("event-id", eventId);
        foreach (var (scheme, ev) in events.OrderBy(e => e.Key)) t.Append("event", scheme.Name()).Append("event-digest", ev.Digest);
        parties.AppendTo(t, "parties");
        t.Append("absent.count", (ulong)p.Absent.Count);
        foreach (var a in p.Absent.Order(StringComparer.Ordinal)) t.Append("absent", a);
        return t.Digest();
    }

    /// <summary>The session id a reshare's start request gives on this node (parties checked against the cluster CA).</summary>
    public static byte[] SessionIdOf(NodeState node, StartRequest start)
    {
        var p = start.Reshare ?? throw new SessionRefusedException("not a reshare start request");
        var parties = new SessionParties(p.Dealers.Concat(p.NewMembers).DistinctBy(x => x.Name), node.Trust, node.Name, node.Identity.Public);
        return SessionIdOf(p.EventId, ReshareSetup.Events(p, start.Nonce.Span), parties, p);
    }

    public SessionParties Parties { get; }

    public byte[] Id { get; }

    public bool IsDealer { get; }

    public bool IsNewHolder { get; }

    public string Description => $"reshare {eventId}";

    public StepResult Start()
    {
        if (!IsDealer) return StepResult.Send([]);
        CrashPoint.Hit("before-dealing");
        var outgoing = newMembers.ToDictionary(m => m, _ => new List<(string, byte[])>());
        ownDealing = [];
        foreach (var (scheme, ev) in events)
            foreach (var plan in ev.Plans)
            {
                var dealing = ReshareDealer.Deal(plan, ownShares[plan.KeyId]);
                var commitment = dealing.Commitment.ToBytes();
                foreach (var m in newMembers)
                {
                    var sub = dealing.For(Parties.IdentifierOf(scheme, m)).ToBytes();
                    if (m == node.Name) ownDealing[plan.KeyId] = (commitment, sub);
                    else outgoing[m].Add((plan.KeyId, BatchPayload.Encode([(CommitmentItem, commitment), (SubShareItem, sub)])));
                }
            }
        dealt = true;
        return StepResult.Send(outgoing.Where(o => o.Key != node.Name).Select(o => new PeerMessage(o.Key, DealLabel, BatchPayload.Encode(o.Value))).ToList());
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        if (finished) throw new SessionRefusedException($"reshare {eventId} is already finished here");
        if (dealt) CrashPoint.Hit("after-dealing");
        finished = true;
        if (!IsNewHolder)
        {
            if (inbound.Count > 0) throw new SessionRefusedException($"node '{node.Name}' is not a new holder and takes no messages");
            return StepResult.Finish(Json.Encode(new Rotor.Rpc.Payloads.ReshareOutput()));
        }
        var batches = Rounds.Collect(inbound, DealLabel, dealers.Where(d => d != node.Name));
        var output = new Rotor.Rpc.Payloads.ReshareOutput();
        var pending = new List<KeyShare>();
        var hashes = new List<byte[]>();
        foreach (var (scheme, ev) in events.OrderBy(e => e.Key))
        {
            var me = Parties.IdentifierOf(scheme, node.Name);
            var inboxes = ev.Plans.Select(plan =>
            {
                var commitments = new List<ReshareCommitment>();
                var subShares = new List<ReshareSubShare>();
                foreach (var d in dealers)
                {
                    var (c, s) = d == node.Name ? ownDealing![plan.KeyId] : Items(batches[d], plan.KeyId, d);
                    var from = Parties.IdentifierOf(scheme, d);
                    commitments.Add(ReshareCommitment.Decode(scheme, c, from, plan.NewThreshold));
                    subShares.Add(ReshareSubShare.Decode(scheme, s, from));
                }
                return new ReshareInbox(plan, commitments, subShares);
            }).ToList();
            var result = ReshareMember.Receive(me, inboxes);
            var signed = result.Confirmation.Sign(node.Identity);
            output.Confirmations[scheme.Name()] = Convert.ToHexStringLower(signed.ToBytes());
            hashes.Add(result.Confirmation.TranscriptHash);
            foreach (var s in result.Shares)
            {
                pending.Add(s.Share);
                output.Keys.Add(Rounds.Summary(s.Share.Public, Parties));
            }
        }
        var encoded = Json.Encode(output);
        node.WithVault(v => v.PutPending(eventId, Id, hashes.SelectMany(h => h).ToArray(), pending, encoded));
        CrashPoint.Hit("after-storing-pending");
        if (CrashPoint.Faulty("non-hex-confirmation"))
        {
            foreach (var k in output.Confirmations.Keys.ToList()) output.Confirmations[k] = "not hex";
            return StepResult.Finish(Json.Encode(output));
        }
        return StepResult.Finish(encoded);
    }

    private static (byte[] Commitment, byte[] SubShare) Items(Dictionary<string, byte[]> batch, string keyId, string dealer)
    {
        var items = BatchPayload.Decode(Rounds.For(batch, keyId, dealer), dealer);
        return (Rounds.For(items, CommitmentItem, dealer), Rounds.For(items, SubShareItem, dealer));
    }

    public void Dispose()
    {
        ownShares.Clear();
        ownDealing = null;
    }
}
