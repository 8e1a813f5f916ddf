using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Rotor.Coordinator;
using Rotor.Coordinator.Governance;
using Rotor.Node;
using Rotor.Protocols.Frost;
using Rotor.Rpc.Node;
using Rotor.Rpc.NodeOps;
using Rotor.Rpc.Sessions;
using Rotor.Rpc.Tls;

namespace Rotor.Integration.Tests.Malicious;

/// <summary>
/// Everything the coordinator holds, in the hands of an attacker who talks to the real node processes directly over
/// mutual TLS: the coordinator's TLS client certificate and key, its admin token, its database (the registry, with
/// every node certificate), and its engine. The real coordinator process is stopped first: this is the coordinator
/// now. It can run sessions honestly (<see cref="Honestly{T}"/>: the engine under an approval the operators made),
/// or build any request it likes and send it to any node. It never has an operator's private key.
/// </summary>
public sealed class MaliciousCoordinator : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private MaliciousCoordinator(string dir, CoordinatorConfig config)
    {
        Dir = dir;
        Config = config;
        Trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        Certificate = ClusterCa.LoadLeaf(config.Resolve(config.CertificateDir), config.Name);
        AdminToken = SecretFiles.Read(config.Resolve(config.AdminTokenFile)).Trim();
        Registry = new Registry(config.Resolve(config.Database));
        Clients = new NodeClients(Trust, Certificate);
        Engine = new Engine(Registry, Clients, config);
    }

    /// <summary>Takes over the coordinator of the cluster in <paramref name="dir"/> (whose process the caller has stopped).</summary>
    public static MaliciousCoordinator Take(string dir) =>
        new(dir, CoordinatorConfig.Load(Path.Combine(dir, "coordinator", CoordinatorConfig.FileName)));

    public string Dir { get; }
    public CoordinatorConfig Config { get; }
    public PeerTrust Trust { get; }
    /// <summary>The coordinator's TLS certificate with its private key (server and client roles).</summary>
    public X509Certificate2 Certificate { get; }
    public string AdminToken { get; }
    /// <summary>The coordinator's database: nodes (with every certificate), quorums, wallets, epochs, events.</summary>
    public Registry Registry { get; }
    public NodeClients Clients { get; }
    public Engine Engine { get; }

    public IReadOnlyList<NodeEntry> Nodes => Registry.ListNodes();

    public NodeEntry Node(string name) => Registry.FindNode(name) ?? throw new ArgumentException($"no node '{name}'");

    public SignerNode.SignerNodeClient Signer(string name) => Clients.For(Node(name));

    public NodeOperations.NodeOperationsClient Operations(string name) => new(Clients.Invoker(Node(name)));

    /// <summary>The cluster's backup recipient (DIR/backup-recipient.pub), pinned on every node; its private key is the operators'.</summary>
    public byte[] PinnedRecipient => Convert.FromHexString(File.ReadAllText(Path.Combine(Dir, "backup-recipient.pub")).Trim());

    /// <summary>The private key of <see cref="PinnedRecipient"/> (DIR/backup-recipient.key): the operators hold it, the attacker does not.</summary>
    public byte[] PinnedRecipientPrivateKey() => Convert.FromHexString(SecretFiles.Read(Path.Combine(Dir, "backup-recipient.key")).Trim());

    private static DateTime Deadline => DateTime.UtcNow.AddMinutes(1);

    // ------------------------------------------------------------------ honest runs

    /// <summary>Runs the coordinator's own engine under an approval made by the operators (the honest flow).</summary>
    public async Task<T> Honestly<T>(Authorization approval, Func<Engine, Task<T>> run)
    {
        using (ActionContext.Use(approval)) return await run(Engine);
    }

    // ------------------------------------------------------------------ requests it can build

    public static Party Party(NodeEntry n, ulong? index = null) =>
        new() { Name = n.Name, Index = index ?? n.Index, Certificate = ByteString.CopyFrom(n.Certificate) };

    public static ByteString Nonce() => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32));

    /// <summary>A key generation over the named nodes (any threshold, any members, any count).</summary>
    public StartRequest Dkg(string scheme, int threshold, IEnumerable<string> members, int count = 1, Authorization? approval = null)
    {
        var start = new StartRequest { Nonce = Nonce(), Dkg = new DkgParams { Scheme = scheme, Threshold = (uint)threshold }, Authorization = approval };
        start.Dkg.KeyIds.AddRange(Enumerable.Range(0, count).Select(_ => $"{scheme}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}"));
        start.Dkg.Parties.AddRange(members.Select(m => Party(Node(m))));
        return start;
    }

    /// <summary>The public package of a wallet's current epoch, as the registry holds it.</summary>
    public KeyPackage Package(string walletId)
    {
        var w = Registry.FindWallet(walletId) ?? throw new ArgumentException($"no wallet '{walletId}'");
        var e = Registry.FindEpoch(w.Id, w.Epoch)!;
        var p = new KeyPackage { KeyId = w.Id, Scheme = w.Scheme, Epoch = e.Epoch, Threshold = (uint)e.Threshold, GroupPublicKey = ByteString.CopyFrom(Convert.FromHexString(w.PublicKey)) };
        foreach (var (index, share) in e.VerifyingShares) p.VerifyingShares.Add(index, ByteString.CopyFrom(Convert.FromHexString(share)));
        // Each member's certified identity key, as the coordinator records it (Engine.ToKeyPackage): nodes refuse a
        // package that does not bind its identifiers to identities.
        if (e.MemberKeys is { } keys)
            foreach (var (index, key) in keys) p.MemberKeys.Add(index, ByteString.CopyFrom(Convert.FromHexString(key)));
        if (w.ChainCode is { } cc) p.ChainCode = ByteString.CopyFrom(Convert.FromHexString(cc));
        if (w.InternalKey is { } ik) p.InternalKey = ByteString.CopyFrom(Convert.FromHexString(ik));
        return p;
    }

    /// <summary>A reshare of the wallets to any members and threshold, dealt by the given old members.</summary>
    public StartRequest Reshare(IEnumerable<string> walletIds, IEnumerable<string> dealers, IEnumerable<string> newMembers, int newThreshold, Authorization? approval = null)
    {
        var start = new StartRequest
        {
            Nonce = Nonce(),
            Reshare = new ReshareParams { EventId = $"ev-evil-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}", NewThreshold = (uint)newThreshold },
            Authorization = approval,
        };
        start.Reshare.Wallets.AddRange(walletIds.Select(Package));
        start.Reshare.Dealers.AddRange(dealers.Select(d => Party(Node(d))));
        start.Reshare.NewMembers.AddRange(newMembers.Select(m => Party(Node(m))));
        return start;
    }

    /// <summary>A repair of <paramref name="target"/>'s share (optionally claiming another identifier for it).</summary>
    public StartRequest Repair(string walletId, string target, IEnumerable<string> helpers, ulong? targetIndex = null, Authorization? approval = null)
    {
        var start = new StartRequest
        {
            Nonce = Nonce(),
            Repair = new RepairParams { Current = Package(walletId), Target = Party(Node(target), targetIndex) },
            Authorization = approval,
        };
        start.Repair.Helpers.AddRange(helpers.Select(h => Party(Node(h))));
        return start;
    }

    public StartRequest Sign(string walletId, byte[] message, IEnumerable<string> signers, Authorization? approval = null)
    {
        var w = Registry.FindWallet(walletId) ?? throw new ArgumentException($"no wallet '{walletId}'");
        var start = new StartRequest
        {
            Nonce = Nonce(),
            Sign = new SignParams { KeyId = w.Id, Epoch = w.Epoch, Message = ByteString.CopyFrom(message) },
            Authorization = approval,
        };
        start.Sign.Signers.AddRange(signers.Select(s => Party(Node(s))));
        return start;
    }

    // ------------------------------------------------------------------ sending them

    /// <summary>Sends a start request to one node; its reply, or the node's refusal.</summary>
    public async Task<StepReply> Start(string node, StartRequest start) => await Signer(node).StartAsync(start, deadline: Deadline);

    /// <summary>Sends a start request to each named node; returns each node's refusal (every one must refuse).</summary>
    public async Task<IReadOnlyDictionary<string, RpcException>> StartRefusedEverywhere(StartRequest start, IEnumerable<string> nodes)
    {
        var refusals = new Dictionary<string, RpcException>();
        foreach (var n in nodes)
        {
            try
            {
                var reply = await Start(n, start);
                await Signer(n).AbortAsync(new AbortRequest { SessionId = reply.SessionId, Reason = "test" }, deadline: Deadline);
                Assert.Fail($"node '{n}' accepted {start.KindCase} that it should have refused");
            }
            catch (RpcException e) { refusals[n] = e; }
        }
        return refusals;
    }

    /// <summary>
    /// FROST in two rounds, driven by hand: round 1 (Start, where each node checks the approval) and round 2 (the
    /// signing package, where each node spends it before making its share). Returns the aggregate signature; a
    /// node's refusal surfaces as its <see cref="RpcException"/> (the other signers' sessions are aborted).
    /// </summary>
    public async Task<byte[]> SignTwoRounds(string walletId, byte[] message, IReadOnlyList<string> signers, Authorization? approval)
    {
        var w = Registry.FindWallet(walletId)!;
        var pub = Engine.PublicPackage(w, Registry.FindEpoch(w.Id, w.Epoch)!);
        var start = Sign(walletId, message, signers, approval);
        var round1 = new Dictionary<string, StepReply>();
        try
        {
            foreach (var s in signers) round1[s] = await Start(s, start);
            var commitments = round1.Select(r => JsonSerializer.Deserialize<SigningCommitmentsData>(r.Value.Output.Span, Json)!.Validate(pub.Scheme)).ToList();
            var package = SigningPackage.Create(pub, commitments, message);
            var input = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(package.ToData(), Json));
            var shares = new List<SignatureShare>();
            foreach (var s in signers)
            {
                var reply = await Signer(s).StepAsync(new StepRequest { SessionId = round1[s].SessionId, CoordinatorInput = input }, deadline: Deadline);
                round1.Remove(s);
                shares.Add(JsonSerializer.Deserialize<SignatureShareData>(reply.Output.Span, Json)!.Validate(pub.Scheme));
            }
            return FrostCoordinator.Aggregate(package, shares, pub);
        }
        finally
        {
            foreach (var (s, r) in round1)
            {
                try { await Signer(s).AbortAsync(new AbortRequest { SessionId = r.SessionId }, deadline: Deadline); }
                catch (RpcException) { }
            }
        }
    }

    /// <summary>
    /// Drives one multi-party session by hand, as a relay that may tell each party something else: each party gets its
    /// own start request; envelopes go where their header says, except to parties <paramref name="deliverTo"/> excludes
    /// (started, then starved). Returns the outputs of the parties that finished; a node's refusal surfaces as its
    /// <see cref="RpcException"/>. Sessions left open are aborted.
    /// </summary>
    /// <summary>The session id each party of the last <see cref="RunByHand"/> reported at its start.</summary>
    public IReadOnlyDictionary<string, ByteString> LastSessions { get; private set; } = new Dictionary<string, ByteString>();

    /// <param name="relay">When set, every envelope passes through it on its way (sender, envelope, round): what it returns is delivered.</param>
    public async Task<IReadOnlyDictionary<string, byte[]>> RunByHand(IReadOnlyDictionary<string, StartRequest> starts, Func<string, bool>? deliverTo = null,
        Func<string, byte[], int, byte[]>? relay = null)
    {
        bool Deliver(string n) => deliverTo?.Invoke(n) ?? true;
        var sessions = new Dictionary<string, ByteString>();
        LastSessions = sessions;
        var outputs = new Dictionary<string, byte[]>();
        try
        {
            var replies = new Dictionary<string, StepReply>();
            foreach (var (n, s) in starts)
            {
                replies[n] = await Start(n, s);
                sessions[n] = replies[n].SessionId;
            }
            for (var round = 0; round < 12; round++)
            {
                var inbound = starts.Keys.ToDictionary(n => n, _ => new List<ByteString>());
                foreach (var (n, r) in replies)
                {
                    if (r.Done) outputs[n] = r.Output.ToByteArray();
                    foreach (var e in r.Envelopes)
                        if (Rotor.Crypto.Envelopes.Envelope.Decode(e.Span).Recipient is var to && inbound.ContainsKey(to))
                            inbound[to].Add(relay is null ? e : ByteString.CopyFrom(relay(n, e.ToByteArray(), round)));
                }
                var running = starts.Keys.Where(n => !outputs.ContainsKey(n) && Deliver(n)).ToList();
                if (running.Count == 0) return outputs;
                replies = [];
                foreach (var n in running)
                {
                    var step = new StepRequest { SessionId = sessions[n] };
                    step.Envelopes.AddRange(inbound[n]);
                    replies[n] = await Signer(n).StepAsync(step, deadline: Deadline);
                }
            }
            throw new InvalidOperationException("the session did not finish in 12 rounds");
        }
        finally
        {
            foreach (var (n, id) in sessions.Where(s => !outputs.ContainsKey(s.Key)))
            {
                try { await Signer(n).AbortAsync(new AbortRequest { SessionId = id, Reason = "test" }, deadline: Deadline); }
                catch (RpcException) { }
            }
        }
    }

    public async Task<NodeBackupReply> Backup(string node, NodeBackupRequest request) => await Operations(node).CreateBackupAsync(request, deadline: Deadline);

    public async Task<NodeInfo> UpdatePolicy(string node, Authorization? approval) =>
        await Signer(node).UpdatePolicyAsync(new PolicyUpdate { Authorization = approval }, deadline: Deadline);

    public async Task<Protocols.Governance.GovernancePolicy> PinnedPolicy(string node) =>
        Protocols.Governance.GovernancePolicy.Decode((await Signer(node).GetInfoAsync(new GetInfoRequest(), deadline: Deadline)).Policy.Span);

    // ------------------------------------------------------------------ what the nodes hold

    /// <summary>Every node's shard list (by GetStatus) and the bytes of its vault and approval ledger files.</summary>
    public async Task<VaultSnapshot> Snapshot()
    {
        var shards = new Dictionary<string, string>();
        var files = new Dictionary<string, byte[]>();
        foreach (var n in Nodes)
        {
            var status = await Clients.For(n).GetStatusAsync(new GetStatusRequest(), deadline: Deadline);
            Assert.True(status.VaultHealthy, $"node '{n.Name}': {status.VaultMessage}");
            shards[n.Name] = string.Join(" ", status.Shards.OrderBy(s => s.KeyId, StringComparer.Ordinal).ThenBy(s => s.Epoch).Select(s => $"{s.KeyId}@{s.Epoch}:{s.State}{(s.EventId.Length > 0 ? "/" + s.EventId : "")}"));
            var config = NodeConfig.Load(Path.Combine(Dir, "nodes", n.Name, NodeConfig.FileName));
            foreach (var path in new[] { config.Resolve(config.Vault), config.Resolve(config.Name + "-approvals.db") })
                foreach (var f in new[] { path, path + "-wal" })
                    if (File.Exists(f)) files[f] = ReadShared(f);
        }
        return new VaultSnapshot(shards, files);
    }

    private static byte[] ReadShared(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    public void Dispose()
    {
        Clients.Dispose();
        Registry.Dispose();
        Certificate.Dispose();
        SqliteConnection.ClearAllPools();
    }
}

/// <summary>What every node holds: shard lists (key@epoch:state) and the raw bytes of its vault and ledger files.</summary>
public sealed record VaultSnapshot(IReadOnlyDictionary<string, string> Shards, IReadOnlyDictionary<string, byte[]> Files)
{
    /// <summary>Asserts that nothing changed on any node since <paramref name="before"/>.</summary>
    public void AssertSameAs(VaultSnapshot before)
    {
        foreach (var (node, list) in before.Shards) Assert.True(Shards[node] == list, $"node '{node}' shards changed: [{list}] -> [{Shards[node]}]");
        Assert.Equal(before.Files.Keys.Order(), Files.Keys.Order());
        foreach (var (path, bytes) in before.Files)
            Assert.True(bytes.AsSpan().SequenceEqual(Files[path]), $"{Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)} changed");
    }

    /// <summary>
    /// Asserts that no node's shards or vault files changed since <paramref name="before"/>; the approval ledgers may
    /// have (an attack that gets past the approval check legitimately spends the approval before a later check refuses).
    /// </summary>
    public void AssertSameVaultsAs(VaultSnapshot before)
    {
        foreach (var (node, list) in before.Shards) Assert.True(Shards[node] == list, $"node '{node}' shards changed: [{list}] -> [{Shards[node]}]");
        static bool IsLedger(string path) => path.Contains("-approvals.db", StringComparison.Ordinal);
        Assert.Equal(before.Files.Keys.Where(k => !IsLedger(k)).Order(), Files.Keys.Where(k => !IsLedger(k)).Order());
        foreach (var (path, bytes) in before.Files.Where(kv => !IsLedger(kv.Key)))
            Assert.True(bytes.AsSpan().SequenceEqual(Files[path]), $"{Path.GetFileName(Path.GetDirectoryName(path))}/{Path.GetFileName(path)} changed");
    }
}
