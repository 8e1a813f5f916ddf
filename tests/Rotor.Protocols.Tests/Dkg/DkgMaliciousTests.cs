using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Dkg;

/// <summary>Deviating members: each honest member must refuse, name whom it can, and end with no key.</summary>
public class DkgMaliciousTests
{
    private const int T = 3, N = 5;

    /// <summary>The members' round-1 states and packages, in identifier order (member i+1 at index i).</summary>
    private sealed class Run
    {
        public Run(Scheme scheme)
        {
            Group = scheme.Group();
            Ids = TestKeys.Ids(Group, N);
            Session = SessionId.ForDkg("evil-key", scheme, Ids, T);
            Round1 = Ids.Select(m => DkgParticipant.Start(Session, m)).ToArray();
        }

        public Group Group { get; }
        public Identifier[] Ids { get; }
        public SessionId Session { get; }
        public (DkgRound1State State, Round1Package Package)[] Round1 { get; }

        public Identifier Id(int i) => Ids[i - 1];

        public IEnumerable<Round1Package> Round1For(int i) => Round1.Where((_, j) => j != i - 1).Select(r => r.Package);

        public (DkgRound2State State, IReadOnlyDictionary<Identifier, Round2Package> Packages)[] Round2() =>
            Round1.Select((r, j) => r.State.ReceiveRound1(Round1For(j + 1))).ToArray();

        public IEnumerable<Round2Package> SharesFor(int i, (DkgRound2State, IReadOnlyDictionary<Identifier, Round2Package> Packages)[] round2) =>
            round2.Where((_, j) => j != i - 1).Select(r => r.Packages[Id(i)]);
    }

    private static ProtocolException Refused(Action a) => Assert.Throws<ProtocolException>(a);

    private static void AssertBlame(ProtocolException e, Fault fault, params Identifier[] culprits)
    {
        Assert.Equal(fault, e.Fault);
        Assert.Equal(culprits, e.Culprits);
    }

    public static TheoryData<Scheme> Schemes => new() { Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340 };

    [Theory]
    [MemberData(nameof(Schemes))]
    public void BadProofOfKnowledgeIsBlamedOnItsDealer(Scheme scheme)
    {
        var run = new Run(scheme);
        var honest = run.Round1[1].Package;
        var forged = new Round1Package(honest.Session, honest.Sender, honest.Commitment,
            new ProofOfKnowledge(honest.Proof.R, honest.Proof.Mu + run.Group.One));
        run.Round1[1] = (run.Round1[1].State, forged);
        foreach (var i in new[] { 1, 3, 4, 5 })
        {
            var e = Refused(() => run.Round1[i - 1].State.ReceiveRound1(run.Round1For(i)));
            Assert.Equal(Fault.InvalidProof, e.Fault);
            Assert.Equal([run.Id(2)], e.Culprits);
        }
    }

    [Fact]
    public void ADealerCannotReuseAnotherDealersCommitmentAndProof()
    {
        // The proof binds the dealer's identifier, so member 3 copying member 2's round 1 (a rogue key it does
        // not know the logarithm of) is caught.
        var run = new Run(Scheme.Secp256k1);
        var copied = run.Round1[1].Package;
        run.Round1[2] = (run.Round1[2].State, new Round1Package(copied.Session, run.Id(3), copied.Commitment, copied.Proof));
        var e = Refused(() => run.Round1[0].State.ReceiveRound1(run.Round1For(1)));
        AssertBlame(e, Fault.InvalidProof, run.Id(3));
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void ShareInconsistentWithItsCommitmentIsBlamedOnItsDealer(Scheme scheme)
    {
        var run = new Run(scheme);
        var round2 = run.Round2();
        // Members 2 and 4 each send member 1 a wrong share; member 1 names both and has no key.
        var shares = run.SharesFor(1, round2)
            .Select(p => p.Sender == run.Id(2) || p.Sender == run.Id(4)
                ? new Round2Package(p.Session, p.Sender, p.Recipient, p.Share + run.Group.One) : p)
            .ToArray();
        var e = Refused(() => round2[0].State.ReceiveRound2(shares));
        Assert.Equal(Fault.InvalidShare, e.Fault);
        Assert.Equal([run.Id(2), run.Id(4)], e.Culprits);
        // The failure left member 1's state usable: with the right shares it goes on.
        var (_, confirmation) = round2[0].State.ReceiveRound2(run.SharesFor(1, round2));
        Assert.Equal(run.Id(1), confirmation.Sender);
    }

    [Fact]
    public void SharesThatCancelOutAcrossTwoDealersStillGiveTheRightKey()
    {
        // Two colluding dealers shifting a share between them change nothing for the recipient: its key share is
        // the one the public package defines, which is all that is checked.
        var run = new Run(Scheme.Ed25519);
        var round2 = run.Round2();
        var delta = run.Group.RandomScalar();
        var shares = run.SharesFor(1, round2).Select(p =>
            p.Sender == run.Id(2) ? new Round2Package(p.Session, p.Sender, p.Recipient, p.Share + delta) :
            p.Sender == run.Id(3) ? new Round2Package(p.Session, p.Sender, p.Recipient, p.Share - delta) : p).ToArray();
        var (state, _) = round2[0].State.ReceiveRound2(shares);
        Assert.NotNull(state);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void CommitmentOfTheWrongLengthIsBlamedOnItsDealer(Scheme scheme)
    {
        var run = new Run(scheme);
        var honest = run.Round1[3].Package;
        var shortened = new FeldmanCommitment(honest.Commitment.Coefficients.Take(T - 1).ToArray());
        run.Round1[3] = (run.Round1[3].State, new Round1Package(honest.Session, honest.Sender, shortened, honest.Proof));
        var e = Refused(() => run.Round1[0].State.ReceiveRound1(run.Round1For(1)));
        AssertBlame(e, Fault.MalformedMessage, run.Id(4));
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void UndecodableCommitmentIsBlamedOnItsSender(Scheme scheme)
    {
        var run = new Run(scheme);
        var g = run.Group;
        int body = Wire.HeaderLength(g) + 2;
        foreach (var corrupt in new Func<byte[], byte[]>[]
        {
            b => { b.AsSpan(body + g.ElementLength, g.ElementLength).Fill(0xff); return b; }, // C₁: not an encoding (y ≥ p; bad SEC1 prefix)
            b => { g.Identity.Encoding.CopyTo(b.AsSpan(body)); return b; },                 // C₀ = identity
            b => b[..^1],                                                                    // truncated
            b => [.. b, 0],                                                                  // trailing byte
            b => { b[0] = 0x7f; return b; },                                                 // unknown type
            b => { b[0] = (byte)WireType.DkgShares; return b; },                             // round-2 type
            b => { b[body - 1] = T + 1; return b; },                                         // claims one more coefficient
        })
        {
            var bytes = corrupt(run.Round1[2].Package.ToBytes());
            var e = Refused(() => Round1Package.Decode(g, bytes));
            AssertBlame(e, Fault.MalformedMessage, run.Id(3));
        }
        Assert.Equal(run.Round1[2].Package.ToBytes(), Round1Package.Decode(g, run.Round1[2].Package.ToBytes()).ToBytes());
    }

    [Fact]
    public void UndecodableSenderIsMalformedWithoutBlame()
    {
        var run = new Run(Scheme.Ed25519);
        var bytes = run.Round1[0].Package.ToBytes();
        bytes.AsSpan(Wire.SenderOffset, 32).Clear(); // identifier 0
        var e = Refused(() => Round1Package.Decode(run.Group, bytes));
        Assert.Equal(Fault.MalformedMessage, e.Fault);
        Assert.Empty(e.Culprits);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void PackagesOfAnotherSessionAreRejectedInEveryRound(Scheme scheme)
    {
        var run = new Run(scheme);
        var other = new Run(scheme); // same key id, members and threshold; fresh nonce
        var e = Refused(() => run.Round1[0].State.ReceiveRound1(run.Round1For(1).Where(p => p.Sender != run.Id(2)).Append(other.Round1[1].Package)));
        AssertBlame(e, Fault.WrongSession, run.Id(2));

        var round2 = run.Round2();
        var otherRound2 = other.Round2();
        e = Refused(() => round2[0].State.ReceiveRound2(run.SharesFor(1, round2).Where(p => p.Sender != run.Id(5)).Append(otherRound2[4].Packages[run.Id(1)])));
        AssertBlame(e, Fault.WrongSession, run.Id(5));

        var round3 = round2.Select((r, j) => r.State.ReceiveRound2(run.SharesFor(j + 1, round2))).ToArray();
        var otherRound3 = otherRound2.Select((r, j) => r.State.ReceiveRound2(other.SharesFor(j + 1, otherRound2))).ToArray();
        e = Refused(() => round3[0].State.Finish(round3.Skip(1).Select(r => r.Confirmation).Where(c => c.Sender != run.Id(3)).Append(otherRound3[2].Confirmation)));
        AssertBlame(e, Fault.WrongSession, run.Id(3));
    }

    [Fact]
    public void UnexpectedDuplicateAndMissingPackagesAreRefused()
    {
        var run = new Run(Scheme.Secp256k1);
        var state = run.Round1[0].State;
        var outsider = Identifier.FromUInt64(run.Group, 99);
        var p2 = run.Round1[1].Package;
        var fromOutsider = new Round1Package(p2.Session, outsider, p2.Commitment, p2.Proof);

        var e = Refused(() => state.ReceiveRound1(run.Round1For(1).Append(fromOutsider)));
        AssertBlame(e, Fault.UnexpectedSender, outsider);
        e = Refused(() => state.ReceiveRound1(run.Round1For(1).Append(run.Round1[0].Package))); // "from" the receiver itself
        AssertBlame(e, Fault.UnexpectedSender, run.Id(1));
        e = Refused(() => state.ReceiveRound1(run.Round1For(1).Append(p2)));
        AssertBlame(e, Fault.DuplicateMessage, run.Id(2));
        e = Refused(() => state.ReceiveRound1(run.Round1For(1).Skip(1)));
        Assert.Equal(Fault.InvalidUsage, e.Fault);
        Assert.Contains("2", e.Message);

        // A share addressed to someone else.
        var round2 = run.Round2();
        var misrouted = run.SharesFor(1, round2).Select(p => p.Sender == run.Id(3) ? round2[2].Packages[run.Id(4)] : p);
        e = Refused(() => round2[0].State.ReceiveRound2(misrouted));
        AssertBlame(e, Fault.MalformedMessage, run.Id(3));

        // The state survived all of it.
        Assert.Equal(N - 1, state.ReceiveRound1(run.Round1For(1)).Packages.Count);
    }

    [Fact]
    public void StartRefusesNonMembersAndNonDkgSessions()
    {
        var run = new Run(Scheme.Ed25519);
        Assert.Equal(Fault.InvalidUsage, Refused(() => DkgParticipant.Start(run.Session, Identifier.FromUInt64(run.Group, 42))).Fault);
        var (keys, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var reshare = SessionId.ForReshare(keys[0].Public, keys[0].Members, 2);
        Assert.Equal(Fault.InvalidUsage, Refused(() => DkgParticipant.Start(reshare, keys[0].Identifier)).Fault);
    }

    /// <summary>
    /// Dealer 2 broadcasts commitment A to members 1 and 3 and commitment B to members 4 and 5, each with a valid
    /// proof and with shares that match what each receiver got, so rounds 1 and 2 pass everywhere. The
    /// confirmations expose it and no honest member gets a key.
    /// </summary>
    [Theory]
    [InlineData(Scheme.Ed25519, false)]
    [InlineData(Scheme.Secp256k1, false)]
    [InlineData(Scheme.Bip340, true)]
    [InlineData(Scheme.Ed25519, true)]
    public void EquivocatingDealerIsCaughtByTheConfirmationsAndNobodyGetsAKey(Scheme scheme, bool equivocateConfirmationsToo)
    {
        var run = new Run(scheme);
        var dealer = run.Id(2);
        var (stateB, packageB) = DkgParticipant.Start(run.Session, dealer);
        int[] groupA = [1, 3], groupB = [4, 5], honest = [1, 3, 4, 5];
        Round1Package Round1From(int from, int to) => from == 2 && groupB.Contains(to) ? packageB : run.Round1[from - 1].Package;

        var round2 = new Dictionary<int, (DkgRound2State State, IReadOnlyDictionary<Identifier, Round2Package> Packages)>();
        foreach (var i in honest)
            round2[i] = run.Round1[i - 1].State.ReceiveRound1(Enumerable.Range(1, N).Where(j => j != i).Select(j => Round1From(j, i)));
        var dealerViaA = run.Round1[1].State.ReceiveRound1(run.Round1For(2));
        var dealerViaB = stateB.ReceiveRound1(run.Round1For(2));
        Round2Package ShareFrom(int from, int to) =>
            from == 2 ? (groupB.Contains(to) ? dealerViaB : dealerViaA).Packages[run.Id(to)] : round2[from].Packages[run.Id(to)];

        var round3 = new Dictionary<int, (DkgConfirmationState State, Confirmation Confirmation)>();
        foreach (var i in honest)
            round3[i] = round2[i].State.ReceiveRound2(Enumerable.Range(1, N).Where(j => j != i).Select(j => ShareFrom(j, i)));
        var sharesForDealer = honest.Select(j => round2[j].Packages[dealer]).ToArray();
        var confirmA = dealerViaA.State.ReceiveRound2(sharesForDealer).Confirmation;
        var confirmB = dealerViaB.State.ReceiveRound2(sharesForDealer).Confirmation;
        Confirmation ConfirmationFrom(int from, int to) =>
            from == 2 ? (equivocateConfirmationsToo && groupB.Contains(to) ? confirmB : confirmA) : round3[from].Confirmation;

        foreach (var i in honest)
        {
            var e = Refused(() => round3[i].State.Finish(Enumerable.Range(1, N).Where(j => j != i).Select(j => ConfirmationFrom(j, i))));
            Assert.Contains($"from {dealer}", e.Message);
            if (groupB.Contains(i) && !equivocateConfirmationsToo)
                AssertBlame(e, Fault.Equivocation, dealer);
            else
            {
                // Whether the dealer or the reporters lie cannot be told here: no one is blamed, everyone stops.
                Assert.Equal(Fault.TranscriptMismatch, e.Fault);
                Assert.Empty(e.Culprits);
            }
        }
    }

    [Fact]
    public void MemberMisreportingAnotherMembersPackageIsBlamedByThatMember()
    {
        var run = new Run(Scheme.Ed25519);
        var round2 = run.Round2();
        var round3 = round2.Select((r, j) => r.State.ReceiveRound2(run.SharesFor(j + 1, round2))).ToArray();
        var honest3 = round3[2].Confirmation;
        var digests = honest3.Digests.Select(d => d.ToArray()).ToArray();
        digests[0][0] ^= 1; // member 3 claims member 1 sent something else
        round3[2] = (round3[2].State, new Confirmation(honest3.Session, honest3.Sender, digests));

        var e = Refused(() => round3[0].State.Finish(round3.Skip(1).Select(r => r.Confirmation)));
        AssertBlame(e, Fault.TranscriptMismatch, run.Id(3));
        e = Refused(() => round3[1].State.Finish(round3.Where((_, j) => j != 1).Select(r => r.Confirmation)));
        Assert.Equal(Fault.TranscriptMismatch, e.Fault);
        Assert.Empty(e.Culprits);

        var shortened = new Confirmation(honest3.Session, honest3.Sender, digests.Take(N - 1).ToArray());
        e = Refused(() => round3[0].State.Finish(round3.Skip(1).Select(r => r.Confirmation.Sender == run.Id(3) ? shortened : r.Confirmation)));
        AssertBlame(e, Fault.MalformedMessage, run.Id(3));
    }
}
