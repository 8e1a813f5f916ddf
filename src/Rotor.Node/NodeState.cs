using System.Collections.Concurrent;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Rpc.Tls;

namespace Rotor.Node;

/// <summary>Everything a running node holds: its name, identity, vault, trust root and open sessions.</summary>
public sealed class NodeState : IDisposable
{
    private readonly ConcurrentDictionary<string, SessionSlot> sessions = new();

    public NodeState(string name, NodeIdentity identity, ShareVault vault, PeerTrust trust)
    {
        Name = name;
        Identity = identity;
        Vault = vault;
        Trust = trust;
    }

    public string Name { get; }
    public NodeIdentity Identity { get; }

    /// <summary>Nonces of FROST commitments made in advance (memory only).</summary>
    public PresignPool Presigns { get; } = new();
    public PeerTrust Trust { get; }

    /// <summary>The pinned governance policy and the ledger of used approvals (<see cref="Governance.NodeGovernance"/>).</summary>
    public Governance.NodeGovernance Governance => governance ?? throw new InvalidOperationException("the node's governance is not loaded");

    private Governance.NodeGovernance? governance;

    /// <summary>Loads the pinned policy from the vault and opens the approval ledger at <paramref name="ledgerPath"/>.</summary>
    public void LoadGovernance(string ledgerPath, Func<DateTimeOffset>? clock = null) => governance = new Governance.NodeGovernance(this, ledgerPath, clock);

    /// <summary>The vault; every use goes through <see cref="WithVault{T}"/> (one SQLite connection, one writer).</summary>
    private ShareVault Vault { get; }

    public T WithVault<T>(Func<ShareVault, T> action)
    {
        lock (Vault) return action(Vault);
    }

    public void WithVault(Action<ShareVault> action)
    {
        lock (Vault) action(Vault);
    }

    /// <summary>Registers a new session; refuses an id already in use.</summary>
    public SessionSlot Add(INodeSession session)
    {
        var slot = new SessionSlot(session);
        if (!sessions.TryAdd(Key(session.Id), slot))
        {
            session.Dispose();
            throw new InvalidOperationException($"session {Key(session.Id)[..16]} is already open");
        }
        return slot;
    }

    public SessionSlot? Find(ReadOnlySpan<byte> id) => sessions.TryGetValue(Key(id), out var s) ? s : null;

    /// <summary>Closes a session and wipes its secrets.</summary>
    public void Remove(ReadOnlySpan<byte> id)
    {
        if (sessions.TryRemove(Key(id), out var s)) s.Session.Dispose();
    }

    public int OpenSessions => sessions.Count;

    public void Dispose()
    {
        foreach (var s in sessions.Values) s.Session.Dispose();
        sessions.Clear();
        governance?.Dispose();
        Vault.Dispose();
        Identity.Dispose();
    }

    private static string Key(ReadOnlySpan<byte> id) => Convert.ToHexStringLower(id);
}

/// <summary>An open session and the lock that keeps its steps in order.</summary>
public sealed class SessionSlot(INodeSession session)
{
    public INodeSession Session { get; } = session;
    public SemaphoreSlim Gate { get; } = new(1, 1);
}
