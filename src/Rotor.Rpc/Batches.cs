using System.Runtime.ExceptionServices;

namespace Rotor.Rpc;

/// <summary>Per-key work of a batch (thousands of wallets in one session), spread over every core.</summary>
public static class Batches
{
    /// <summary>Batches from this many items are spread over the cores; smaller ones run in order on the caller's thread.</summary>
    public const int ParallelFrom = 64;

    /// <summary>
    /// <paramref name="map"/> of every item, results in the items' order. The first failure is rethrown as itself
    /// (not wrapped), so callers see the same exceptions as from a plain loop.
    /// </summary>
    public static TResult[] Map<TItem, TResult>(IReadOnlyList<TItem> items, Func<TItem, TResult> map)
    {
        var results = new TResult[items.Count];
        if (items.Count < ParallelFrom)
        {
            for (int i = 0; i < items.Count; i++) results[i] = map(items[i]);
            return results;
        }
        try { Parallel.For(0, items.Count, i => results[i] = map(items[i])); }
        catch (AggregateException e) { ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); }
        return results;
    }
}
