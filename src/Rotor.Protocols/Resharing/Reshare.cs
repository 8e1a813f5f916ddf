using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// Runs whole reshares inside this process, every party's work included: plan, dealing, verification, signed
/// confirmations (under the members' node identities, or throwaway ones), certificate and commit (for simulation,
/// tests and benchmarks: a real deployment runs each party on its own node).
/// </summary>
public static class Reshare
{
    /// <summary>Keys × new members × new threshold below which the parties run one after another.</summary>
    private const int ParallelWork = 256;

    /// <summary>
    /// Reshares one key from the given old shares (any t or more shares of one epoch; they deal) to the new
    /// members and threshold. Returns the committed new shares, in ascending member order.
    /// </summary>
    public static KeyShare[] RunInProcess(IReadOnlyList<KeyShare> oldShares, IReadOnlyList<Identifier> newMembers, int newThreshold) =>
        RunInProcessBatch([oldShares], newMembers, newThreshold)[0];

    /// <summary>
    /// <see cref="RunInProcess(IReadOnlyList{KeyShare}, IReadOnlyList{Identifier}, int)"/> with the new members'
    /// long-term node identities, which sign the confirmations.
    /// </summary>
    public static KeyShare[] RunInProcess(IReadOnlyList<KeyShare> oldShares, IReadOnlyList<Identifier> newMembers, int newThreshold,
        IReadOnlyDictionary<Identifier, NodeIdentity> identities) =>
        RunInProcessBatch([oldShares], newMembers, newThreshold, identities)[0];

    /// <summary>
    /// Reshares many keys of one scheme to the same new members in one event (each key from its own old
    /// shares), with one batch verification per new member and one confirmation per member for the whole event.
    /// The members sign their confirmations under throwaway identity keys made for the run.
    /// Returns, per key in the order given, the committed new shares in ascending member order.
    /// </summary>
    public static KeyShare[][] RunInProcessBatch(IReadOnlyList<IReadOnlyList<KeyShare>> wallets, IReadOnlyList<Identifier> newMembers, int newThreshold)
    {
        var identities = newMembers.Distinct().ToDictionary(m => m, _ => NodeIdentity.Create());
        try
        {
            return Run(wallets, newMembers, newThreshold, identities, bindIdentities: false);
        }
        finally
        {
            foreach (var id in identities.Values) id.Dispose();
        }
    }

    /// <summary>
    /// <see cref="RunInProcessBatch(IReadOnlyList{IReadOnlyList{KeyShare}}, IReadOnlyList{Identifier}, int)"/> with
    /// the new members' long-term node identities (as nodes hold them before any reshare): each member signs its
    /// confirmation with its own, and the certificate is checked against their public keys. Their identity keys are
    /// bound into the sessions and recorded in the new packages.
    /// </summary>
    public static KeyShare[][] RunInProcessBatch(IReadOnlyList<IReadOnlyList<KeyShare>> wallets, IReadOnlyList<Identifier> newMembers, int newThreshold,
        IReadOnlyDictionary<Identifier, NodeIdentity> identities) => Run(wallets, newMembers, newThreshold, identities, bindIdentities: true);

    /// <summary>The run; throwaway identities (made for one run) are not recorded in the packages.</summary>
    private static KeyShare[][] Run(IReadOnlyList<IReadOnlyList<KeyShare>> wallets, IReadOnlyList<Identifier> newMembers, int newThreshold,
        IReadOnlyDictionary<Identifier, NodeIdentity> identities, bool bindIdentities)
    {
        if (wallets.Count == 0) throw new ProtocolException(Fault.InvalidUsage, "no keys to reshare");
        foreach (var m in newMembers)
            if (!identities.ContainsKey(m)) throw new ProtocolException(Fault.InvalidUsage, $"no node identity for new member {m}");
        var memberKeys = bindIdentities ? newMembers.Distinct().ToDictionary(m => m, m => identities[m].Public.SigningKey.ToArray()) : [];
        var plans = wallets.Select(w => Plan(w, newMembers, newThreshold, memberKeys)).ToArray();
        // Parties are independent: dealers (per key) and new members run in parallel, as their nodes would,
        // unless the whole run is too small to pay for the threads.
        var members = plans[0].NewMembers;
        foreach (var m in members)
            if (!identities.ContainsKey(m)) throw new ProtocolException(Fault.InvalidUsage, $"no node identity for new member {m}");
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = plans.Length * members.Count * newThreshold < ParallelWork ? 1 : -1 };
        var dealings = new ReshareDealing[plans.Length][];
        Parallel.For(0, plans.Length, parallel, k => dealings[k] = wallets[k].Select(s => ReshareDealer.Deal(plans[k], s)).ToArray());
        var commitments = dealings.Select(ds => ds.Select(d => d.Commitment).ToArray()).ToArray();
        var outputs = new ReshareOutput[members.Count];
        Parallel.For(0, members.Count, parallel, j => outputs[j] = ReshareMember.Receive(members[j],
            plans.Select((p, k) => new ReshareInbox(p, commitments[k], dealings[k].Select(d => d.For(members[j])).ToArray())).ToArray()));

        var signed = outputs.Select(o => o.Confirmation.Sign(identities[o.Confirmation.Member])).ToArray();
        var certificate = ReshareCertificate.Verify(outputs[0].Event, signed, members.ToDictionary(m => m, m => identities[m].Public));
        var byPlan = Enumerable.Range(0, plans.Length).ToDictionary(k => plans[k]);
        var result = new KeyShare[plans.Length][];
        for (int k = 0; k < plans.Length; k++) result[k] = new KeyShare[members.Count];
        for (int j = 0; j < members.Count; j++)
            foreach (var pending in outputs[j].Shares)
                result[byPlan[pending.Plan]][j] = pending.Commit(certificate);
        return result;
    }

    /// <summary>A plan with a fresh session for the newest epoch among the shares; a share of another key or epoch is refused.</summary>
    private static ResharePlan Plan(IReadOnlyList<KeyShare> oldShares, IReadOnlyList<Identifier> newMembers, int newThreshold,
        IReadOnlyDictionary<Identifier, byte[]> memberKeys)
    {
        if (oldShares.Count == 0) throw new ProtocolException(Fault.InvalidUsage, "no old shares");
        var current = oldShares.MaxBy(s => s.Epoch)!;
        foreach (var s in oldShares)
            if (s.KeyId != current.KeyId || s.Epoch != current.Epoch)
                throw new ProtocolException(Fault.StaleShare,
                    $"member {s.Identifier}'s share is of key {s.KeyId} epoch {s.Epoch}, the others' of key {current.KeyId} epoch {current.Epoch}", s.Identifier);
        var session = SessionId.ForReshare(current.Public, newMembers, newThreshold, default, memberKeys);
        return ResharePlan.Create(session, current.Public, oldShares.Select(s => s.Identifier).ToArray());
    }
}
