using System.Collections.Concurrent;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Rpc.Tls;

namespace Rotor.Node;

/// <summary>
/// Everything a running node holds: its name, identity, vault, trust root and open sessions. A node whose master key
/// provider could not give the vault root is <em>sealed</em>: it has neither vault nor identity keys, answers its
/// status with the reason, and refuses everything else until <see cref="Unseal"/>.
/// </summary>
public sealed class NodeState : IDisposable
{
    private readonly ConcurrentDictionary<string, SessionSlot> sessions = new();
    private readonly object vaultGate = new();
    private ShareVault? vault;
    private NodeIdentity? identity;

    public NodeState(string name, NodeIdentity identity, ShareVault vault, PeerTrust trust, string masterKey = MasterKeys.File)
    {
        Name = name;
        this.identity = identity;
        this.vault = vault;
        Trust = trust;
        MasterKey = masterKey;
    }

    /// <summary>A sealed node: <paramref name="sealReason"/> says why its provider gave no vault root.</summary>
    public NodeState(string name, PeerTrust trust, string masterKey, string sealReason, string vaultPath)
    {
        Name = name;
        Trust = trust;
        MasterKey = masterKey;
        SealReason = sealReason;
        VaultPath = vaultPath;
    }

    public string Name { get; }

    /// <summary>The master key provider: file, passphrase or pkcs11.</summary>
    public string MasterKey { get; }

    /// <summary>Why the node is sealed; null when it is not.</summary>
    public string? SealReason { get; private set; }

    public bool Sealed => Volatile.Read(ref vault) is null;

    /// <summary>The vault file (for a sealed node's status: shard names without secrets).</summary>
    public string? VaultPath { get; }

    public NodeIdentity Identity => Volatile.Read(ref identity) ?? throw SealedError();

    /// <summary>
    /// Brings a sealed node into service with its opened vault and identity keys, then loads its governance (pinned
    /// policy, approval ledger at <paramref name="ledgerPath"/>); when that fails the node stays sealed and the error
    /// is thrown. Refused when not sealed.
    /// </summary>
    public void Unseal(ShareVault openedVault, NodeIdentity openedIdentity, string? ledgerPath)
    {
        lock (vaultGate)
        {
            if (vault is not null) throw new InvalidOperationException($"node '{Name}' is not sealed");
            Volatile.Write(ref identity, openedIdentity);
            Volatile.Write(ref vault, openedVault);
        }
        try { if (ledgerPath is not null) LoadGovernance(ledgerPath); }
        catch (Exception e)
        {
            lock (vaultGate)
            {
                Volatile.Write(ref vault, null);
                Volatile.Write(ref identity, null);
            }
            openedVault.Dispose();
            openedIdentity.Dispose();
            throw new VaultException($"the vault opened but the node's governance did not load: {e.Message}");
        }
        lock (vaultGate) SealReason = null;
    }

    /// <summary>Records why the node is still sealed (e.g. a failed unseal attempt).</summary>
    public void StillSealed(string reason)
    {
        lock (vaultGate) if (vault is null) SealReason = reason;
    }

    /// <summary>What a refused call says while the node is sealed.</summary>
    public string SealedMessage =>
        $"node '{Name}' is sealed ({SealReason}); no shard can be used until it is unsealed (rotor node unseal, or a restart with the {MasterKey} master key available)";

    private VaultException SealedError() => new(SealedMessage);

    /// <summary>Nonces of FROST commitments made in advance (memory only).</summary>
    public PresignPool Presigns { get; } = new();
    public PeerTrust Trust { get; }

    /// <summary>The pinned governance policy and the ledger of used approvals (<see cref="Governance.NodeGovernance"/>); refused while sealed.</summary>
    public Governance.NodeGovernance Governance => governance ?? (Sealed ? throw SealedError() : throw new InvalidOperationException("the node's governance is not loaded"));

    private Governance.NodeGovernance? governance;

    /// <summary>Loads the pinned policy from the vault and opens the approval ledger at <paramref name="ledgerPath"/>.</summary>
    public void LoadGovernance(string ledgerPath, Func<DateTimeOffset>? clock = null) => governance = new Governance.NodeGovernance(this, ledgerPath, clock);

    /// <summary>Every use of the vault goes through <see cref="WithVault{T}"/> (one SQLite connection, one writer); refused while sealed.</summary>
    public T WithVault<T>(Func<ShareVault, T> action)
    {
        lock (vaultGate) return action(vault ?? throw SealedError());
    }

    public void WithVault(Action<ShareVault> action)
    {
        lock (vaultGate) action(vault ?? throw SealedError());
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
        lock (vaultGate)
        {
            vault?.Dispose();
            identity?.Dispose();
        }
    }

    private static string Key(ReadOnlySpan<byte> id) => Convert.ToHexStringLower(id);
}

/// <summary>An open session and the lock that keeps its steps in order.</summary>
public sealed class SessionSlot(INodeSession session)
{
    public INodeSession Session { get; } = session;
    public SemaphoreSlim Gate { get; } = new(1, 1);
}
