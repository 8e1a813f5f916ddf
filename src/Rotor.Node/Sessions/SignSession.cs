using Rotor.Crypto.Hashing;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Node;

namespace Rotor.Node.Sessions;

/// <summary>
/// FROST signing on this node (RFC 9591 section 5.1–5.2): <see cref="Start"/> commits to fresh nonces with the
/// active share of the requested epoch; <see cref="Step"/> takes the coordinator's signing package, checks it is
/// for the message and signers this session was opened for, and returns this node's signature share. A request
/// for an epoch the node does not hold active (an old, erased shard) is refused.
/// </summary>
public sealed class SignSession : INodeSession
{
    private readonly NodeState node;
    private readonly KeyShare share;
    private readonly byte[] message;
    private readonly SessionParties signers;
    private SigningNonces? nonces;

    public SignSession(NodeState node, SignParams p, ReadOnlySpan<byte> nonce)
    {
        this.node = node;
        KeyIds.Validate(p.KeyId);
        var active = node.WithVault(v => v.GetActive(p.KeyId))
            ?? throw new SessionRefusedException($"it holds no shard of key '{p.KeyId}'");
        if (active.Epoch != p.Epoch)
            throw new SessionRefusedException($"it holds key '{p.KeyId}' at epoch {active.Epoch}, not epoch {p.Epoch}: " +
                                              (p.Epoch < active.Epoch ? "that shard was erased by a reshare" : "that epoch is not active here"));
        share = active;
        signers = new SessionParties(p.Signers, node.Trust, node.Name, node.Identity.Public);
        if (!signers.Contains(node.Name)) throw new SessionRefusedException($"node '{node.Name}' is not among the signers");
        if (signers.IdentifierOf(share.Scheme, node.Name) != share.Identifier)
            throw new SessionRefusedException($"node '{node.Name}' is member {share.Identifier} of key '{p.KeyId}', not {signers.IndexOf(node.Name)}");
        message = p.Message.ToByteArray();
        using var t = new Transcript("rotor/node-session/sign/v1");
        t.Append("key-id", p.KeyId).Append("epoch", p.Epoch).Append("message", message).Append("nonce", nonce);
        signers.AppendTo(t, "signers");
        Id = t.Digest();
    }

    public byte[] Id { get; }

    public string Description => $"signing with key '{share.KeyId}' epoch {share.Epoch}";

    public StepResult Start()
    {
        var (n, commitments) = FrostSigner.Commit(share);
        nonces = n;
        return new StepResult([], Json.Encode(commitments.ToData()), false);
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        if (nonces is null) throw new SessionRefusedException("signing session has not committed yet");
        if (inbound.Count > 0) throw new SessionRefusedException("signing takes no node-to-node messages");
        var package = Json.Decode<SigningPackageData>(coordinatorInput, "signing package").Validate(share.Public);
        if (!package.Message.SequenceEqual(message))
            throw new SessionRefusedException("the signing package is for another message than this session was opened for");
        foreach (var id in package.Signers)
            if (!signers.Names.Any(n => signers.IdentifierOf(share.Scheme, n) == id))
                throw new SessionRefusedException($"signing package names member {id}, who is not among this session's signers");
        // A reshare may have committed since round 1: never sign with a shard that is no longer active.
        if (node.WithVault(v => v.ActiveEpoch(share.KeyId)) != share.Epoch)
            throw new SessionRefusedException($"key '{share.KeyId}' epoch {share.Epoch} was superseded during signing; retry with the new epoch");
        var sigShare = FrostSigner.Sign(package, nonces, share);
        return StepResult.Finish(Json.Encode(sigShare.ToData()));
    }

    public void Dispose() => nonces = null;
}
