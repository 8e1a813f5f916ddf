using System.Collections.Concurrent;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Audit;
using Rotor.Node.Backups;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Rpc.Tls;

namespace Rotor.Node;

/// <summary>A Step on a session that was closed because it sat idle too long.</summary>
public sealed class SessionExpiredException(string message) : Exception(message);

/// <summary>
/// Everything a running node holds: its name, identity, vault, trust root, pinned backup recipients, audit witness and
/// open sessions. An open session idle longer than <see cref="SessionIdleLimit"/> is closed and its secrets wiped (by
/// <see cref="Sweep"/>, which the node runs on a timer, and at once when the session is next touched). A node whose
/// master key provider could not give the vault key is <em>sealed</em>: it has neither vault nor identity keys,
/// answers its status with the reason, and refuses everything else until <see cref="Unseal"/>.
/// </summary>
public sealed class NodeState : IDisposable
{
    /// <summary>How many expired session ids are remembered to answer a late Step clearly.</summary>
    private const int ExpiredMemory = 1024;

    private readonly ConcurrentDictionary<string, SessionSlot> sessions = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> expired = new();
    private readonly Func<DateTimeOffset> clock;
    private readonly Timer? sweeper;
    private readonly object vaultGate = new();
    private ShareVault? vault;
    private NodeIdentity? identity;

    public NodeState(string name, NodeIdentity identity, ShareVault vault, PeerTrust trust, BackupRecipients? recipients = null, byte[]? auditKey = null,
        TimeSpan? sessionIdleLimit = null, Func<DateTimeOffset>? clock = null, bool sweepOnTimer = true, string? witnessFile = null, string masterKey = MasterKeys.File)
        : this(name, trust, masterKey, null, null, recipients, auditKey, sessionIdleLimit, clock, sweepOnTimer, witnessFile)
    {
        this.identity = identity;
        this.vault = vault;
    }

    /// <summary>A sealed node (when <paramref name="sealReason"/> is given): its provider gave no vault key; <see cref="Unseal"/> brings it into service.</summary>
    public NodeState(string name, PeerTrust trust, string masterKey, string? sealReason, string? vaultPath, BackupRecipients? recipients = null, byte[]? auditKey = null,
        TimeSpan? sessionIdleLimit = null, Func<DateTimeOffset>? clock = null, bool sweepOnTimer = true, string? witnessFile = null)
    {
        Name = name;
        Trust = trust;
        MasterKey = masterKey;
        SealReason = sealReason;
        VaultPath = vaultPath;
        Recipients = recipients ?? new BackupRecipients([]);
        Witness = new AuditWitness(this, auditKey, witnessFile);
        SessionIdleLimit = sessionIdleLimit ?? TimeSpan.FromMinutes(10);
        if (SessionIdleLimit <= TimeSpan.Zero) throw new ArgumentException("the session idle limit must be positive");
        this.clock = clock ?? (() => DateTimeOffset.UtcNow);
        if (sweepOnTimer)
        {
            var period = TimeSpan.FromTicks(Math.Clamp(SessionIdleLimit.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));
            sweeper = new Timer(_ => Sweep(), null, period, period);
        }
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

    /// <summary>Places for unused threshold-ECDSA presign sessions (the sessions hold the secrets).</summary>
    public EcdsaPresignLimit EcdsaPresigns { get; } = new();
    public PeerTrust Trust { get; }

    /// <summary>The pinned governance policy and the ledger of used approvals (<see cref="Governance.NodeGovernance"/>).</summary>
    public Governance.NodeGovernance Governance => governance ?? (Sealed ? throw SealedError() : throw new InvalidOperationException("the node's governance is not loaded"));

    private Governance.NodeGovernance? governance;

    /// <summary>Loads the pinned policy from the vault and opens the approval ledger at <paramref name="ledgerPath"/>.</summary>
    public void LoadGovernance(string ledgerPath, Func<DateTimeOffset>? clock = null) => governance = new Governance.NodeGovernance(this, ledgerPath, clock);

    /// <summary>The X25519 keys this node may seal backups to.</summary>
    public BackupRecipients Recipients { get; }

    /// <summary>The node's witness of the coordinator's audit log head.</summary>
    public AuditWitness Witness { get; }

    /// <summary>An open session idle longer than this is closed and its secrets wiped.</summary>
    public TimeSpan SessionIdleLimit { get; }

    /// <summary>The governance policy's pinned backup recipients (hex) when the governance is loaded and pins some; else null.</summary>
    public IReadOnlyList<string>? PolicyBackupRecipients => governance?.Policy.BackupRecipients is { Count: > 0 } r ? r : null;

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
        var slot = new SessionSlot(session, clock());
        if (!sessions.TryAdd(Key(session.Id), slot))
        {
            session.Dispose();
            throw new InvalidOperationException($"session {Key(session.Id)[..16]} is already open");
        }
        return slot;
    }

    /// <summary>
    /// The open session <paramref name="id"/>, or null when there is none. A session idle past the limit is closed
    /// here and <see cref="SessionExpiredException"/> thrown, as for one the sweeper closed before.
    /// </summary>
    public SessionSlot? Find(ReadOnlySpan<byte> id)
    {
        var key = Key(id);
        if (sessions.TryGetValue(key, out var s))
        {
            if (!Expire(key, s, clock())) return s;
        }
        if (expired.TryGetValue(key, out var when))
            throw new SessionExpiredException(
                $"session {key[..Math.Min(16, key.Length)]} expired: it sat idle longer than {SessionIdleLimit.TotalSeconds:0} s and was closed at {when:u}, its secrets wiped; start a new one");
        return null;
    }

    /// <summary>Closes every session idle longer than the limit (not one in the middle of a step). Returns how many.</summary>
    public int Sweep()
    {
        var now = clock();
        var closed = 0;
        foreach (var (key, slot) in sessions)
            if (Expire(key, slot, now)) closed++;
        return closed;
    }

    /// <summary>Closes a session and wipes its secrets.</summary>
    public void Remove(ReadOnlySpan<byte> id)
    {
        if (sessions.TryRemove(Key(id), out var s)) s.Close();
    }

    public int OpenSessions => sessions.Count;

    /// <summary>
    /// Closes (and wipes) every open session <paramref name="match"/> selects that is not in the middle of a step (one
    /// that is re-checks what it needs itself). Returns how many were closed.
    /// </summary>
    public int CloseWhere(Func<INodeSession, bool> match)
    {
        var closed = 0;
        foreach (var (key, slot) in sessions)
            if (match(slot.Session) && CloseIdle(key, slot, () => true)) closed++;
        return closed;
    }

    /// <summary>The time now by the node's clock (sessions record their last use with it).</summary>
    public DateTimeOffset Now => clock();

    public void Dispose()
    {
        sweeper?.Dispose();
        foreach (var s in sessions.Values) s.Close();
        sessions.Clear();
        governance?.Dispose();
        lock (vaultGate)
        {
            vault?.Dispose();
            identity?.Dispose();
        }
    }

    private bool Expire(string key, SessionSlot slot, DateTimeOffset now)
    {
        if (now - slot.LastUsed <= SessionIdleLimit) return false;
        if (!CloseIdle(key, slot, () => now - slot.LastUsed > SessionIdleLimit)) return slot.Closed;
        if (expired.Count >= ExpiredMemory)
            foreach (var old in expired.OrderBy(e => e.Value).Take(ExpiredMemory / 2).ToList()) expired.TryRemove(old.Key, out _);
        expired[key] = now;
        return true;
    }

    /// <summary>
    /// Closes an open session that is not in the middle of a step (a session in a step is in use: it is left alone)
    /// when <paramref name="due"/>, checked again under its step lock, still holds. True when this call closed it.
    /// </summary>
    private bool CloseIdle(string key, SessionSlot slot, Func<bool> due)
    {
        if (!slot.Gate.Wait(0)) return false;
        try
        {
            if (slot.Closed || !due()) return false;
            if (!sessions.TryRemove(new KeyValuePair<string, SessionSlot>(key, slot))) return false;
            slot.Close();
            return true;
        }
        finally { slot.Gate.Release(); }
    }

    private static string Key(ReadOnlySpan<byte> id) => Convert.ToHexStringLower(id);
}

/// <summary>An open session, the lock that keeps its steps in order, and when it was last used.</summary>
public sealed class SessionSlot(INodeSession session, DateTimeOffset created)
{
    private long lastUsed = created.UtcTicks;

    public INodeSession Session { get; } = session;
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public DateTimeOffset LastUsed => new(Interlocked.Read(ref lastUsed), TimeSpan.Zero);

    /// <summary>True once the session was closed (ended, aborted or expired); a step that waited for the gate then stops.</summary>
    public bool Closed { get; private set; }

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref lastUsed, now.UtcTicks);

    internal void Close()
    {
        Closed = true;
        Session.Dispose();
    }
}
