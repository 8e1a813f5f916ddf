using Rotor.Protocols.Keys.Hd;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Rpc;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

namespace Rotor.Coordinator;

/// <summary>One entry for the audit log: kind, quorum, subject and details (public data only).</summary>
public sealed record AuditRecord(string Kind, string? Quorum, string? Subject, object Details);

/// <summary>A node's health as last polled.</summary>
public sealed record NodeHealth(bool Online, NodeStatus? Status, long LastSeen, string? Error);

/// <summary>
/// The coordinator's logic: registry of nodes, quorums and wallets; drives key generation, signing and
/// reshares over the nodes; keeps node health and settles nodes left with pending epochs.
/// </summary>
public sealed partial class Engine(Registry registry, NodeClients clients, CoordinatorConfig config)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private readonly ConcurrentDictionary<string, NodeHealth> health = new();
    private readonly ConcurrentDictionary<string, long> persistedSeen = new();
    private readonly SemaphoreSlim reshareGate = new(1, 1);

    public Registry Registry => registry;

    /// <summary>One writer per quorum (reshares, wallet creation, repair, catch-up).</summary>
    public QuorumLocks Locks { get; } = new();

    /// <summary>Receives what the engine does for the audit log: kind, quorum, subject and details (public data only).</summary>
    public Action<string, string?, string?, object>? Audit { get; set; }

    /// <summary>Receives many audit records at once (e.g. every wallet of a key generation), to be logged together.</summary>
    public Action<IReadOnlyList<AuditRecord>>? AuditAll { get; set; }

    public SessionDriver Driver { get; } = new(clients, TimeSpan.FromMilliseconds(config.NodeCallTimeoutMillis));

    // ------------------------------------------------------------------ nodes

    /// <summary>Registers a node: fetches its certificate over mutual TLS, checks it names the node and carries identity keys.</summary>
    public async Task<NodeEntry> AddNodeAsync(string name, string endpoint)
    {
        RequireName("node", name);
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != "https")
            throw new CoordinatorException(StatusCode.InvalidArgument, $"endpoint '{endpoint}' is not an https:// URL");
        NodeInfo info;
        try { info = await clients.For(name, endpoint).GetInfoAsync(new GetInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(10)); }
        catch (RpcException e) { throw new CoordinatorException(StatusCode.Unavailable, $"node '{name}' at {endpoint} cannot be reached over mutual TLS: {e.Status.Detail}"); }
        if (info.Name != name) throw new CoordinatorException(StatusCode.InvalidArgument, $"the node at {endpoint} is '{info.Name}', not '{name}'");
        var keys = clients.Trust.NodeIdentity(info.Certificate.Span, name);
        var entry = registry.AddNode(name, endpoint, info.Certificate.ToByteArray(),
            Convert.ToHexStringLower(keys.SigningKey), Convert.ToHexStringLower(keys.AgreementKey));
        Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.NodeAdded, null, name, new { endpoint, index = entry.Index, signing_key = entry.SigningKey, agreement_key = entry.AgreementKey });
        await PollAsync(entry);
        return entry;
    }

    public NodeHealth HealthOf(string name) => health.TryGetValue(name, out var h) ? h : new NodeHealth(false, null, 0, "not polled yet");

    /// <summary>Polls one node's status (2 s deadline) and records the result.</summary>
    public async Task<NodeHealth> PollAsync(NodeEntry node)
    {
        NodeHealth h;
        try
        {
            var status = await clients.For(node).GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            // The database keeps last-seen to the nearest 10 s: one write per node per 10 s, not one per heartbeat.
            if (now - persistedSeen.GetValueOrDefault(node.Name) >= 10_000)
            {
                registry.Seen(node.Name, now);
                persistedSeen[node.Name] = now;
            }
            h = new NodeHealth(true, status, now, null);
            // A restarted node lost the nonces behind its commitments made in advance: offering them would make the
            // other signers spend a single-use approval on a signature that cannot complete.
            if (health.TryGetValue(node.Name, out var before) && before.Status is { } was && !was.BootId.Equals(status.BootId))
                foreach (var key in presigned.Keys.Where(k => k.Node == node.Name).ToList()) presigned.TryRemove(key, out _);
        }
        catch (RpcException e)
        {
            var last = health.TryGetValue(node.Name, out var previous) && previous.LastSeen > 0 ? previous.LastSeen : registry.FindNode(node.Name)?.LastSeen ?? 0;
            h = new NodeHealth(false, null, last, e.StatusCode.ToString());
            // Unreachable: it may come back restarted (its boot id is then compared with nothing), so its commitments go now.
            foreach (var key in presigned.Keys.Where(k => k.Node == node.Name).ToList()) presigned.TryRemove(key, out _);
        }
        health[node.Name] = h;
        return h;
    }

    /// <summary>A node's health from the last heartbeat if it was seen online in the last 2 s; otherwise polled now.</summary>
    private async Task<NodeHealth> RecentHealth(NodeEntry node) =>
        HealthOf(node.Name) is { Online: true } h && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - h.LastSeen < 2_000 ? h : await PollAsync(node);

    public async Task PollAllAsync() => await Task.WhenAll(registry.ListNodes().Select(PollAsync));

    private NodeEntry RequireNode(string name) =>
        registry.FindNode(name) ?? throw new CoordinatorException(StatusCode.NotFound, $"no node named '{name}' is registered");

    /// <summary>Polls the given nodes and refuses, naming them, if any is offline.</summary>
    private async Task RequireOnline(IEnumerable<NodeEntry> nodes, string what)
    {
        var list = nodes.ToList();
        var polled = await Task.WhenAll(list.Select(PollAsync));
        var offline = list.Where((n, i) => !polled[i].Online).Select(n => n.Name).ToList();
        if (offline.Count > 0)
            throw new CoordinatorException(StatusCode.Unavailable, $"{what} needs {string.Join(", ", offline)}, which {(offline.Count == 1 ? "is" : "are")} offline");
    }

    // ------------------------------------------------------------------ quorums

    public QuorumEntry CreateQuorum(string name, int threshold, IReadOnlyList<string> members)
    {
        RequireName("quorum", name);
        if (members.Count == 0) throw new CoordinatorException(StatusCode.InvalidArgument, "a quorum needs members");
        if (members.Distinct().Count() != members.Count) throw new CoordinatorException(StatusCode.InvalidArgument, "a member is listed twice");
        foreach (var m in members) RequireNode(m);
        if (threshold < 1 || threshold > members.Count)
            throw new CoordinatorException(StatusCode.InvalidArgument, $"threshold {threshold} is outside 1..{members.Count}");
        QuorumEntry created;
        try { created = registry.CreateQuorum(name, threshold, members); }
        catch (InvalidOperationException e) { throw new CoordinatorException(StatusCode.AlreadyExists, e.Message); }
        Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.QuorumCreated, name, name, new { threshold, members });
        return created;
    }

    /// <summary>The node and quorum name rule (<see cref="Names"/>), as an invalid-argument error of the API.</summary>
    private static void RequireName(string what, string name)
    {
        try
        {
            if (what == "node") Names.ValidateNode(name);
            else Names.Validate(what, name);
        }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
    }

    public QuorumEntry RequireQuorum(string name) =>
        registry.FindQuorum(name) ?? throw new CoordinatorException(StatusCode.NotFound, $"no quorum named '{name}'");

    // ------------------------------------------------------------------ wallets

    public WalletEntry RequireWallet(string id) =>
        registry.FindWallet(id) ?? throw new CoordinatorException(StatusCode.NotFound, $"no wallet '{id}'");

    /// <summary>
    /// The validated public key package of a wallet's epoch, rebuilt from the registry; validated once per process
    /// (<see cref="ValidatedPackages"/>: signing does not decode and check the same package again).
    /// </summary>
    public PublicKeyPackage PublicPackage(WalletEntry wallet, WalletEpoch epoch)
    {
        var digest = Schemes.TryParse(wallet.Scheme, out var scheme)
            ? ValidatedPackages.Digest(wallet.Id, wallet.Scheme, epoch.Epoch, epoch.Threshold,
                epoch.VerifyingShares.OrderBy(kv => kv.Key).Select(kv => (scheme.Group().ScalarFromUInt64(kv.Key).ToBytes(), Convert.FromHexString(kv.Value),
                    epoch.MemberKeys is { } k && k.TryGetValue(kv.Key, out var key) ? Convert.FromHexString(key) : [])),
                Convert.FromHexString(wallet.PublicKey),
                wallet.ChainCode is null ? null : Convert.FromHexString(wallet.ChainCode), wallet.InternalKey is null ? null : Convert.FromHexString(wallet.InternalKey))
            : "";
        return ValidatedPackages.Shared.GetOrValidate(digest, () => BuildPackage(wallet, epoch));
    }

    private static PublicKeyPackage BuildPackage(WalletEntry wallet, WalletEpoch epoch)
    {
        var scheme = Schemes.Parse(wallet.Scheme);
        var g = scheme.Group();
        var shares = epoch.VerifyingShares.ToDictionary(kv => Identifier.FromUInt64(g, kv.Key), kv => g.DecodeElement(Convert.FromHexString(kv.Value)));
        var pub = new PublicKeyPackage(wallet.Id, scheme, epoch.Epoch, epoch.Threshold, shares, g.DecodeElement(Convert.FromHexString(wallet.PublicKey)));
        if (epoch.MemberKeys is { Count: > 0 } keys)
            pub = pub.WithMemberKeys(keys.ToDictionary(kv => Identifier.FromUInt64(g, kv.Key), kv => Convert.FromHexString(kv.Value)));
        if (wallet.ChainCode is { } cc)
            pub = pub.WithHdRoot(Convert.FromHexString(cc), wallet.InternalKey is { } ik ? g.DecodeElement(Convert.FromHexString(ik)) : null);
        return pub;
    }

    /// <summary>The wallet's key as the scheme shows it (bip340: x-only), hex, and its address.</summary>
    public static (string PublicKey, string Address) Display(WalletEntry wallet)
    {
        var scheme = Schemes.Parse(wallet.Scheme);
        var key = SchemeKeys.EncodePublicKey(scheme, scheme.Group().DecodeElement(Convert.FromHexString(wallet.PublicKey)));
        return (Convert.ToHexStringLower(key), Addresses.For(scheme, key));
    }

    /// <summary>
    /// Runs one DKG session over every member of the quorum for <paramref name="count"/> new wallets, checks that all
    /// members report the same public key packages, and records the wallets at epoch 0.
    /// </summary>
    public async Task<IReadOnlyList<WalletEntry>> CreateWalletsAsync(string quorumName, string schemeName, int count)
    {
        if (!Schemes.TryParse(schemeName, out var scheme))
            throw new CoordinatorException(StatusCode.InvalidArgument, $"unknown scheme '{schemeName}' (expected ed25519, secp256k1 or bip340)");
        if (count is < 1 or > 100_000) throw new CoordinatorException(StatusCode.InvalidArgument, $"count {count} is outside 1..100000");
        RequireQuorum(quorumName);
        // Under the quorum's lock: the members read here are the members the wallets are recorded with.
        return await Locks.RunAsync(quorumName, $"key generation in quorum '{quorumName}'", () => CreateWalletsLockedAsync(quorumName, scheme, count));
    }

    private async Task<IReadOnlyList<WalletEntry>> CreateWalletsLockedAsync(string quorumName, Scheme scheme, int count)
    {
        var quorum = RequireQuorum(quorumName);
        var members = quorum.Members.Select(RequireNode).ToList();
        await RequireOnline(members, $"key generation in quorum '{quorumName}'");
        var ids = Enumerable.Range(0, count).Select(_ => $"{scheme.Name()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}").ToList();
        var start = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Dkg = new DkgParams { Scheme = scheme.Name(), Threshold = (uint)quorum.Threshold },
        };
        start.Dkg.KeyIds.AddRange(ids);
        start.Dkg.Parties.AddRange(members.Select(ToParty));
        var outputs = await Driver.RunAsync(members, start, $"key generation in quorum '{quorumName}'", count);
        var packages = AgreedPackages(outputs.ToDictionary(o => o.Key, o => Decode<DkgOutput>(o.Value, o.Key).Keys), "key generation");
        var records = Batches.Map(ids, id =>
        {
            var s = packages[id];
            if (s.Epoch != 0 || s.Threshold != quorum.Threshold || s.Scheme != scheme.Name())
                throw new CoordinatorException(StatusCode.Aborted, $"key generation: key '{id}' came back as {s.Scheme} epoch {s.Epoch} threshold {s.Threshold}");
            foreach (var m in members)
                if (!s.MemberKeys.TryGetValue(m.Index, out var k) || !string.Equals(k, m.SigningKey, StringComparison.OrdinalIgnoreCase))
                    throw new CoordinatorException(StatusCode.Aborted, $"key generation: key '{id}' came back without '{m.Name}''s identity key for identifier {m.Index}");
            var wallet = new WalletEntry(id, scheme.Name(), quorumName, s.GroupPublicKey, 0,
                s.ChainCode is { Length: > 0 } cc ? cc.ToLowerInvariant() : null, s.InternalKey is { Length: > 0 } ik ? ik.ToLowerInvariant() : null);
            var epoch = new WalletEpoch(id, 0, s.Threshold, quorum.Members, s.VerifyingShares, null, s.MemberKeys);
            PublicPackage(wallet, epoch); // validates consistency of the verification shares with the group key
            return (wallet, epoch);
        });
        try { registry.AddWallets(records); }
        catch (InvalidOperationException e) { throw new CoordinatorException(StatusCode.Aborted, $"key generation in quorum '{quorumName}': {e.Message}; no wallet recorded"); }
        AuditAll?.Invoke(records.Select(r => new AuditRecord(Rotor.Coordinator.Audit.AuditKinds.WalletsCreated, quorumName, r.wallet.Id,
            new { scheme = r.wallet.Scheme, public_key = r.wallet.PublicKey, epoch = r.wallet.Epoch, threshold = quorum.Threshold, members = quorum.Members })).ToList());
        return records.Select(r => r.wallet).ToList();
    }

    /// <summary>Checks that every party reported the same public package for every key; returns them by key id.</summary>
    private static Dictionary<string, KeyPackageSummary> AgreedPackages(Dictionary<string, List<KeyPackageSummary>> byNode, string what)
    {
        Dictionary<string, KeyPackageSummary>? reference = null;
        string? referenceNode = null;
        foreach (var (node, list) in byNode)
        {
            var map = list.ToDictionary(k => k.KeyId);
            if (reference is null)
            {
                reference = map;
                referenceNode = node;
                continue;
            }
            foreach (var (id, s) in reference)
            {
                if (!map.TryGetValue(id, out var other) || !Same(other, s))
                    throw new CoordinatorException(StatusCode.Aborted, $"{what}: nodes '{referenceNode}' and '{node}' disagree on the public key package of '{id}'");
            }
        }
        return reference ?? throw new CoordinatorException(StatusCode.Aborted, $"{what}: no output");
    }

    private static bool Same(KeyPackageSummary a, KeyPackageSummary b) =>
        a.KeyId == b.KeyId && a.Scheme == b.Scheme && a.Epoch == b.Epoch && a.Threshold == b.Threshold && a.GroupPublicKey == b.GroupPublicKey
        && a.VerifyingShares.Count == b.VerifyingShares.Count && a.VerifyingShares.All(kv => b.VerifyingShares.TryGetValue(kv.Key, out var y) && y == kv.Value)
        && a.MemberKeys.Count == b.MemberKeys.Count && a.MemberKeys.All(kv => b.MemberKeys.TryGetValue(kv.Key, out var k) && k == kv.Value)
        && a.ChainCode == b.ChainCode && a.InternalKey == b.InternalKey;

    private static T Decode<T>(byte[] bytes, string node)
    {
        try { return JsonSerializer.Deserialize<T>(bytes, Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new CoordinatorException(StatusCode.Aborted, $"node '{node}' returned an unreadable output: {Rotor.Crypto.JsonErrors.Describe(e)}"); }
    }

    private static Party ToParty(NodeEntry n) => new() { Name = n.Name, Index = n.Index, Certificate = ByteString.CopyFrom(n.Certificate) };

    // ------------------------------------------------------------------ signing

    /// <summary>The outcome of a threshold signature.</summary>
    /// <param name="Path">The derivation path signed for (canonical, e.g. m/0/7); null for the root key. PublicKey is then the child's.</param>
    public sealed record Signature(WalletEntry Wallet, ulong Epoch, IReadOnlyList<string> Signers, byte[] Message, byte[] Bytes, string PublicKey, string? Path = null);

    /// <summary>Parses a derivation path for a request: empty = the root; a bad one is InvalidArgument naming what is wrong.</summary>
    public static DerivationPath ParsePath(string? path)
    {
        if (string.IsNullOrEmpty(path)) return DerivationPath.Root;
        try { return DerivationPath.Parse(path); }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
    }

    /// <summary>The public package of the child key at <paramref name="path"/> (the root for m); FailedPrecondition for a wallet without a chain code.</summary>
    public PublicKeyPackage DerivedPackage(WalletEntry wallet, WalletEpoch epoch, DerivationPath path)
    {
        var pub = PublicPackage(wallet, epoch);
        try { return HdDerivation.DerivePackage(pub, path); }
        catch (HdUnavailableException e) { throw new CoordinatorException(StatusCode.FailedPrecondition, e.Message); }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, $"wallet '{wallet.Id}' path {path}: {e.Message}"); }
    }

    /// <summary>
    /// FROST over the chosen signers (default: the first threshold online members of the epoch): round 1 commitments,
    /// the signing package, round 2 shares, each share checked, aggregated and verified with the scheme's verifier.
    /// </summary>
    /// <remarks>A reshare that commits while a signature is being made at the current epoch makes it fail on the
    /// nodes (they never sign with a superseded shard); the request is then retried once at the new epoch.</remarks>
    public async Task<Signature> SignAsync(string walletId, byte[] message, IReadOnlyList<string> signerNames, ulong? epochOverride, string? path = null)
    {
        var derivation = ParsePath(path);
        if (epochOverride is { } pinned) return await SignAtAsync(walletId, message, signerNames, pinned, derivation);
        for (var attempt = 1; ; attempt++)
        {
            var epoch = RequireWallet(walletId).Epoch;
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
        try { await SettleAsync(current.Members.Select(m => registry.FindNode(m)).OfType<NodeEntry>().ToList()); }
        catch (Exception x) when (x is RpcException or CoordinatorException or InvalidOperationException) { }
        return true;
    }

    private async Task<Signature> SignAtAsync(string walletId, byte[] message, IReadOnlyList<string> signerNames, ulong epochNumber, DerivationPath path)
    {
        var wallet = RequireWallet(walletId);
        var epoch = registry.FindEpoch(wallet.Id, epochNumber)
            ?? throw new CoordinatorException(StatusCode.NotFound, $"wallet '{walletId}' has no epoch {epochNumber} (current: {wallet.Epoch})");
        // For a derived key: the child's package (verification shares and group key tweaked); the nodes derive their shares themselves.
        var pub = DerivedPackage(wallet, epoch, path);
        List<NodeEntry> signers;
        if (signerNames.Count > 0)
        {
            foreach (var s in signerNames)
                if (!epoch.Members.Contains(s))
                    throw new CoordinatorException(StatusCode.InvalidArgument, $"'{s}' is not a member of wallet '{walletId}' at epoch {epochNumber} (members: {string.Join(", ", epoch.Members)})");
            if (signerNames.Distinct().Count() < epoch.Threshold)
                throw new CoordinatorException(StatusCode.InvalidArgument, $"{signerNames.Distinct().Count()} signers given, wallet '{walletId}' needs {epoch.Threshold}");
            signers = signerNames.Distinct().Select(RequireNode).ToList();
            await RequireOnline(signers, $"signing with wallet '{walletId}'");
        }
        else signers = await OnlineSigners(walletId, epoch, pollNow: false);
        var what = $"signing with wallet '{walletId}' epoch {epochNumber}";
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
                path.IsRoot ? Display(wallet).PublicKey : Convert.ToHexStringLower(SchemeKeys.EncodePublicKey(pub.Scheme, pub.GroupPublicKey)), path.IsRoot ? null : path.ToString());
        }

        // One round when every signer committed in advance: the signing package goes out with the start.
        if (TakePresigned(signers, wallet.Id, epochNumber) is { } ready)
        {
            var package = SigningPackage.Create(pub, ready, message);
            var start = Start(signers, package);
            try
            {
                var replies = await Driver.CallAll(signers, (c, _) => c.StartAsync(start, deadline: Driver.Deadline()).ResponseAsync, what, "signing");
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
            Driver.CallAll(signers, (c, _) => c.StartAsync(start, deadline: Driver.Deadline()).ResponseAsync, what, "round 1");
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
            var round2 = await Driver.CallAll(signers, (c, n) => c.StepAsync(new StepRequest { SessionId = round1[n.Name].SessionId, CoordinatorInput = input }, deadline: Driver.Deadline()).ResponseAsync, what, "round 2");
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
            var id = Identifier.FromUInt64(pub.Group, RequireNode(node).Index);
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
    private void ForgetPresigned(IReadOnlySet<string> walletIds)
    {
        foreach (var key in presigned.Keys.Where(k => walletIds.Contains(k.Wallet)).ToList()) presigned.TryRemove(key, out _);
    }

    /// <summary>
    /// The first threshold online members of the epoch, by the last heartbeat's health when it is at most 2 s old
    /// (or by polling them now); refuses, naming the offline members, when fewer than the threshold are online.
    /// </summary>
    private async Task<List<NodeEntry>> OnlineSigners(string walletId, WalletEpoch epoch, bool pollNow)
    {
        var members = epoch.Members.Select(RequireNode).ToList();
        var polled = await Task.WhenAll(members.Select(m => pollNow ? PollAsync(m) : RecentHealth(m)));
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
}
