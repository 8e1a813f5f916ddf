using System.Runtime.ExceptionServices;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;

namespace Rotor.Protocols.Ecdsa;

/// <summary>
/// Runs whole ECDSA key generations (DKG + pairwise OT setup), signings and reshares with every party in this
/// process, passing each message through its wire encoding (for tests, the simulator and benchmarks; a real
/// deployment runs each party on its own node, and each party still checks everything it receives).
/// </summary>
public static class EcdsaRunner
{
    /// <summary>A t-of-n key over secp256k1 for members 1..n: Rotor's DKG, then the OT setup between every pair.</summary>
    public static EcdsaKeyShare[] Keygen(string keyId, int threshold, int memberCount) =>
        Setup(DkgRunner.RunInProcess(Scheme.Secp256k1, keyId, threshold, memberCount));

    /// <summary>The pairwise OT setup for one epoch's shares (after a DKG or a reshare), all members at once.</summary>
    public static EcdsaKeyShare[] Setup(IReadOnlyList<KeyShare> shares) =>
        SetupPairs(shares, null).Select(s => s.Result!).ToArray();

    private static EcdsaSetup[] SetupPairs(IReadOnlyList<KeyShare> shares, Identifier? only)
    {
        var session = new EcdsaSetupSession(shares[0].Public);
        var states = new EcdsaSetup[shares.Count];
        var outbox = new IReadOnlyList<EcdsaSetupMessage>[shares.Count];
        IReadOnlyCollection<Identifier>? Peers(KeyShare s) =>
            only is not { } o ? null : s.Identifier == o ? shares.Select(x => x.Identifier).Where(x => x != o).ToArray() : [o];
        Each(shares.Count, i => (states[i], outbox[i]) = EcdsaSetup.Start(shares[i], session, Peers(shares[i])));
        for (int round = 1; round <= 5; round++)
        {
            var wire = new byte[shares.Count][][];
            Each(shares.Count, i => wire[i] = outbox[i].Select(m => m.ToBytes()).ToArray());
            Each(shares.Count, i => outbox[i] = states[i].Receive(Inbox(wire, shares[i].Identifier).Select(b => EcdsaSetupMessage.FromBytes(b)).ToArray()));
        }
        return states;
    }

    /// <summary>
    /// Repairs <paramref name="target"/>'s share from the first t of <paramref name="others"/> (every other member,
    /// current epoch) with Rotor's repair, then sets up fresh OT material between the target and every other
    /// member, who replace their material for the target. Returns every member's key share, ascending.
    /// </summary>
    public static EcdsaKeyShare[] Repair(IReadOnlyList<EcdsaKeyShare> others, Identifier target)
    {
        var pub = others[0].Public;
        var repaired = Rotor.Protocols.Repair.ShareRepair.RunInProcess(others.Take(pub.Threshold).Select(o => o.Share).ToArray(), target);
        var shares = others.Select(o => o.Share).Append(repaired).OrderBy(s => s.Identifier).ToArray();
        var states = SetupPairs(shares, target);
        return shares.Select((s, i) => s.Identifier == target
            ? states[i].Result!
            : others.Single(o => o.Identifier == s.Identifier).WithPairs(states[i].Material!)).ToArray();
    }

    /// <summary>Signs a 32-byte digest with the given signers' key shares (at least t of one epoch).</summary>
    public static EcdsaSignature Sign(IReadOnlyList<EcdsaKeyShare> signers, byte[] messageDigest)
    {
        var session = new EcdsaSignSession(signers[0].Public, signers.Select(s => s.Identifier).ToArray(), messageDigest);
        var states = new EcdsaSigner[signers.Count];
        // Each party encodes what it sends and decodes what it receives in its own step (in parallel, as on nodes).
        var w1 = new byte[signers.Count][][];
        Each(signers.Count, i =>
        {
            var (state, messages) = EcdsaSigner.Start(signers[i], session);
            states[i] = state;
            w1[i] = messages.Select(m => m.ToBytes()).ToArray();
        });
        var w2 = new byte[signers.Count][][];
        Each(signers.Count, i => w2[i] = states[i].Round2(Inbox(w1, states[i].Identifier).Select(b => EcdsaSignRound1.FromBytes(b)))
            .Select(m => m.ToBytes()).ToArray());
        var w3 = new byte[signers.Count][];
        Each(signers.Count, i => w3[i] = states[i].Round3(Inbox(w2, states[i].Identifier).Select(b => EcdsaSignRound2.FromBytes(b))).ToBytes());
        return states[0].Finish(w3.Select(b => EcdsaSignatureShare.FromBytes(b)));
    }

    /// <summary>Reshares the key (refresh when members and threshold stay) with Rotor's resharing, then sets up fresh OT material for the new epoch.</summary>
    public static EcdsaKeyShare[] Reshare(IReadOnlyList<EcdsaKeyShare> oldShares, IReadOnlyList<Identifier> newMembers, int newThreshold) =>
        Setup(Resharing.Reshare.RunInProcess(oldShares.Select(s => s.Share).ToArray(), newMembers, newThreshold));

    /// <summary>The messages addressed to <paramref name="me"/> (the recipient follows the sender in the header), as a relay routes them: each party decodes only its own.</summary>
    private static IEnumerable<byte[]> Inbox(byte[][][] outboxes, Identifier me)
    {
        var id = me.ToBytes();
        return outboxes.SelectMany(o => o).Where(b => b.Length >= Wire.SenderOffset + 2 * id.Length && b.AsSpan(Wire.SenderOffset + id.Length, id.Length).SequenceEqual(id));
    }

    /// <summary>Runs the parties one after another on the calling thread (benchmarks: the total work, as a single-threaded implementation does it).</summary>
    internal static bool Sequential { get; set; }

    private static void Each(int count, Action<int> step)
    {
        if (Sequential)
        {
            for (int i = 0; i < count; i++) step(i);
            return;
        }
        try
        {
            Parallel.For(0, count, step);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
