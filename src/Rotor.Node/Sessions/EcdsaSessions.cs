using System.Security.Cryptography;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

namespace Rotor.Node.Sessions;

/// <summary>Opens a signing session of the right kind for the key's scheme: FROST, or threshold ECDSA (DKLs23).</summary>
public static class SignSessions
{
    public static INodeSession Open(NodeState node, SignParams p, ReadOnlySpan<byte> nonce)
    {
        KeyIds.Validate(p.KeyId);
        var active = node.WithVault(v => v.GetActive(p.KeyId))
            ?? throw new SessionRefusedException($"it holds no shard of key '{p.KeyId}'");
        return active.Scheme == Scheme.EcdsaSecp256k1 ? new EcdsaSignNodeSession(node, p, nonce, active) : new SignSession(node, p, nonce, active);
    }
}

/// <summary>
/// The pairwise OT setup of threshold ECDSA on this node (Rotor.Protocols.Ecdsa.EcdsaSetup) for one epoch of a key:
/// after a key generation (active epoch 0), after a reshare (the pending shards of its event, before the commit) and
/// after a repair (the repaired member with every other member). Round 0: each node sends its peers 32 random bytes,
/// which with the coordinator's nonce make the setup nonce, so no one (the coordinator included) can make two setups
/// of a pair share a pair id. Rounds 1..5: the setup's messages, one envelope per peer. Only when the last round
/// checks out is the material stored, encrypted with the shard (<see cref="ShareVault.PutPairs"/>), replacing what
/// the node held for those pairs. A failed check aborts naming the peer; nothing is stored.
/// </summary>
public sealed class EcdsaSetupNodeSession : INodeSession, IHasParties
{
    private const string NonceLabel = "ecdsa-setup/nonce";
    private static string RoundLabel(int round) => $"ecdsa-setup/round{round}";

    private readonly NodeState node;
    private readonly KeyShare share;
    private readonly string? eventId;
    private readonly string? target;
    private readonly string[] peers;
    private readonly byte[] coordinatorNonce;
    private readonly byte[] packageDigest;
    private byte[]? contribution;
    private EcdsaSetup? setup;
    private int round; // 0: contributions sent; 1..5: that round's messages sent

    public EcdsaSetupNodeSession(NodeState node, EcdsaSetupParams p, ReadOnlySpan<byte> nonce)
    {
        this.node = node;
        KeyIds.Validate(p.KeyId);
        eventId = string.IsNullOrEmpty(p.EventId) ? null : p.EventId;
        share = node.WithVault(v =>
        {
            if (eventId is null)
            {
                var active = v.GetActive(p.KeyId) ?? throw new SessionRefusedException($"it holds no shard of key '{p.KeyId}'");
                if (active.Epoch != p.Epoch)
                    throw new SessionRefusedException($"it holds key '{p.KeyId}' at epoch {active.Epoch}, not epoch {p.Epoch}: no ECDSA setup for that epoch");
                return active;
            }
            var info = v.List().FirstOrDefault(s => s.KeyId == p.KeyId && s.Epoch == p.Epoch && s.State == ShardState.Pending);
            if (info is null || info.EventId != eventId)
                throw new SessionRefusedException($"it holds no pending shard of key '{p.KeyId}' epoch {p.Epoch} from reshare {eventId}");
            return v.Get(p.KeyId, p.Epoch, ShardState.Pending)!;
        });
        if (share.Scheme != Scheme.EcdsaSecp256k1)
            throw new SessionRefusedException($"key '{p.KeyId}' is a {share.Scheme.Name()} key: the ECDSA pair setup is for ecdsa-secp256k1 keys only");
        Parties = new SessionParties(p.Members, node.Trust, node.Name, node.Identity.Public);
        if (!Parties.Contains(node.Name)) throw new SessionRefusedException($"node '{node.Name}' is not a member of this ECDSA setup");
        // Who stands behind each identifier: every party must be the node this node's own package records for it, and
        // every member of the epoch must be a party.
        var names = Parties.Names.ToArray();
        foreach (var n in names) Parties.CheckHolds(share.Public, n, "member");
        if (names.Length != share.Members.Count)
            throw new SessionRefusedException($"the ECDSA setup of key '{p.KeyId}' epoch {p.Epoch} names {names.Length} members, the epoch has {share.Members.Count}");
        if (Parties.IdentifierOf(share.Scheme, node.Name) != share.Identifier)
            throw new SessionRefusedException($"node '{node.Name}' is member {share.Identifier} of key '{p.KeyId}', not {Parties.IndexOf(node.Name)}");
        target = string.IsNullOrEmpty(p.Target) ? null : p.Target;
        if (target is not null && !Parties.Contains(target)) throw new SessionRefusedException($"setup target '{target}' is not a member");
        peers = names.Where(n => n != node.Name && (target is null || node.Name == target || n == target)).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        coordinatorNonce = nonce.ToArray();
        packageDigest = EcdsaBinding.PackageDigest(share.Public);
        using var t = new Transcript("rotor/node-session/ecdsa-setup/v1");
        t.Append("key-id", p.KeyId).Append("epoch", p.Epoch).Append("event", eventId ?? "").Append("package", packageDigest)
         .Append("target", target ?? "").Append("nonce", coordinatorNonce);
        Parties.AppendTo(t, "members");
        Id = t.Digest();
    }

    public SessionParties Parties { get; }

    public byte[] Id { get; }

    public string Description => $"ECDSA pair setup of key '{share.KeyId}' epoch {share.Epoch}" + (target is null ? "" : $" with '{target}'");

    public StepResult Start()
    {
        contribution = RandomNumberGenerator.GetBytes(32);
        round = 0;
        return StepResult.Send(peers.Select(p => new PeerMessage(p, NonceLabel, contribution)).ToList());
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        if (round == 0)
        {
            if (contribution is null) throw new SessionRefusedException("ECDSA setup has not started");
            var got = Collect(inbound, NonceLabel);
            foreach (var (peer, c) in got)
                if (c.Length != 32) throw new SessionRefusedException($"'{peer}' sent a setup nonce contribution of {c.Length} bytes, not 32");
            got[node.Name] = contribution;
            // Full setup: every member's contribution; a repair's: the target's (the one party of every pair).
            using var t = new Transcript("rotor/ecdsa/setup-nonce/v1");
            t.Append("coordinator", coordinatorNonce);
            foreach (var (n, c) in got.Where(g => target is null || g.Key == target).OrderBy(g => g.Key, StringComparer.Ordinal))
                t.Append("name", n).Append("contribution", c);
            var session = new EcdsaSetupSession(share.Public, t.Digest()[..32]);
            var peerIds = target is null ? null : peers.Select(n => Parties.IdentifierOf(share.Scheme, n)).ToArray();
            var (state, messages) = EcdsaSetup.Start(share, session, peerIds);
            setup = state;
            round = 1;
            return StepResult.Send(Route(messages, 1));
        }
        if (setup is null) throw new SessionRefusedException("ECDSA setup is finished");
        var inboundMessages = Collect(inbound, RoundLabel(round)).Select(kv => Decode(kv.Key, kv.Value)).ToList();
        var next = setup.Receive(inboundMessages);
        round++;
        if (round <= 5) return StepResult.Send(Route(next, round));
        var material = setup.Material ?? throw new SessionRefusedException("ECDSA setup finished without material");
        bool complete;
        if (target is null)
        {
            // Every pair: the material must make a whole key share (EcdsaKeyShare.Create refuses any mismatch by name).
            _ = setup.Result ?? throw new SessionRefusedException("ECDSA setup finished without a key share");
            node.WithVault(v => v.PutPairs(share.KeyId, share.Epoch, material));
            complete = true;
        }
        else
        {
            complete = node.WithVault(v =>
            {
                v.PutPairs(share.KeyId, share.Epoch, material);
                var all = v.GetPairs(share.KeyId, share.Epoch);
                try { EcdsaKeyShare.Create(share, all); return true; }
                catch (ProtocolException) { return false; }
            });
        }
        setup = null;
        return StepResult.Finish(Json.Encode(new EcdsaSetupOutput
        {
            KeyId = share.KeyId, Epoch = share.Epoch, PackageDigest = Convert.ToHexStringLower(packageDigest), Peers = peers.ToList(), Complete = complete,
        }));
    }

    private Dictionary<string, byte[]> Collect(IReadOnlyList<PeerMessage> inbound, string label) => Rounds.CollectPayloads(inbound, label, peers);

    private EcdsaSetupMessage Decode(string sender, byte[] payload)
    {
        EcdsaSetupMessage m;
        try { m = EcdsaSetupMessage.FromBytes(payload); }
        catch (Exception e) when (e is ArgumentException or Rotor.Crypto.RotorCryptoException or ProtocolException)
        {
            throw new SessionRefusedException($"'{sender}' sent a malformed ECDSA setup message: {e.Message}");
        }
        // The envelope authenticated the sender's node; its protocol identifier must be that node's.
        if (m.Sender != Parties.IdentifierOf(share.Scheme, sender))
            throw new ProtocolException(Fault.UnexpectedSender, $"'{sender}' sent an ECDSA setup message as member {m.Sender}", m.Sender);
        return m;
    }

    private List<PeerMessage> Route(IReadOnlyList<EcdsaSetupMessage> messages, int r)
    {
        var byId = peers.ToDictionary(n => Parties.IdentifierOf(share.Scheme, n), n => n);
        return messages.Select(m => new PeerMessage(byId[m.Recipient], RoundLabel(r), m.ToBytes())).ToList();
    }

    public void Dispose()
    {
        setup = null;
        if (contribution is not null) CryptographicOperations.ZeroMemory(contribution);
    }
}

/// <summary>
/// Threshold-ECDSA signing on this node (DKLs23, three rounds; Rotor.Protocols.Ecdsa.EcdsaSigner) with the active
/// shard of the requested epoch and its pair material: <see cref="Start"/> sends round 1 to every other signer;
/// the first <see cref="Step"/> checks round 1 and sends round 2 (the approval is spent here, before anything that
/// depends on the share leaves the node); the second checks round 2 and returns the signature share (public) for the
/// coordinator, which combines and verifies. The message is exactly a 32-byte digest. For a derivation path the
/// share is tweaked in memory (EcdsaKeyShare.Derive), the OT material is the root epoch's. The signer's secrets live
/// in this session only; an aborted or expired session is dropped and nothing of it can be reused.
/// <para>
/// Presigning: opened with an empty message and <c>presign = 1</c>, the session runs round 1 ahead of any request
/// (it uses no message, no path and no share, and reveals nothing of the instance key: R_i stays behind its
/// commitment). The first <see cref="Step"/> then carries the signing request as its coordinator input (a
/// <see cref="StartRequest"/> with the sign parameters and the operators' approval), which this node checks as it
/// would at a start: same key, epoch and signers as the presign, the approval for this message and path. Only then
/// are the message, the path and the share bound and round 2 made. A presign is used once (the session closes after
/// it, or at any failure), lives in memory only, expires with the session idle limit, is closed when its key's epoch
/// changes, and a node keeps at most <see cref="EcdsaPresignLimit.PerKey"/> of them per key epoch.
/// </para>
/// </summary>
public sealed class EcdsaSignNodeSession : INodeSession, IHasParties
{
    private const string Round1Label = "ecdsa-sign/round1", Round2Label = "ecdsa-sign/round2";

    private readonly NodeState node;
    private readonly KeyShare active;
    private readonly EcdsaKeyShare root;
    private readonly EcdsaPresignSession presign;
    private readonly string[] peers;
    private EcdsaKeyShare key;
    private EcdsaSignSession? session;
    private EcdsaSigner? signer;
    private int round;
    private bool holdsPresignSlot;
    private readonly Party[] presignSigners;

    public EcdsaSignNodeSession(NodeState node, SignParams p, ReadOnlySpan<byte> nonce, KeyShare active)
    {
        this.node = node;
        this.active = active;
        if (active.Epoch != p.Epoch)
            throw new SessionRefusedException($"it holds key '{p.KeyId}' at epoch {active.Epoch}, not epoch {p.Epoch}: " +
                                              (p.Epoch < active.Epoch ? "that shard was erased by a reshare" : "that epoch is not active here"));
        if (p.SigningPackage.Length > 0)
            throw new SessionRefusedException("ECDSA signing has no signing package (that is FROST's one-round flow)");
        IsPresign = p.Message.Length == 0 && p.Presign > 0;
        if (IsPresign)
        {
            if (p.Presign != 1) throw new SessionRefusedException($"an ECDSA presign session makes one presignature, not {p.Presign}");
            if (!string.IsNullOrEmpty(p.Path)) throw new SessionRefusedException("an ECDSA presign is for no path: the path comes with the signing request");
        }
        else
        {
            RequireDigest(p);
            if (p.Presign > 0)
                throw new SessionRefusedException("an ECDSA signing with a message makes nothing in advance; a presign is a session of its own (empty message, presign = 1)");
        }
        var pairs = node.WithVault(v => v.GetPairs(active.KeyId, active.Epoch));
        try { root = EcdsaKeyShare.Create(active, pairs); }
        catch (ProtocolException e) { throw new SessionRefusedException($"its ECDSA key '{p.KeyId}' epoch {p.Epoch} is not usable: {e.Message}"); }
        Parties = new SessionParties(p.Signers, node.Trust, node.Name, node.Identity.Public);
        if (!Parties.Contains(node.Name)) throw new SessionRefusedException($"node '{node.Name}' is not among the signers");
        foreach (var n in Parties.Names) Parties.CheckHolds(active.Public, n, "signer");
        presignSigners = p.Signers.Select(x => x.Clone()).ToArray();
        peers = Parties.Names.Where(n => n != node.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var ids = Parties.Names.Select(n => Parties.IdentifierOf(active.Scheme, n)).ToArray();
        // The signing nonce: from the coordinator's nonce (every signer and the coordinator derive the same).
        try { presign = new EcdsaPresignSession(active.Public, ids, EcdsaSigningNonce.From(nonce)); }
        catch (ArgumentException e) { throw new SessionRefusedException(e.Message); }
        key = root;
        Path = DerivationPath.Root;
        if (!IsPresign) BindMessage(p);
        using var t = new Transcript("rotor/node-session/ecdsa-sign/v2");
        t.Append("presign", presign.Digest);
        Parties.AppendTo(t, "signers");
        Id = t.Digest();
        if (IsPresign)
        {
            if (!node.EcdsaPresigns.TryReserve(active.KeyId, active.Epoch))
                throw new SessionRefusedException($"it already holds {EcdsaPresignLimit.PerKey} unused ECDSA presigns of key '{active.KeyId}' epoch {active.Epoch}");
            holdsPresignSlot = true;
        }
    }

    public SessionParties Parties { get; }

    public byte[] Id { get; }

    /// <summary>Opened ahead of the message (round 1 only, until a signing request binds it).</summary>
    public bool IsPresign { get; }

    /// <summary>Whether this session is a presign still waiting for its signing request.</summary>
    public bool IsUnusedPresignOf(string keyId) => IsPresign && session is null && active.KeyId == keyId;

    public DerivationPath Path { get; private set; }

    /// <summary>The scheme of the key being signed with.</summary>
    public string Scheme => Schemes.Name(Rotor.Protocols.Scheme.EcdsaSecp256k1);

    /// <summary>The verified approval of this signature; spent (durably) before round 2, the first use of the share.</summary>
    public Protocols.Governance.ActionRequest? Approval { get; set; }

    public string Description => (IsPresign ? "ECDSA presigned signing" : "ECDSA signing") + $" with key '{active.KeyId}' epoch {active.Epoch}" + (Path.IsRoot ? "" : $" for path {Path}");

    /// <summary>The message, the path and the share (derived for a path) of this signing, bound to the presign part.</summary>
    private void BindMessage(SignParams p)
    {
        try { Path = string.IsNullOrEmpty(p.Path) ? DerivationPath.Root : DerivationPath.Parse(p.Path); }
        catch (ArgumentException e) { throw new SessionRefusedException(e.Message); }
        try { key = root.Derive(Path); }
        catch (HdUnavailableException e) { throw new SessionRefusedException(e.Message); }
        var package = Path.IsRoot ? active.Public : HdDerivation.DerivePackage(active.Public, Path);
        try { session = new EcdsaSignSession(presign, package, p.Message.Span); }
        catch (ArgumentException e) { throw new SessionRefusedException(e.Message); }
        signer?.Bind(key, session);
    }

    /// <summary>
    /// A presign's signing request (the first step's coordinator input), checked as a start would be: a sign request
    /// for this key, epoch and exactly these signers (names and member indices), with a 32-byte message and the
    /// operators' approval of it (verified here, spent before round 2).
    /// </summary>
    private void BindRequest(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty) throw new SessionRefusedException("a presigned ECDSA signing needs the signing request with its first step");
        StartRequest request;
        try { request = StartRequest.Parser.ParseFrom(input); }
        catch (Google.Protobuf.InvalidProtocolBufferException e) { throw new SessionRefusedException($"malformed signing request: {e.Message}"); }
        if (request.KindCase != StartRequest.KindOneofCase.Sign) throw new SessionRefusedException($"the request bound to an ECDSA presign is a {request.KindCase} request, not a signing");
        var p = request.Sign;
        if (p.KeyId != active.KeyId || p.Epoch != active.Epoch)
            throw new SessionRefusedException($"the signing request is for key '{p.KeyId}' epoch {p.Epoch}, the presign for key '{active.KeyId}' epoch {active.Epoch}");
        if (p.Presign != 0 || p.SigningPackage.Length > 0) throw new SessionRefusedException("a signing request bound to a presign asks for nothing in advance");
        RequireDigest(p);
        // Exactly the presign's signers: the same names, member indices and certificates (verified when it was opened).
        static string[] Signers(IEnumerable<Party> parties) => parties.Select(x => x.Name).Order(StringComparer.Ordinal).ToArray();
        static IEnumerable<(string, ulong, string)> Entries(IEnumerable<Party> parties) =>
            parties.Select(x => (x.Name, x.Index, Convert.ToHexStringLower(x.Certificate.Span))).OrderBy(x => x.Name, StringComparer.Ordinal);
        if (!Entries(p.Signers).SequenceEqual(Entries(presignSigners)))
            throw new SessionRefusedException($"the signing request names signers [{string.Join(", ", Signers(p.Signers))}], the presign was made with [{string.Join(", ", Signers(presignSigners))}]" +
                                              (Signers(p.Signers).SequenceEqual(Signers(presignSigners)) ? " (other member indices or certificates)" : ""));
        Approval = node.Governance.CheckSign(p, request.Authorization, Scheme).Request;
        BindMessage(p);
        ReleasePresignSlot();
    }

    private static void RequireDigest(SignParams p)
    {
        if (p.Message.Length != EcdsaSignSession.MessageDigestLength)
            throw new ArgumentException($"an ecdsa-secp256k1 signature signs exactly a 32-byte digest (the chain's: keccak-256, a sighash); got {p.Message.Length} bytes");
    }

    private void ReleasePresignSlot()
    {
        if (!holdsPresignSlot) return;
        holdsPresignSlot = false;
        node.EcdsaPresigns.Release(active.KeyId, active.Epoch);
    }

    public StepResult Start()
    {
        var (s, messages) = EcdsaSigner.Presign(root, presign);
        signer = s;
        if (session is not null) s.Bind(key, session);
        round = 1;
        return StepResult.Send(Route(messages.Select(m => (m.Recipient, m.ToBytes())), Round1Label));
    }

    public StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput)
    {
        if (signer is null) throw new SessionRefusedException("ECDSA signing is not open");
        StillActive();
        try
        {
            if (round == 1)
            {
                if (IsPresign && session is null) BindRequest(coordinatorInput);
                else if (!coordinatorInput.IsEmpty) throw new SessionRefusedException("this ECDSA signing already has its request");
                var got = Collect(inbound, Round1Label).Select(kv => Decode(kv.Key, kv.Value, b => EcdsaSignRound1.FromBytes(b), m => m.Sender)).ToList();
                node.Governance.Consume(Approval ?? throw new SessionRefusedException("signing without a verified approval"));
                var next = signer.Round2(got);
                round = 2;
                return StepResult.Send(Route(next.Select(m => (m.Recipient, m.ToBytes())), Round2Label));
            }
            var r2 = Collect(inbound, Round2Label).Select(kv => Decode(kv.Key, kv.Value, b => EcdsaSignRound2.FromBytes(b), m => m.Sender)).ToList();
            var share = signer.Round3(r2);
            signer = null;
            return StepResult.Finish(share.ToBytes());
        }
        catch (ProtocolException e) when (e.Fault == Fault.InvalidProof)
        {
            // A failed OT-extension or multiplication check: the pair's material is retired for good (erased).
            foreach (var peer in key.RetiredPairs) node.WithVault(v => v.RetirePair(key.Share.KeyId, key.Share.Epoch, peer.ToBytes()));
            throw;
        }
    }

    /// <summary>A reshare may have committed meanwhile: never go on with a shard that is no longer active.</summary>
    private void StillActive()
    {
        if (node.WithVault(v => v.ActiveEpoch(key.Share.KeyId)) != key.Share.Epoch)
            throw new SessionRefusedException($"key '{key.Share.KeyId}' epoch {key.Share.Epoch} was superseded during signing; retry with the new epoch");
    }

    private Dictionary<string, byte[]> Collect(IReadOnlyList<PeerMessage> inbound, string label) => Rounds.CollectPayloads(inbound, label, peers);

    private T Decode<T>(string sender, byte[] payload, Func<byte[], T> decode, Func<T, Identifier> senderOf)
    {
        T m;
        try { m = decode(payload); }
        catch (Exception e) when (e is ArgumentException or Rotor.Crypto.RotorCryptoException or ProtocolException)
        {
            throw new SessionRefusedException($"'{sender}' sent a malformed ECDSA signing message: {e.Message}");
        }
        if (senderOf(m) != Parties.IdentifierOf(key.Share.Scheme, sender))
            throw new ProtocolException(Fault.UnexpectedSender, $"'{sender}' sent an ECDSA signing message as member {senderOf(m)}", senderOf(m));
        return m;
    }

    private List<PeerMessage> Route(IEnumerable<(Identifier Recipient, byte[] Bytes)> messages, string label)
    {
        var byId = peers.ToDictionary(n => Parties.IdentifierOf(key.Share.Scheme, n), n => n);
        return messages.Select(m => new PeerMessage(byId[m.Recipient], label, m.Bytes)).ToList();
    }

    public void Dispose()
    {
        signer = null;
        ReleasePresignSlot();
    }
}
