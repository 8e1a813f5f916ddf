using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Resharing;

/// <summary>One reshare run step by step, so that tests can tamper with any message on its way.</summary>
internal sealed class ReshareHarness
{
    public ReshareHarness(KeyShare[] dealers, IReadOnlyList<Identifier> newMembers, int newThreshold)
    {
        Dealers = dealers;
        Plan = ResharePlan.Create(SessionId.ForReshare(dealers[0].Public, newMembers, newThreshold), dealers[0].Public, dealers.Select(d => d.Identifier).ToArray());
        Dealings = dealers.Select(d => ReshareDealer.Deal(Plan, d)).ToArray();
        Commitments = Dealings.Select(d => d.Commitment).ToArray();
    }

    public static (ReshareHarness Run, KeyShare[] Old, Rotor.Crypto.Groups.Scalar Secret) Refresh(Scheme scheme, int t, int n)
    {
        var (old, secret) = TestKeys.Deal(scheme, t, n);
        return (new ReshareHarness(old.Take(t).ToArray(), old.Select(s => s.Identifier).ToArray(), t), old, secret);
    }

    public KeyShare[] Dealers { get; }
    public ResharePlan Plan { get; }
    public ReshareDealing[] Dealings { get; }

    /// <summary>The commitments every member gets unless a test says otherwise.</summary>
    public ReshareCommitment[] Commitments { get; set; }

    /// <summary>Per recipient overrides of the commitments it gets.</summary>
    public Dictionary<Identifier, ReshareCommitment[]> CommitmentsFor { get; } = [];

    /// <summary>Per (dealer, recipient) overrides of sub-shares.</summary>
    public Dictionary<(Identifier Dealer, Identifier To), ReshareSubShare> SubShareOverrides { get; } = [];

    public ReshareInbox Inbox(Identifier me) => new(Plan,
        CommitmentsFor.TryGetValue(me, out var cs) ? cs : Commitments,
        Dealings.Select(d => SubShareOverrides.TryGetValue((d.Commitment.Dealer, me), out var s) ? s : d.For(me)).ToArray());

    public ReshareOutput Receive(Identifier me) => ReshareMember.Receive(me, [Inbox(me)]);

    public ReshareOutput[] ReceiveAll() => Plan.NewMembers.Select(Receive).ToArray();
}
