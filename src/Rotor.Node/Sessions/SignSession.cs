using Rotor.Crypto.Hashing;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;
using Rotor.Rpc.Node;

namespace Rotor.Node.Sessions;

/// <summary>
/// FROST signing on this node (RFC 9591 section 5.1–5.2): <see cref="Start"/> commits to fresh nonces with the
/// active share of the requested epoch; <see cref="Step"/> takes the coordinator's signing package, checks it is
/// for the message and signers this session was opened for, and returns this node's signature share. A request
/// for an epoch the node does not hold active (an old, erased shard) is refused. With a signing package in its
/// parameters it signs in one round, with nonces it committed to in advance (<see cref="PresignPool"/>); either
/// way it can make commitments in advance for later signatures.
/// </summary>
public sealed class SignSession : INodeSession
{
    private readonly NodeState node;
    private readonly KeyShare share;
    private readonly byte[] message;
    private readonly SessionParties signers;
    private readonly byte[] oneRoundPackage;
    private readonly int presign;
    private SigningNonces? nonces;

    public SignSession(NodeState node, SignParams p, ReadOnlySpan<byte> nonce, KeyShare? loaded = null)
    {
        this.node = node;
        KeyIds.Validate(p.KeyId);
        var active = loaded ?? node.WithVault(v => v.GetActive(p.KeyId))
            ?? throw new SessionRefusedException($"it holds no shard of key '{p.KeyId}'");
        if (active.Scheme == Rotor.Protocols.Scheme.EcdsaSecp256k1)
            throw new SessionRefusedException($"key '{p.KeyId}' is an ecdsa-secp256k1 key: it never signs with FROST");
        if (active.Epoch != p.Epoch)
            throw new SessionRefusedException($"it holds key '{p.KeyId}' at epoch {active.Epoch}, not epoch {p.Epoch}: " +
                                              (p.Epoch < active.Epoch ? "that shard was erased by a reshare" : "that epoch is not active here"));
        // A derived key: the child share s′ = ±s + offset, made here from the root share, in memory only.
        Path = string.IsNullOrEmpty(p.Path) ? DerivationPath.Root : DerivationPath.Parse(p.Path);
        try { share = HdDerivation.DeriveShare(active, Path); }
        catch (HdUnavailableException e) { throw new SessionRefusedException(e.Message); }
        signers = new SessionParties(p.Signers, node.Trust, node.Name, node.Identity.Public);
        if (!signers.Contains(node.Name)) throw new SessionRefusedException($"node '{node.Name}' is not among the signers");
        if (signers.IdentifierOf(share.Scheme, node.Name) != share.Identifier)
            throw new SessionRefusedException($"node '{node.Name}' is member {share.Identifier} of key '{p.KeyId}', not {signers.IndexOf(node.Name)}");
        message = p.Message.ToByteArray();
        oneRoundPackage = p.SigningPackage.ToByteArray();
        presign = (int)Math.Min(p.Presign, PresignPool.PerKey);
        using var t = new Transcript("rotor/node-session/sign/v1");
        t.Append("key-id", p.KeyId).Append("epoch", p.Epoch).Append("message", message).Append("nonce", nonce);
        if (!Path.IsRoot) t.Append("path", Path.ToString());
        signers.AppendTo(t, "signers");
        Id = t.Digest();
    }

    public byte[] Id { get; }

    /// <summary>The derivation path signed for (the root for m).</summary>
    public DerivationPath Path { get; }

    /// <summary>The scheme of the key being signed with.</summary>
    public string Scheme => Rotor.Protocols.Schemes.Name(share.Scheme);

    /// <summary>The verified approval of this signature; spent (once, durably) just before the share is made.</summary>
    public Protocols.Governance.ActionRequest? Approval { get; set; }

    public string Description => $"signing with key '{share.KeyId}' epoch {share.Epoch}" + (Path.IsRoot ? "" : $" for path {Path}");

    /// <summary>
    /// Round 1: commits to fresh nonces. In one-round signing (a signing package built from commitments made in
    /// advance), signs at once with the nonces behind this node's commitment, taken out of the pool.
    /// </summary>
    public StepResult Start()
    {
        if (oneRoundPackage.Length == 0)
        {
            var (n, commitments) = FrostSigner.Commit(share);
            nonces = n;
            return new StepResult([], Json.Encode(commitments.ToData()), false);
        }
        var package = CheckPackage(oneRoundPackage);
        var mine = package.Commitments.FirstOrDefault(c => c.Identifier == share.Identifier)
            ?? throw new SessionRefusedException($"the signing package has no commitment of member {share.Identifier}");
        nonces = node.Presigns.Take(mine)
            ?? throw new SessionRefusedException("it holds no nonces for the commitment the signing package names (made in advance and lost on a restart, or already used)");
        return Sign(package);
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        if (nonces is null || oneRoundPackage.Length > 0) throw new SessionRefusedException("signing session has not committed yet");
        if (inbound.Count > 0) throw new SessionRefusedException("signing takes no node-to-node messages");
        return Sign(CheckPackage(coordinatorInput));
    }

    /// <summary>The coordinator's signing package, checked: for this key and epoch, this message, and signers of this session only.</summary>
    private SigningPackage CheckPackage(ReadOnlySpan<byte> input)
    {
        var package = Json.Decode<SigningPackageData>(input, "signing package").Validate(share.Public);
        if (!package.Message.SequenceEqual(message))
            throw new SessionRefusedException("the signing package is for another message than this session was opened for");
        foreach (var id in package.Signers)
            if (!signers.Names.Any(n => signers.IdentifierOf(share.Scheme, n) == id))
                throw new SessionRefusedException($"signing package names member {id}, who is not among this session's signers");
        return package;
    }

    /// <summary>Round 2: this node's signature share, then as many fresh commitments as were asked for.</summary>
    private StepResult Sign(SigningPackage package)
    {
        // A reshare may have committed since round 1: never sign with a shard that is no longer active.
        if (node.WithVault(v => v.ActiveEpoch(share.KeyId)) != share.Epoch)
            throw new SessionRefusedException($"key '{share.KeyId}' epoch {share.Epoch} was superseded during signing; retry with the new epoch");
        node.Governance.Consume(Approval ?? throw new SessionRefusedException("signing without a verified approval"));
        var sigShare = FrostSigner.Sign(package, nonces!, share);
        var presigned = new List<byte[]>();
        for (int i = 0; i < presign; i++)
        {
            var (n, commitments) = FrostSigner.Commit(share);
            if (!node.Presigns.Add(n)) break;
            presigned.Add(Json.Encode(commitments.ToData()));
        }
        return new StepResult([], Json.Encode(sigShare.ToData()), true, presigned);
    }

    public void Dispose() => nonces = null;
}
