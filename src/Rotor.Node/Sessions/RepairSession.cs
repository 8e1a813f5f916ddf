using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Sessions;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

namespace Rotor.Node.Sessions;

/// <summary>
/// Share repair on this node (Rotor.Protocols.Repair), as helper or target: t or more members of a key's current
/// epoch rebuild the share of a member that lost it (or holds only an older epoch), without any of them learning it
/// and without a backup. Round 1: each helper sends its mask commitments to everyone and a private delta to each
/// helper. Round 2: each helper checks what it got and sends its σ to the target. The target checks every helper,
/// rebuilds its share, checks it against its verification share in the current package and only then stores it
/// (replacing an older epoch in one vault transaction).
/// </summary>
public sealed class RepairSession : INodeSession, IHasParties
{
    private const string Round1Label = "repair/round1", SigmaLabel = "repair/sigma";
    private const string CommitmentsItem = "commitments", DeltaItem = "delta", SigmaItem = "sigma";

    private readonly NodeState node;
    private readonly RepairPlan plan;
    private readonly string[] helpers;
    private readonly string target;
    private readonly KeyShare? ownShare;
    private RepairRound1? own;
    private List<RepairCommitments>? received;

    public RepairSession(NodeState node, RepairParams p, ReadOnlySpan<byte> nonce)
    {
        this.node = node;
        if (p.Current is null || p.Target is null) throw new SessionRefusedException("repair without a key package or a target");
        var current = ReshareSetup.Package(p.Current);
        Parties = new SessionParties(p.Helpers.Append(p.Target), node.Trust, node.Name, node.Identity.Public);
        helpers = p.Helpers.Select(h => h.Name).ToArray();
        target = p.Target.Name;
        if (helpers.Contains(target)) throw new SessionRefusedException($"'{target}' cannot help repair its own share");
        var scheme = current.Scheme;
        plan = RepairPlan.Create(SessionId.ForRepair(current, nonce), current, Parties.IdentifierOf(scheme, target),
            helpers.Select(h => Parties.IdentifierOf(scheme, h)).ToArray());
        // Who stands behind each identifier: the target and every helper must be the node the package records for the
        // identifier it is given, so a repair never teaches one node another's share.
        Parties.CheckHolds(current, target, "repair target");
        foreach (var h in helpers) Parties.CheckHolds(current, h, "repair helper");
        IsTarget = node.Name == target;
        if (!IsTarget && !helpers.Contains(node.Name)) throw new SessionRefusedException($"node '{node.Name}' is not a party of this repair");
        var active = node.WithVault(v => v.GetActive(current.KeyId));
        if (IsTarget)
        {
            if (active is not null && active.Epoch >= current.Epoch)
                throw new SessionRefusedException($"node '{node.Name}' already holds key '{current.KeyId}' at epoch {active.Epoch}: nothing to repair");
        }
        else
        {
            ownShare = active ?? throw new SessionRefusedException($"node '{node.Name}' holds no shard of key '{current.KeyId}' to help with");
            if (ownShare.Epoch != current.Epoch)
                throw new SessionRefusedException($"node '{node.Name}' holds key '{current.KeyId}' at epoch {ownShare.Epoch}, the repair is of epoch {current.Epoch}");
        }
        using var t = new Transcript("rotor/node-session/repair/v1");
        t.Append("plan", plan.Digest);
        Parties.AppendTo(t, "parties");
        Id = t.Digest();
    }

    public SessionParties Parties { get; }

    public byte[] Id { get; }

    public bool IsTarget { get; }

    public string Description => $"repair of key '{plan.KeyId}' epoch {plan.Current.Epoch} for '{target}'";

    public StepResult Start()
    {
        if (IsTarget) return StepResult.Send([]);
        own = RepairHelper.Start(plan, ownShare!, node.Identity);
        var commitments = own.Commitments.ToBytes();
        var messages = helpers.Where(h => h != node.Name)
            .Select(h => new PeerMessage(h, Round1Label, BatchPayload.Encode([(CommitmentsItem, commitments), (DeltaItem, own.For(Member(h)).ToBytes())])))
            .Append(new PeerMessage(target, Round1Label, BatchPayload.Encode([(CommitmentsItem, commitments)])))
            .ToList();
        return StepResult.Send(messages);
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        var scheme = plan.Scheme;
        if (!IsTarget)
        {
            if (own is null) throw new SessionRefusedException("repair helper has not started");
            var batches = Rounds.Collect(inbound, Round1Label, helpers.Where(h => h != node.Name));
            var commitments = helpers.Select(h => h == node.Name ? own.Commitments : RepairCommitments.Decode(scheme, Rounds.For(batches[h], CommitmentsItem, h), Member(h))).ToList();
            var deltas = helpers.Select(h => h == node.Name ? own.For(Member(node.Name)) : RepairDelta.Decode(scheme, Rounds.For(batches[h], DeltaItem, h), Member(h))).ToList();
            var sigma = RepairHelper.Finish(plan, Member(node.Name), commitments, deltas);
            own = null;
            return new StepResult([new PeerMessage(target, SigmaLabel, BatchPayload.Encode([(SigmaItem, sigma.ToBytes())]))], [], true);
        }
        if (received is null)
        {
            var batches = Rounds.Collect(inbound, Round1Label, helpers);
            received = helpers.Select(h => RepairCommitments.Decode(scheme, Rounds.For(batches[h], CommitmentsItem, h), Member(h))).ToList();
            return StepResult.Send([]);
        }
        var sigmas = Rounds.Collect(inbound, SigmaLabel, helpers);
        var share = RepairTarget.Complete(plan, received, helpers.Select(h => RepairSigma.Decode(scheme, Rounds.For(sigmas[h], SigmaItem, h), Member(h))).ToList());
        CrashPoint.Hit("repair-before-storing");
        node.WithVault(v =>
        {
            // This node's own pending shard of the repaired epoch (a reshare or catch-up cut here before its commit) is the
            // same share, if right: the repaired one, checked against the epoch's verification share, takes its place
            // instead of the repair being refused. The event's other pending shards stay for its certificate.
            v.DiscardSuperseded(new Dictionary<string, ulong> { [share.KeyId] = share.Epoch }, exceptEvent: "");
            if (v.GetActive(share.KeyId) is null) v.PutActive([share]);
            else
            {
                // An older epoch is active: install the repaired share and erase the older epoch in one step.
                var eventId = "repair-" + Convert.ToHexStringLower(Id.AsSpan(0, 8));
                v.PutPending(eventId, Id, plan.Digest, [share], null);
                v.Activate(eventId, new Dictionary<string, ulong>());
            }
        });
        CrashPoint.Hit("repair-after-storing");
        return StepResult.Finish(Json.Encode(new RepairOutput { KeyId = share.KeyId, Epoch = share.Epoch, VerifyingShare = share.VerifyingShare.ToHex() }));
    }

    private Identifier Member(string name) => Parties.IdentifierOf(plan.Scheme, name);

    public void Dispose()
    {
        own = null;
        received = null;
    }
}
