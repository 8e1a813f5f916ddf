using System.Collections.Concurrent;
using System.Collections.Immutable;
using Grpc.Core;

namespace Rotor.Coordinator;

/// <summary>
/// One writer per quorum: every operation that changes a quorum or its wallets (a reshare of any kind, the
/// scheduler's run, wallet creation, repair, a mailbox catch-up) runs under its quorum's lock and re-reads its
/// plan under it. The lock is async and re-entrant within one logical flow (an operation that holds it may call
/// another that takes it, e.g. the desk's run calling the engine's reshare, or a catch-up falling back to repair).
/// </summary>
public sealed class QuorumLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> holders = new(StringComparer.Ordinal);
    private readonly AsyncLocal<ImmutableHashSet<string>?> held = new();

    /// <summary>How long an operation waits for its quorum by default before it is refused as busy.</summary>
    public TimeSpan DefaultWait { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>True when the current flow already holds the quorum's lock.</summary>
    public bool HeldHere(string quorum) => held.Value?.Contains(quorum) == true;

    /// <summary>What holds the quorum's lock now, or null.</summary>
    public string? Holder(string quorum) => holders.TryGetValue(quorum, out var h) ? h : null;

    /// <summary>
    /// Runs <paramref name="body"/> holding the quorum's lock (waiting at most <paramref name="wait"/>, else refused
    /// naming what holds it). <paramref name="what"/> names the operation for that refusal.
    /// </summary>
    public async Task<T> RunAsync<T>(string quorum, string what, Func<Task<T>> body, TimeSpan? wait = null)
    {
        if (HeldHere(quorum)) return await body();
        var gate = gates.GetOrAdd(quorum, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(wait ?? DefaultWait))
            throw new CoordinatorException(StatusCode.Aborted,
                $"{what}: quorum '{quorum}' is busy ({Holder(quorum) ?? "another operation"}); nothing changed, try again when it has finished");
        holders[quorum] = what;
        var before = held.Value;
        held.Value = (before ?? ImmutableHashSet<string>.Empty).Add(quorum);
        try { return await body(); }
        finally
        {
            held.Value = before;
            holders.TryRemove(quorum, out _);
            gate.Release();
        }
    }

    public Task RunAsync(string quorum, string what, Func<Task> body, TimeSpan? wait = null) =>
        RunAsync(quorum, what, async () => { await body(); return true; }, wait);
}
