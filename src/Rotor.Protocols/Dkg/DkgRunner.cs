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

    /// <summary>A DKG among the given members; returns their key shares in ascending identifier order.</summary>
    public static KeyShare[] RunInProcess(Scheme scheme, string keyId, int threshold, IReadOnlyList<Identifier> members)
    {
        var session = SessionId.ForDkg(keyId, scheme, members, threshold);
        var ids = session.NewMembers;
        var round1 = ids.Select(m => DkgParticipant.Start(session, m)).ToArray();
        var round2 = ids.Select((m, i) => round1[i].State.ReceiveRound1(round1.Where((_, j) => j != i).Select(r => r.Package))).ToArray();
        var round3 = ids.Select((m, i) => round2[i].State.ReceiveRound2(round2.Where((_, j) => j != i).Select(r => r.Packages[m]))).ToArray();
        return ids.Select((m, i) => round3[i].State.Finish(round3.Where((_, j) => j != i).Select(r => r.Confirmation))).ToArray();
    }
}
