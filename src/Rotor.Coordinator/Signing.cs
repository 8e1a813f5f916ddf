using Rotor.Protocols.Keys.Hd;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Keys;
using Rotor.Rpc;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

using static Rotor.Coordinator.NodeReplies;

namespace Rotor.Coordinator;

/// <summary>
/// Threshold signing over the nodes: chooses the signers, runs FROST's rounds through the relay (one round when every
/// signer committed in advance) or threshold ECDSA's (<see cref="EcdsaSigning"/>), checks each share, aggregates and verifies; retries on the new epoch a signature that
/// raced a reshare's commit. The coordinator never authorises anything: each node checks the approval it is sent.
/// </summary>
public sealed class Signing
{
    private readonly Engine engine;
    private readonly Registry registry;
    private readonly NodeDirectory nodes;
    private readonly NodeClients clients;
    private readonly EcdsaSigning ecdsa;

    internal Signing(Engine engine, Registry registry, NodeDirectory nodes, NodeClients clients)
    {
        this.engine = engine;
        ecdsa = new EcdsaSigning(engine);
        this.registry = registry;
        this.nodes = nodes;
        this.clients = clients;
        nodes.MemoryLost += ForgetNode;
    }

    /// <summary>The outcome of a threshold signature.</summary>
    /// <param name="Path">The derivation path signed for (canonical, e.g. m/0/7); null for the root key. PublicKey is then the child's.</param>
    /// <param name="RecoveryId">ecdsa-secp256k1 only: the recovery id (0 or 1, the parity of R's y) beside r ‖ s in <paramref name="Bytes"/>.</param>
    /// <param name="RoundTrips">ecdsa-secp256k1 only: coordinator-to-node round trips (2 with round 1 made ahead, else 3).</param>
    public sealed record Signature(WalletEntry Wallet, ulong Epoch, IReadOnlyList<string> Signers, byte[] Message, byte[] Bytes, string PublicKey, string? Path = null,
        int? RecoveryId = null, int? RoundTrips = null);

    /// <summary>
    /// FROST over the chosen signers (default: the first threshold online members of the epoch): round 1 commitments,
    /// the signing package, round 2 shares, each share checked, aggregated and verified with the scheme's verifier.
    /// </summary>
    /// <remarks>A reshare that commits while a signature is being made at the current epoch makes it fail on the
    /// nodes (they never sign with a superseded shard); the request is then retried once at the new epoch.</remarks>
    public async Task<Signature> SignAsync(string walletId, byte[] message, IReadOnlyList<string> signerNames, ulong? epochOverride, string? path = null)
    {
        var derivation = Engine.ParsePath(path);
        EcdsaPairs.CheckMessage(engine.RequireWallet(walletId), message);
        if (epochOverride is { } pinned) return await SignAtAsync(walletId, message, signerNames, pinned, derivation);
        for (var attempt = 1; ; attempt++)
        {
            var epoch = engine.RequireWallet(walletId).Epoch;
            try { return await SignAtAsync(walletId, message, signerNames, epoch, derivation); }
            catch (CoordinatorException e) when (attempt < SignAttempts)
            {
                if (!await RacedCommitAsync(walletId, epoch, e)) throw;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1_000, 50 << attempt)));
            }
        }
    }

    /// <summary>Attempts of a signature that races reshare commits (each waits a little longer: about 5 s in all).</summary>
    private const int SignAttempts = 9;

    /// <summary>
    /// True when a failed signature raced a reshare's commit and is worth retrying: the wallet's epoch moved since it
    /// started (retry at the new epoch), or the epoch it used was committed by a reshare and a signer refused it (the
    /// commit has not reached that signer yet: it is sent to the members now, then the signature is retried).
    /// </summary>
    private async Task<bool> RacedCommitAsync(string walletId, ulong epoch, CoordinatorException e)
    {
        var wallet = registry.FindWallet(walletId);
        if (wallet is null) return false;
        if (wallet.Epoch != epoch) return true;
        if (e.Code != StatusCode.FailedPrecondition || registry.FindEpoch(walletId, epoch) is not { EventId: not null } current) return false;
        try { await engine.SettleAsync(current.Members.Select(m => registry.FindNode(m)).OfType<NodeEntry>().ToList()); }
        catch (Exception x) when (x is RpcException or CoordinatorException or InvalidOperationException) { }
        return true;
    }

    private async Task<Signature> SignAtAsync(string walletId, byte[] message, IReadOnlyList<string> signerNames, ulong epochNumber, DerivationPath path)
    {
        var wallet = engine.RequireWallet(walletId);
        var epoch = registry.FindEpoch(wallet.Id, epochNumber)
            ?? throw new CoordinatorException(StatusCode.NotFound, $"wallet '{walletId}' has no epoch {epochNumber} (current: {wallet.Epoch})");
        // For a derived key: the child's package (verification shares and group key tweaked); the nodes derive their shares themselves.
        var pub = engine.DerivedPackage(wallet, epoch, path);
        List<NodeEntry> signers;
        if (signerNames.Count > 0)
        {
            foreach (var s in signerNames)
                if (!epoch.Members.Contains(s))
                    throw new CoordinatorException(StatusCode.InvalidArgument, $"'{s}' is not a member of wallet '{walletId}' at epoch {epochNumber} (members: {string.Join(", ", epoch.Members)})");
            if (signerNames.Distinct().Count() < epoch.Threshold)
                throw new CoordinatorException(StatusCode.InvalidArgument, $"{signerNames.Distinct().Count()} signers given, wallet '{walletId}' needs {epoch.Threshold}");
            signers = signerNames.Distinct().Select(nodes.RequireNode).ToList();
            await nodes.RequireOnline(signers, $"signing with wallet '{walletId}'");
        }
        else signers = await OnlineSigners(walletId, epoch, pollNow: false);
        var what = $"signing with wallet '{walletId}' epoch {epochNumber}";
        if (EcdsaPairs.IsEcdsa(wallet.Scheme))
        {
            try { return await ecdsa.SignAsync(wallet, epoch, message, signers, path, pub, what); }
            catch (CoordinatorException e) when (EcdsaPairs.NeedsSetup(e) && registry.FindWallet(wallet.Id)?.Epoch == epochNumber)
            {
                // A signer lacks pair material with another (a pair retired after a failed check, or a setup broken off
                // midway): every member sets up its pairs afresh for this epoch, then the signing is tried once more.
                var members = epoch.Members.Select(nodes.RequireNode).ToList();
                await nodes.RequireOnline(members, $"{what}: ECDSA pair setup");
                await engine.Ecdsa.SetupAsync([(wallet, epoch)], members, null, null, what);
                return await ecdsa.SignAsync(wallet, epoch, message, signers, path, pub, what);
            }
        }
        StartRequest Start(IEnumerable<NodeEntry> chosen, SigningPackage? package = null)
        {
            var start = new StartRequest
            {
                Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
                Sign = new SignParams { KeyId = wallet.Id, Epoch = epochNumber, Message = ByteString.CopyFrom(message), Presign = PresignAhead, Path = path.IsRoot ? "" : path.ToString() },
            };
            start.Sign.Signers.AddRange(chosen.Select(ToParty));
            if (package is not null) start.Sign.SigningPackage = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(package.ToData(), Json));
            return Governance.ActionContext.Attach(start);
        }
        Signature Finish(SigningPackage package, Dictionary<string, StepReply> replies)
        {
            var shares = replies.Select(r => Decode<SignatureShareData>(r.Value.Output.ToByteArray(), r.Key).Validate(pub.Scheme)).ToList();
            var signature = FrostCoordinator.Aggregate(package, shares, pub);
            if (!SchemeSignatures.Verify(pub.Scheme, pub.GroupPublicKey, message, signature))
                throw new CoordinatorException(StatusCode.Internal, $"{what}: the aggregate signature does not verify");
            KeepPresigned(replies, wallet.Id, epochNumber, pub);
            return new Signature(wallet, epochNumber, signers.Select(s => s.Name).ToList(), message, signature,
                path.IsRoot ? Engine.Display(wallet).PublicKey : Convert.ToHexStringLower(SchemeKeys.EncodePublicKey(pub.Scheme, pub.GroupPublicKey)), path.IsRoot ? null : path.ToString());
        }

        // One round when every signer committed in advance: the signing package goes out with the start.
        if (TakePresigned(signers, wallet.Id, epochNumber) is { } ready)
        {
            var package = SigningPackage.Create(pub, ready, message);
            var start = Start(signers, package);
            try
            {
                var replies = await engine.Driver.CallAll(signers, (c, _) => c.StartAsync(start, deadline: engine.Driver.Deadline()).ResponseAsync, what, "signing");
                return Finish(package, replies);
            }
            catch (CoordinatorException e) when (e.Code is StatusCode.FailedPrecondition or StatusCode.Unavailable)
            {
                // A signer lost its nonces (a restart) or is gone: sign in two rounds (choosing again if needed).
                ForgetPresigned(signers, wallet.Id, epochNumber);
            }
            catch (ProtocolException e) { throw new CoordinatorException(StatusCode.Aborted, $"{what}: {e.Message}"); }
        }

        Task<Dictionary<string, StepReply>> Round1(StartRequest start) =>
            engine.Driver.CallAll(signers, (c, _) => c.StartAsync(start, deadline: engine.Driver.Deadline()).ResponseAsync, what, "round 1");
        Dictionary<string, StepReply> round1;
        try { round1 = await Round1(Start(signers)); }
        catch (CoordinatorException e) when (e.Code == StatusCode.Unavailable && signerNames.Count == 0)
        {
            // The signers were chosen from the last heartbeat: one has gone since. Poll every member now and choose again.
            signers = await OnlineSigners(walletId, epoch, pollNow: true);
            round1 = await Round1(Start(signers));
        }
        try
        {
            var commitments = round1.Select(r => Decode<SigningCommitmentsData>(r.Value.Output.ToByteArray(), r.Key).Validate(pub.Scheme)).ToList();
            var package = SigningPackage.Create(pub, commitments, message);
            var input = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(package.ToData(), Json));
            var round2 = await engine.Driver.CallAll(signers, (c, n) => c.StepAsync(new StepRequest { SessionId = round1[n.Name].SessionId, CoordinatorInput = input }, deadline: engine.Driver.Deadline()).ResponseAsync, what, "round 2");
            return Finish(package, round2);
        }
        catch (ProtocolException e)
        {
            await AbortAll(signers, round1);
            throw new CoordinatorException(StatusCode.Aborted, $"{what}: {e.Message}");
        }
        catch (CoordinatorException)
        {
            await AbortAll(signers, round1);
            throw;
        }
    }

    /// <summary>Commitments each signer is asked to make in advance, with every signature, for the next one.</summary>
    private const uint PresignAhead = 1;

    /// <summary>Commitments kept per node, wallet and epoch (a signer keeps at most 4 sets of nonces per key).</summary>
    private const int PresignedKept = 4;

    /// <summary>Commitments older than this are not used (a node keeps unused nonces for 10 minutes).</summary>
    private static readonly TimeSpan PresignedFresh = TimeSpan.FromMinutes(8);

    /// <summary>
    /// Commitments signers made in advance, by node, wallet and epoch, with when they arrived. Public data; each is
    /// handed out at most once (taken out of its queue), and a node refuses nonces it no longer holds, so none is
    /// ever used twice.
    /// </summary>
    private readonly ConcurrentDictionary<(string Node, string Wallet, ulong Epoch), ConcurrentQueue<(SigningCommitments Commitments, DateTime Made)>> presigned = new();

    /// <summary>One fresh commitment made in advance for every signer, or null (and none taken) if any signer has none.</summary>
    private List<SigningCommitments>? TakePresigned(IReadOnlyList<NodeEntry> signers, string walletId, ulong epoch)
    {
        var taken = new List<(SigningCommitments, DateTime)>();
        var oldest = DateTime.UtcNow - PresignedFresh;
        foreach (var s in signers)
        {
            if (presigned.TryGetValue((s.Name, walletId, epoch), out var queue))
            {
                (SigningCommitments Commitments, DateTime Made) c;
                while (queue.TryDequeue(out c) && c.Made < oldest) { }
                if (c.Commitments is not null && c.Made >= oldest)
                {
                    taken.Add(c);
                    continue;
                }
            }
            // Put back the ones taken: they were never sent.
            foreach (var (t, n) in taken.Zip(signers)) presigned.GetOrAdd((n.Name, walletId, epoch), _ => new()).Enqueue(t);
            return null;
        }
        return taken.Select(t => t.Item1).ToList();
    }

    /// <summary>
    /// Keeps the commitments the signers made in advance, each checked to decode and to be the signer's own for this
    /// wallet and epoch. One that fails is not kept (the signature already made stands; that signer's next signature
    /// simply takes two rounds).
    /// </summary>
    private void KeepPresigned(Dictionary<string, StepReply> replies, string walletId, ulong epoch, PublicKeyPackage pub)
    {
        foreach (var (node, reply) in replies)
        {
            var id = Identifier.FromUInt64(pub.Group, nodes.RequireNode(node).Index);
            var queue = presigned.GetOrAdd((node, walletId, epoch), _ => new());
            foreach (var bytes in reply.Presigned)
            {
                SigningCommitments c;
                try { c = JsonSerializer.Deserialize<SigningCommitmentsData>(bytes.Span, Json)?.Validate(pub.Scheme) ?? throw new JsonException("empty"); }
                catch (Exception e) when (e is JsonException or ProtocolException) { continue; }
                if (c.Identifier == id && c.KeyId == walletId && c.Epoch == epoch && queue.Count < PresignedKept) queue.Enqueue((c, DateTime.UtcNow));
            }
        }
    }

    /// <summary>Drops the commitments made in advance by these signers for a wallet's epoch.</summary>
    private void ForgetPresigned(IReadOnlyList<NodeEntry> signers, string walletId, ulong epoch)
    {
        foreach (var s in signers) presigned.TryRemove((s.Name, walletId, epoch), out _);
    }

    /// <summary>Drops every commitment made in advance for these wallets (a reshare gave them a new epoch).</summary>
    internal void ForgetPresigned(IReadOnlySet<string> walletIds)
    {
        ecdsa.Forget(walletIds);
        foreach (var key in presigned.Keys.Where(k => walletIds.Contains(k.Wallet)).ToList()) presigned.TryRemove(key, out _);
    }

    /// <summary>
    /// The first threshold online members of the epoch, by the last heartbeat's health when it is at most 2 s old
    /// (or by polling them now); refuses, naming the offline members, when fewer than the threshold are online.
    /// </summary>
    private async Task<List<NodeEntry>> OnlineSigners(string walletId, WalletEpoch epoch, bool pollNow)
    {
        var members = epoch.Members.Select(nodes.RequireNode).ToList();
        var polled = await Task.WhenAll(members.Select(m => pollNow ? nodes.PollAsync(m) : nodes.RecentHealth(m)));
        var signers = members.Where((m, i) => polled[i].Online).Take(epoch.Threshold).ToList();
        if (signers.Count < epoch.Threshold)
            throw new CoordinatorException(StatusCode.Unavailable,
                $"signing with wallet '{walletId}' needs {epoch.Threshold} online members; offline: {string.Join(", ", members.Where((m, i) => !polled[i].Online).Select(m => m.Name))}");
        return signers;
    }

    private async Task AbortAll(IReadOnlyList<NodeEntry> nodes, Dictionary<string, StepReply> started)
    {
        await Task.WhenAll(nodes.Where(n => started.ContainsKey(n.Name)).Select(async n =>
        {
            try { await clients.For(n).AbortAsync(new AbortRequest { SessionId = started[n.Name].SessionId }, deadline: DateTime.UtcNow.AddSeconds(3)); }
            catch (RpcException) { }
        }));
    }

    /// <summary>Drops every commitment a node made in advance (it restarted, or cannot be reached and may come back restarted).</summary>
    private void ForgetNode(string node)
    {
        ecdsa.ForgetNode(node);
        foreach (var key in presigned.Keys.Where(k => k.Node == node).ToList()) presigned.TryRemove(key, out _);
    }
}
