using System.Runtime.ExceptionServices;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Dkg;

/// <summary>
/// Runs a whole DKG with every member in this process, passing the packages between the members' state
/// machines directly. For the simulator, benchmarks and tests; each member still verifies everything.
/// </summary>
public static class DkgRunner
{
    /// <summary>A t-of-n DKG among members 1..<paramref name="memberCount"/>.</summary>
    public static KeyShare[] RunInProcess(Scheme scheme, string keyId, int threshold, int memberCount)
    {
        if (memberCount < 1 || memberCount > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(memberCount), "1 to 65535 members");
        var group = scheme.Group();
        return RunInProcess(scheme, keyId, threshold,
            Enumerable.Range(1, memberCount).Select(i => Identifier.FromUInt64(group, (ulong)i)).ToArray());
    }

    /// <summary>Members × threshold (the work of a round grows with both) below which the members run one after another.</summary>
    private const int ParallelWork = 256;

    /// <summary>
    /// A DKG among the given members; returns their key shares in ascending identifier order. The members
    /// work in parallel within each round, as separate nodes would, unless the run is too small to pay for the threads.
    /// </summary>
    public static KeyShare[] RunInProcess(Scheme scheme, string keyId, int threshold, IReadOnlyList<Identifier> members)
    {
        var session = SessionId.ForDkg(keyId, scheme, members, threshold);
        var ids = session.NewMembers;
        bool parallel = ids.Count * threshold >= ParallelWork;
        var round1 = Each(ids.Count, parallel, i => DkgParticipant.Start(session, ids[i]));
        var round2 = Each(ids.Count, parallel, i => round1[i].State.ReceiveRound1(Others(round1, i).Select(r => r.Package)));
        var round3 = Each(ids.Count, parallel, i => round2[i].State.ReceiveRound2(Others(round2, i).Select(r => r.Packages[ids[i]])));
        return Each(ids.Count, parallel, i => round3[i].State.Finish(Others(round3, i).Select(r => r.Confirmation)));
    }

    private static IEnumerable<T> Others<T>(T[] all, int me) => all.Where((_, j) => j != me);

    private static T[] Each<T>(int count, bool parallel, Func<int, T> step)
    {
        var results = new T[count];
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel ? -1 : 1 }, i => results[i] = step(i));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        return results;
    }
}
