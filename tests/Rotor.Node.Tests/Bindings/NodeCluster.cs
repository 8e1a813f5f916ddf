using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Governance;
using Rotor.Node.Vault;
using Rotor.Protocols.Governance;
using Authorization = Rotor.Rpc.Node.Authorization;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Tls;

namespace Rotor.Node.Tests.Bindings;

/// <summary>
/// Signer nodes in one process (real SignerNodeService, vault, CA-issued certificates) driven by the test as a
/// coordinator would drive them, so that a test can play a malicious coordinator: it builds every request itself and
/// relays, drops or alters whatever it likes.
/// </summary>
public sealed class NodeCluster : IDisposable
{
    private readonly TempDir dir = new();
    private readonly ClusterCa ca;

    /// <summary>The one operator key every node pins (one approval per action class).</summary>
    private readonly byte[] operatorSeed;
    private readonly GovernancePolicy policy;

    public NodeCluster(int count)
    {
        ca = ClusterCa.Create(dir.File("ca"));
        (operatorSeed, var operatorKey) = OperatorKeys.Create();
        policy = GovernancePolicy.Uniform([new Approver("operator", operatorKey)], 1);
        for (int i = 1; i <= count; i++) Add($"cs{i}", (ulong)i);
    }

    public Dictionary<string, TestNode> Nodes { get; } = [];

    public TestNode this[string name] => Nodes[name];

    public TestNode Add(string name, ulong index)
    {
        var identity = NodeIdentity.Create();
        var cert = ca.Issue(dir.File(name), name, CertificateRole.Server, identity.Public);
        var vault = ShareVault.Open(dir.File(name + ".db"), name, RandomNumberGenerator.GetBytes(32));
        NodeGovernance.Pin(vault, policy);
        var state = new NodeState(name, identity, vault, new PeerTrust(ca.Certificate));
        state.LoadGovernance(dir.File(name + "-approvals.db"));
        var node = new TestNode(name, index, cert, state, new SignerNodeService(state, cert.RawData));
        Nodes[name] = node;
        return node;
    }

    /// <summary>Starts a session on every party and relays until every party is done; returns each party's output.</summary>
    /// <param name="startFor">The start request each party gets (a malicious coordinator may give parties different ones).</param>
    public async Task<Dictionary<string, byte[]>> RunAsync(IReadOnlyList<TestNode> parties, Func<TestNode, StartRequest> startFor, Func<string, bool>? deliverTo = null)
    {
        var replies = new Dictionary<string, StepReply>();
        var sessions = new Dictionary<string, ByteString>();
        foreach (var p in parties)
        {
            replies[p.Name] = await p.Service.Start(startFor(p), new TestCallContext());
            sessions[p.Name] = replies[p.Name].SessionId;
        }
        var outputs = new Dictionary<string, byte[]>();
        var running = parties.ToList();
        for (int round = 0; round < 12; round++)
        {
            foreach (var (n, r) in replies.Where(r => r.Value.Done)) outputs[n] = r.Output.ToByteArray();
            var inbound = new Dictionary<string, List<ByteString>>();
            foreach (var r in replies.Values)
                foreach (var e in r.Envelopes)
                {
                    var to = Envelope.Decode(e.Span).Recipient;
                    if (!inbound.TryGetValue(to, out var list)) inbound[to] = list = [];
                    list.Add(e);
                }
            running = running.Where(p => !replies[p.Name].Done && (deliverTo?.Invoke(p.Name) ?? true)).ToList();
            if (running.Count == 0) return outputs;
            replies = [];
            foreach (var p in running)
            {
                var req = new StepRequest { SessionId = sessions[p.Name] };
                if (inbound.TryGetValue(p.Name, out var list)) req.Envelopes.AddRange(list);
                replies[p.Name] = await p.Service.Step(req, new TestCallContext());
            }
        }
        throw new InvalidOperationException("not finished");
    }

    /// <summary>The operator's approval of exactly this action (what an honest coordinator relays).</summary>
    public Authorization Approve(ActionRequest request)
    {
        var description = request.Encode();
        var signature = OperatorKeys.Approve(operatorSeed, description);
        var a = new Authorization { Description = ByteString.CopyFrom(description) };
        a.Approvals.Add(new ApprovalSig { Key = ByteString.CopyFrom(signature.Key), Signature = ByteString.CopyFrom(signature.Signature) });
        return a;
    }

    public static ApprovedMember Member(Party p, TestNode n) => new(p.Name, p.Index, Convert.ToHexStringLower(n.State.Identity.Public.SigningKey));

    /// <summary>Approves a reshare start request as it stands (refresh when members and threshold stay).</summary>
    public StartRequest Approved(StartRequest start)
    {
        var p = start.Reshare;
        var oldMembers = p.Wallets[0].VerifyingShares.Keys.Order().ToArray();
        var refresh = p.NewMembers.Select(m => m.Index).Order().SequenceEqual(oldMembers) && p.NewThreshold == p.Wallets[0].Threshold;
        start.Authorization = Approve(new ActionRequest
        {
            Action = refresh ? Actions.Refresh : Actions.Restructure,
            RequestId = ActionRequest.NewRequestId(),
            Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)),
            Quorum = "q",
            Wallets = p.Wallets.Select(w => new ApprovedWallet(w.KeyId, w.Epoch)).ToList(),
            OldThreshold = (int)p.Wallets[0].Threshold,
            OldMembers = oldMembers.Select(i => new ApprovedMember(Nodes.Values.First(n => n.Index == i).Name, i, "")).ToList(),
            NewThreshold = (int)p.NewThreshold,
            NewMembers = p.NewMembers.Select(m => Member(m, Nodes[m.Name])).ToList(),
        });
        return start;
    }

    public static Party PartyOf(TestNode n, ulong? index = null) =>
        new() { Name = n.Name, Index = index ?? n.Index, Certificate = ByteString.CopyFrom(n.Certificate.RawData) };

    /// <summary>Generates one key among the given nodes; returns its public summary.</summary>
    public async Task<KeyPackageSummary> KeygenAsync(IReadOnlyList<TestNode> members, int threshold, string scheme = "ed25519", string keyId = "w1")
    {
        var start = KeygenStart(members, threshold, scheme, keyId);
        var outputs = await RunAsync(members, _ => start);
        // The shards are pending until every member has the certificate of everyone's matching confirmation.
        var commit = KeygenCertificate(members, start, outputs);
        foreach (var m in members) await m.Service.Commit(commit, new TestCallContext());
        return KeygenOutput(outputs[members[0].Name]).Keys[0];
    }

    /// <summary>A key generation's start request, approved by the operator.</summary>
    public StartRequest KeygenStart(IReadOnlyList<TestNode> members, int threshold, string scheme = "ed25519", string keyId = "w1")
    {
        var start = new StartRequest { Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Dkg = new DkgParams { Scheme = scheme, Threshold = (uint)threshold } };
        start.Dkg.KeyIds.Add(keyId);
        start.Dkg.Parties.AddRange(members.Select(m => PartyOf(m)));
        start.Authorization = Approve(new ActionRequest
        {
            Action = Actions.CreateWallets, RequestId = ActionRequest.NewRequestId(),
            Expires = ActionRequest.ExpiryFrom(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10)),
            Quorum = "q", Scheme = scheme, Count = 1, NewThreshold = threshold,
            NewMembers = start.Dkg.Parties.Select(p => Member(p, Nodes[p.Name])).ToList(),
        });
        return start;
    }

    public static DkgOutput KeygenOutput(byte[] output) =>
        System.Text.Json.JsonSerializer.Deserialize<DkgOutput>(output, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

    /// <summary>A key generation's commit certificate from the members' outputs (what the coordinator assembles).</summary>
    public static CommitRequest KeygenCertificate(IReadOnlyList<TestNode> members, StartRequest start, IReadOnlyDictionary<string, byte[]> outputs)
    {
        var sessionId = Rotor.Node.Sessions.DkgSession.SessionIdOf(members[0].State, start);
        var commit = new CommitRequest { EventId = Rotor.Rpc.Sessions.DkgCommit.EventIdOf(sessionId), SessionId = ByteString.CopyFrom(sessionId), Start = start };
        foreach (var (name, output) in outputs)
            commit.Certificate.Add(new Confirmation { Node = name, Scheme = start.Dkg.Scheme, Signed = ByteString.CopyFrom(Convert.FromHexString(KeygenOutput(output).Confirmation!)) });
        return commit;
    }

    /// <summary>The wire package of a summary.</summary>
    public static KeyPackage Wire(KeyPackageSummary s)
    {
        var p = new KeyPackage { KeyId = s.KeyId, Scheme = s.Scheme, Epoch = s.Epoch, Threshold = (uint)s.Threshold, GroupPublicKey = ByteString.CopyFrom(Convert.FromHexString(s.GroupPublicKey)) };
        foreach (var (i, y) in s.VerifyingShares) p.VerifyingShares.Add(i, ByteString.CopyFrom(Convert.FromHexString(y)));
        foreach (var (i, k) in s.MemberKeys) p.MemberKeys.Add(i, ByteString.CopyFrom(Convert.FromHexString(k)));
        if (s.ChainCode.Length > 0) p.ChainCode = ByteString.CopyFrom(Convert.FromHexString(s.ChainCode));
        if (s.InternalKey.Length > 0) p.InternalKey = ByteString.CopyFrom(Convert.FromHexString(s.InternalKey));
        return p;
    }

    public void Dispose()
    {
        foreach (var n in Nodes.Values) n.State.Dispose();
        ca.Dispose();
        dir.Dispose();
    }
}

/// <summary>One in-process node.</summary>
public sealed record TestNode(string Name, ulong Index, X509Certificate2 Certificate, NodeState State, SignerNodeService Service)
{
    /// <summary>Every shard the vault holds (key id, epoch, state, event): compared before and after an attack.</summary>
    public string Shards() => string.Join("; ", State.WithVault(v => v.List()).Select(s => $"{s.KeyId}@{s.Epoch}:{s.State}:{s.EventId}"));
}

/// <summary>A minimal server call context for calling the service directly.</summary>
public sealed class TestCallContext : ServerCallContext
{
    public TestCallContext() => UserState["__HttpContext"] = new DefaultHttpContext();

    protected override string MethodCore => "test";
    protected override string HostCore => "localhost";
    protected override string PeerCore => "test";
    protected override DateTime DeadlineCore => DateTime.MaxValue;
    protected override Metadata RequestHeadersCore => [];
    protected override CancellationToken CancellationTokenCore => CancellationToken.None;
    protected override Metadata ResponseTrailersCore => [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
