using System.Collections.Concurrent;
using Grpc.Core;
using Rotor.Rpc.Node;

namespace Rotor.Coordinator;

/// <summary>A node's health as last polled.</summary>
public sealed record NodeHealth(bool Online, NodeStatus? Status, long LastSeen, string? Error);

/// <summary>
/// The registered nodes and their health: registration (the node's certificate fetched over mutual TLS), polling,
/// and the checks other operations make before they start (a node exists, a set of nodes is online).
/// </summary>
public sealed class NodeDirectory(Registry registry, NodeClients clients)
{
    private readonly ConcurrentDictionary<string, NodeHealth> health = new();
    private readonly ConcurrentDictionary<string, long> persistedSeen = new();

    /// <summary>Receives what happens for the audit log (set by the engine).</summary>
    internal Action<string, string?, string?, object>? Audit { get; set; }

    /// <summary>
    /// Raised with a node's name when whatever it holds in memory may be gone: it restarted (its boot id changed) or
    /// it cannot be reached (it may come back restarted). Signing drops the commitments that node made in advance.
    /// </summary>
    internal event Action<string>? MemoryLost;

    /// <summary>Registers a node: fetches its certificate over mutual TLS, checks it names the node and carries identity keys.</summary>
    public async Task<NodeEntry> AddNodeAsync(string name, string endpoint)
    {
        Engine.RequireName("node", name);
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
            if (health.TryGetValue(node.Name, out var before) && before.Status is { } was && !was.BootId.Equals(status.BootId))
                MemoryLost?.Invoke(node.Name);
        }
        catch (RpcException e)
        {
            var last = health.TryGetValue(node.Name, out var previous) && previous.LastSeen > 0 ? previous.LastSeen : registry.FindNode(node.Name)?.LastSeen ?? 0;
            h = new NodeHealth(false, null, last, e.StatusCode.ToString());
            MemoryLost?.Invoke(node.Name);
        }
        health[node.Name] = h;
        return h;
    }

    /// <summary>A node's health from the last heartbeat if it was seen online in the last 2 s; otherwise polled now.</summary>
    public async Task<NodeHealth> RecentHealth(NodeEntry node) =>
        HealthOf(node.Name) is { Online: true } h && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - h.LastSeen < 2_000 ? h : await PollAsync(node);

    public async Task PollAllAsync() => await Task.WhenAll(registry.ListNodes().Select(PollAsync));

    public NodeEntry RequireNode(string name) =>
        registry.FindNode(name) ?? throw new CoordinatorException(StatusCode.NotFound, $"no node named '{name}' is registered");

    /// <summary>Polls the given nodes and refuses, naming them, if any is offline.</summary>
    public async Task RequireOnline(IEnumerable<NodeEntry> nodes, string what)
    {
        var list = nodes.ToList();
        var polled = await Task.WhenAll(list.Select(PollAsync));
        var offline = list.Where((n, i) => !polled[i].Online).Select(n => n.Name).ToList();
        if (offline.Count > 0)
            throw new CoordinatorException(StatusCode.Unavailable, $"{what} needs {string.Join(", ", offline)}, which {(offline.Count == 1 ? "is" : "are")} offline");
    }
}
