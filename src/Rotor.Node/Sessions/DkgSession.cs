using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

namespace Rotor.Node.Sessions;

/// <summary>
/// Distributed key generation for a batch of keys on this node (Rotor.Protocols.Dkg): round 1 commitments and
/// proofs broadcast, round 2 shares sent privately, then confirmations; only when every member confirmed the same
/// transcript are the shares stored, all at once, as the keys' epoch 0, pending: they become active only when the
/// coordinator brings a certificate of every member's signed confirmation of the same public packages (DkgCommit). Every message travels in an envelope
/// sealed to its recipient, one per peer per round for the whole batch.
/// </summary>
public sealed class DkgSession : INodeSession, IHasParties
{
    private const string Round1Label = "dkg/round1", Round2Label = "dkg/round2", ConfirmLabel = "dkg/confirm";

    private readonly NodeState node;
    private readonly Scheme scheme;
    private readonly Identifier me;
    private readonly string[] peers;
    private readonly Dictionary<string, SessionId> sessions;
    private Dictionary<string, DkgRound1State>? round1;
    private Dictionary<string, DkgRound2State>? round2;
    private Dictionary<string, DkgConfirmationState>? confirming;

    public DkgSession(NodeState node, DkgParams p, ReadOnlySpan<byte> nonce)
    {
        this.node = node;
        scheme = Schemes.Parse(p.Scheme);
        Parties = new SessionParties(p.Parties, node.Trust, node.Name, node.Identity.Public);
        if (!Parties.Contains(node.Name)) throw new SessionRefusedException($"node '{node.Name}' is not a party of this key generation");
        if (p.KeyIds.Count == 0) throw new SessionRefusedException("no key ids");
        if (p.KeyIds.Distinct().Count() != p.KeyIds.Count) throw new SessionRefusedException("a key id is listed twice");
        me = Parties.IdentifierOf(scheme, node.Name);
        peers = Parties.Names.Where(n => n != node.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var members = Rounds.Identifiers(Parties, scheme);
        var n = nonce.ToArray();
        // Every member's identity key (from its CA-checked certificate) is bound into the session, so all members agree on
        // who holds each identifier (every message, the confirmations included, carries the session digest), and recorded
        // in the key's package.
        var memberKeys = Parties.MemberKeys(scheme, Parties.Names);
        sessions = p.KeyIds.ToDictionary(k => k, k => SessionId.ForDkg(k, scheme, members, (int)p.Threshold, n, memberKeys));
        var existing = node.WithVault(v => p.KeyIds.FirstOrDefault(k => v.GetActive(k) is not null));
        if (existing is not null) throw new SessionRefusedException($"node '{node.Name}' already holds key '{existing}'");
        Id = SessionIdOf(sessions.Values.Select(s => s.Digest), Parties);
        EventId = DkgCommit.EventIdOf(Id);
    }

    private static byte[] SessionIdOf(IEnumerable<byte[]> keySessions, SessionParties parties)
    {
        using var t = new Transcript("rotor/node-session/dkg/v1");
        foreach (var k in keySessions) t.Append("key-session", k);
        parties.AppendTo(t, "parties");
        return t.Digest();
    }

    /// <summary>The node-level session id a key generation's start request gives on this node (parties checked against the cluster CA).</summary>
    public static byte[] SessionIdOf(NodeState node, StartRequest start)
    {
        var p = start.Dkg ?? throw new SessionRefusedException("not a key generation start request");
        var scheme = Schemes.Parse(p.Scheme);
        var parties = new SessionParties(p.Parties, node.Trust, node.Name, node.Identity.Public);
        var members = Rounds.Identifiers(parties, scheme);
        var memberKeys = parties.MemberKeys(scheme, parties.Names);
        var n = start.Nonce.ToByteArray();
        return SessionIdOf(p.KeyIds.Select(k => SessionId.ForDkg(k, scheme, members, (int)p.Threshold, n, memberKeys).Digest), parties);
    }

    /// <summary>The key generation's event id (<see cref="DkgCommit.EventIdOf"/>): its pending shards, confirmation and renunciation are recorded under it.</summary>
    public string EventId { get; }

    public SessionParties Parties { get; }

    public byte[] Id { get; }

    public string Description => $"key generation of {sessions.Count} {scheme.Name()} key(s)";

    public StepResult Start()
    {
        var started = sessions.ToDictionary(s => s.Key, s => DkgParticipant.Start(s.Value, me));
        round1 = started.ToDictionary(s => s.Key, s => s.Value.State);
        var payload = BatchPayload.Encode(started.Select(s => (s.Key, s.Value.Package.ToBytes())).ToList());
        return StepResult.Send(peers.Select(p => new PeerMessage(p, Round1Label, payload)).ToList());
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        var group = scheme.Group();
        if (round1 is not null)
        {
            var batches = Rounds.Collect(inbound, Round1Label, peers);
            var next = new Dictionary<string, DkgRound2State>();
            var outgoing = peers.ToDictionary(p => p, _ => new List<(string, byte[])>());
            foreach (var (keyId, state) in round1)
            {
                var (s2, shares) = state.ReceiveRound1(peers.Select(p => Round1Package.Decode(group, Rounds.For(batches[p], keyId, p), Parties.IdentifierOf(scheme, p), sessions[keyId].NewThreshold)));
                next[keyId] = s2;
                foreach (var p in peers) outgoing[p].Add((keyId, shares[Parties.IdentifierOf(scheme, p)].ToBytes()));
            }
            (round1, round2) = (null, next);
            return StepResult.Send(peers.Select(p => new PeerMessage(p, Round2Label, BatchPayload.Encode(outgoing[p]))).ToList());
        }
        if (round2 is not null)
        {
            var batches = Rounds.Collect(inbound, Round2Label, peers);
            var next = new Dictionary<string, DkgConfirmationState>();
            var confirmations = new List<(string, byte[])>();
            foreach (var (keyId, state) in round2)
            {
                var (s3, confirmation) = state.ReceiveRound2(peers.Select(p => Round2Package.Decode(group, Rounds.For(batches[p], keyId, p), Parties.IdentifierOf(scheme, p))));
                next[keyId] = s3;
                confirmations.Add((keyId, confirmation.ToBytes()));
            }
            (round2, confirming) = (null, next);
            var payload = BatchPayload.Encode(confirmations);
            var messages = peers.Select(p => new PeerMessage(p, ConfirmLabel, payload)).ToList();
            // Test fault: this member's confirmation to its first peer differs from the one the others get.
            if (CrashPoint.Faulty("dkg-equivocate-confirmation"))
                messages[0] = new PeerMessage(peers[0], ConfirmLabel, BatchPayload.Encode(confirmations.Select(c => (c.Item1, c.Item2.Select((b, i) => i == c.Item2.Length - 1 ? (byte)(b ^ 1) : b).ToArray())).ToList()));
            return StepResult.Send(messages);
        }
        if (confirming is not null)
        {
            var batches = Rounds.Collect(inbound, ConfirmLabel, peers);
            var shares = confirming.Select(c => c.Value.Finish(peers.Select(p => Rotor.Protocols.Dkg.Confirmation.Decode(group, Rounds.For(batches[p], c.Key, p), Parties.IdentifierOf(scheme, p))))).ToList();
            // Stored pending with this node's signed confirmation of the public packages: they become active only with a
            // certificate of every member's matching confirmation (SignerNodeService.Commit), like a reshare's.
            var transcript = DkgCommit.TranscriptHash(shares.Select(s => s.Public));
            var output = new DkgOutput
            {
                Keys = shares.Select(s => Rounds.Summary(s.Public, Parties)).ToList(),
                Confirmation = Convert.ToHexStringLower(DkgCommit.Confirm(node.Identity, Id, node.Name, transcript)),
            };
            var encoded = Json.Encode(output);
            CrashPoint.Hit("dkg-before-storing");
            node.WithVault(v => v.PutPending(EventId, Id, transcript, shares, encoded, firstEpoch: true));
            CrashPoint.Hit("dkg-after-storing");
            confirming = null;
            return StepResult.Finish(encoded);
        }
        throw new SessionRefusedException("key generation is already finished");
    }

    public void Dispose()
    {
        round1 = null;
        round2 = null;
        confirming = null;
    }
}
