using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Repair;

/// <summary>A bad helper is detected and named, by the helpers or by the target; the target gets no share then.</summary>
public class RepairAttackTests
{
    /// <summary>A 3-of-5 repair of member 2 by helpers 1, 4 and 5, run step by step.</summary>
    private sealed class Run
    {
        /// <param name="bound">Whether the package records each member's identity key (helpers then sign their broadcasts).</param>
        public Run(Scheme scheme, bool bound = true)
        {
            (Shares, Secret) = TestKeys.Deal(scheme, 3, 5);
            Identities = Shares.ToDictionary(s => s.Identifier, _ => Rotor.Crypto.Envelopes.NodeIdentity.Create());
            if (bound)
            {
                var pub = Shares[0].Public.WithMemberKeys(Identities.ToDictionary(i => i.Key, i => i.Value.Public.SigningKey.ToArray()));
                Shares = Shares.Select(s => KeyShare.Create(pub, s.Identifier, s.SigningShare)).ToArray();
            }
            Helpers = [Shares[0], Shares[3], Shares[4]];
            Plan = RepairPlan.Create(SessionId.ForRepair(Shares[0].Public), Shares[0].Public, Shares[1].Identifier, Helpers.Select(h => h.Identifier).ToArray());
            Round1 = Helpers.Select(h => RepairHelper.Start(Plan, h, bound ? Identities[h.Identifier] : null)).ToArray();
            Commitments = Round1.Select(r => r.Commitments).ToArray();
        }

        public Dictionary<Identifier, Rotor.Crypto.Envelopes.NodeIdentity> Identities { get; }

        public KeyShare[] Shares { get; }
        public Scalar Secret { get; }
        public KeyShare[] Helpers { get; }
        public RepairPlan Plan { get; }
        public RepairRound1[] Round1 { get; }
        public RepairCommitments[] Commitments { get; set; }
        public Group G => Plan.Group;

        public RepairDelta[] DeltasFor(Identifier h) => Round1.Select(r => r.For(h)).ToArray();

        public RepairSigma Finish(Identifier h) => RepairHelper.Finish(Plan, h, Commitments, DeltasFor(h));

        public RepairSigma[] Sigmas() => Plan.Helpers.Select(Finish).ToArray();
    }

    private static void AssertFault(Fault fault, Identifier[] culprits, Action act)
    {
        var e = Assert.Throws<ProtocolException>(act);
        Assert.Equal(fault, e.Fault);
        Assert.Equal(culprits, e.Culprits);
    }

    private static void AssertIntact(Run run)
    {
        Assert.Equal(run.Secret, TestKeys.Interpolate(run.Shares.Take(3)));
        Assert.All(run.Shares, s => Assert.Equal(s.Group.MulBase(s.SigningShare), s.VerifyingShare));
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void HonestRunRebuildsTheShare(Scheme scheme)
    {
        var run = new Run(scheme);
        var share = RepairTarget.Complete(run.Plan, run.Commitments, run.Sigmas());
        Assert.Equal(run.Shares[1].SigningShare, share.SigningShare);
    }

    [Fact]
    public void AHelperThatSendsADeltaOffItsCommitmentIsNamedByItsRecipient()
    {
        var run = new Run(Scheme.Ed25519);
        var cheat = run.Helpers[1].Identifier;
        var victim = run.Helpers[2].Identifier;
        var deltas = run.DeltasFor(victim);
        deltas[1] = new RepairDelta(deltas[1].PlanDigest, cheat, victim, deltas[1].Value + run.G.One);
        AssertFault(Fault.InvalidShare, [cheat], () => RepairHelper.Finish(run.Plan, victim, run.Commitments, deltas));
        AssertIntact(run);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Bip340)]
    public void AHelperThatContributesAnythingButItsWeightedShareIsNamedByEveryone(Scheme scheme)
    {
        var run = new Run(scheme);
        var cheat = run.Helpers[0];
        // A consistent round 1 for a wrong share: deltas match their commitments, but they add up to ζ·(s+1).
        var wrong = cheat.SigningShare + run.G.One;
        var deltas = RepairSteps.Deltas(run.Plan.Weight(cheat.Identifier), wrong, 3);
        run.Commitments[0] = new RepairCommitments(run.Plan.Digest, cheat.Identifier, deltas.Select(d => run.G.MulBase(d)).ToArray()).Sign(run.Identities[cheat.Identifier]);
        var forged = run.Plan.Helpers.Select((h, j) => new RepairDelta(run.Plan.Digest, cheat.Identifier, h, deltas[j])).ToArray();
        foreach (var h in run.Plan.Helpers.Skip(1))
        {
            var mine = run.DeltasFor(h);
            mine[0] = forged[run.Plan.IndexOf(h)];
            AssertFault(Fault.InvalidConstantTerm, [cheat.Identifier], () => RepairHelper.Finish(run.Plan, h, run.Commitments, mine));
        }
        AssertFault(Fault.InvalidConstantTerm, [cheat.Identifier], () => RepairTarget.Complete(run.Plan, run.Commitments, []));
        AssertIntact(run);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void AHelperThatSendsAWrongSigmaIsNamedByTheTarget(Scheme scheme)
    {
        var run = new Run(scheme);
        var sigmas = run.Sigmas();
        var cheat = sigmas[2];
        sigmas[2] = new RepairSigma(cheat.PlanDigest, cheat.Helper, cheat.Value + run.G.One, cheat.Seen, cheat.SeenSignatures);
        AssertFault(Fault.InvalidShare, [cheat.Helper], () => RepairTarget.Complete(run.Plan, run.Commitments, sigmas));
        AssertIntact(run);
    }

    [Fact]
    public void AHelperThatShowsTheTargetOtherCommitmentsThanTheHelpersIsNamed()
    {
        var run = new Run(Scheme.Ed25519);
        var sigmas = run.Sigmas();
        var cheat = run.Helpers[1].Identifier;
        // To the target it shows masks that still add up to ζ·Y (so the sum check passes), but differ from what the helpers saw.
        var masks = run.Commitments[1].Masks.ToArray();
        var shift = run.G.MulBase(run.G.RandomScalar());
        masks[0] += shift;
        masks[1] -= shift;
        var toTarget = run.Commitments.ToArray();
        toTarget[1] = new RepairCommitments(run.Plan.Digest, cheat, masks).Sign(run.Identities[cheat]);
        AssertFault(Fault.Equivocation, [cheat], () => RepairTarget.Complete(run.Plan, toTarget, sigmas));
        AssertIntact(run);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHelperThatLiesAboutAnothersBroadcastIsNamedItself(bool forgesASignature)
    {
        var run = new Run(Scheme.Ed25519);
        var sigmas = run.Sigmas();
        var liar = sigmas[2];
        var honest = run.Plan.Helpers[0];
        // It reports another digest for helper 0's broadcast, so that the target would blame helper 0 for equivocating.
        var seen = liar.Seen.ToArray();
        seen[0] = new Rotor.Protocols.Resharing.DealerDigest(honest, System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        var signatures = liar.SeenSignatures.ToArray();
        if (forgesASignature) signatures[0] = run.Identities[liar.Helper].Sign(RepairCommitments.SigningBytes(seen[0].Digest));
        sigmas[2] = new RepairSigma(liar.PlanDigest, liar.Helper, liar.Value, seen, signatures);
        AssertFault(Fault.TranscriptMismatch, [liar.Helper], () => RepairTarget.Complete(run.Plan, run.Commitments, sigmas));
        AssertIntact(run);
    }

    [Fact]
    public void WithoutRecordedIdentitiesADisagreementAboutABroadcastBlamesNoOne()
    {
        var run = new Run(Scheme.Ed25519, bound: false);
        var sigmas = run.Sigmas();
        var liar = sigmas[2];
        var seen = liar.Seen.ToArray();
        seen[0] = new Rotor.Protocols.Resharing.DealerDigest(seen[0].Dealer, new byte[64]);
        sigmas[2] = new RepairSigma(liar.PlanDigest, liar.Helper, liar.Value, seen, liar.SeenSignatures);
        AssertFault(Fault.Equivocation, [], () => RepairTarget.Complete(run.Plan, run.Commitments, sigmas));
    }

    [Fact]
    public void AnUnsignedOrMisSignedBroadcastIsNamedWhenThePackageRecordsIdentities()
    {
        var run = new Run(Scheme.Secp256k1);
        var cheat = run.Plan.Helpers[1];
        run.Commitments[1] = new RepairCommitments(run.Plan.Digest, cheat, run.Commitments[1].Masks).Sign(run.Identities[run.Plan.Helpers[0]]);
        AssertFault(Fault.InvalidProof, [cheat], () => RepairHelper.Finish(run.Plan, run.Plan.Helpers[2], run.Commitments, run.DeltasFor(run.Plan.Helpers[2])));
        run.Commitments[1] = new RepairCommitments(run.Plan.Digest, cheat, run.Commitments[1].Masks);
        AssertFault(Fault.InvalidProof, [cheat], () => RepairTarget.Complete(run.Plan, run.Commitments, []));
    }

    [Fact]
    public void AHelperThatPutsAnothersIdentifierInItsMessageIsNamedItself()
    {
        var run = new Run(Scheme.Ed25519);
        var sigmas = run.Sigmas();
        var (sender, framed) = (sigmas[2].Helper, sigmas[0].Helper);
        // Helper 2 sends (in its own authenticated envelope) a σ message whose body names helper 0 as its sender.
        var forged = new RepairSigma(sigmas[2].PlanDigest, framed, sigmas[2].Value, sigmas[2].Seen, sigmas[2].SeenSignatures).ToBytes();
        AssertFault(Fault.UnexpectedSender, [sender], () => RepairSigma.Decode(Scheme.Ed25519, forged, from: sender));
        // Malformed bytes from an authenticated sender are blamed on that sender, whatever the body says.
        AssertFault(Fault.MalformedMessage, [sender], () => RepairSigma.Decode(Scheme.Ed25519, forged.AsSpan(0, 10), from: sender));
        Assert.Equal(framed, RepairSigma.Decode(Scheme.Ed25519, forged).Helper);
    }

    [Fact]
    public void MessagesOfAnotherRepairAreRefused()
    {
        var run = new Run(Scheme.Secp256k1);
        var other = RepairPlan.Create(SessionId.ForRepair(run.Shares[0].Public), run.Shares[0].Public, run.Shares[1].Identifier, run.Helpers.Select(h => h.Identifier).ToArray());
        var replayed = RepairHelper.Start(other, run.Helpers[0]);
        var commitments = run.Commitments.ToArray();
        commitments[0] = replayed.Commitments;
        AssertFault(Fault.WrongSession, [run.Helpers[0].Identifier], () => RepairHelper.Finish(run.Plan, run.Helpers[1].Identifier, commitments, run.DeltasFor(run.Helpers[1].Identifier)));
        var deltas = run.DeltasFor(run.Helpers[2].Identifier);
        deltas[0] = replayed.For(run.Helpers[2].Identifier);
        AssertFault(Fault.WrongSession, [run.Helpers[0].Identifier], () => RepairHelper.Finish(run.Plan, run.Helpers[2].Identifier, run.Commitments, deltas));
        // The same helpers repairing another member is another plan too.
        var forMember3 = RepairPlan.Create(run.Plan.Session, run.Shares[0].Public, run.Shares[2].Identifier, run.Helpers.Select(h => h.Identifier).ToArray());
        Assert.NotEqual(run.Plan.Digest, forMember3.Digest);
    }

    [Fact]
    public void RepairMessagesRoundTripAndRefuseTruncation()
    {
        var run = new Run(Scheme.Ed25519);
        var scheme = run.Plan.Scheme;
        var sigma = run.Finish(run.Helpers[0].Identifier);
        var delta = run.Round1[1].Deltas[2];
        Assert.Equal(run.Commitments[2].ToBytes(), RepairCommitments.Decode(scheme, run.Commitments[2].ToBytes()).ToBytes());
        Assert.Equal(delta.ToBytes(), RepairDelta.Decode(scheme, delta.ToBytes()).ToBytes());
        Assert.Equal(sigma.ToBytes(), RepairSigma.Decode(scheme, sigma.ToBytes()).ToBytes());
        foreach (var (bytes, decode) in new (byte[], Action<byte[]>)[]
                 {
                     (run.Commitments[2].ToBytes(), b => RepairCommitments.Decode(scheme, b)),
                     (delta.ToBytes(), b => RepairDelta.Decode(scheme, b)),
                     (sigma.ToBytes(), b => RepairSigma.Decode(scheme, b)),
                 })
        {
            for (int len = 0; len < bytes.Length; len += 7)
                Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => decode(bytes[..len])).Fault);
            Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => decode([.. bytes, 1])).Fault);
        }
        var decoded = RepairTarget.Complete(run.Plan,
            run.Commitments.Select(c => RepairCommitments.Decode(scheme, c.ToBytes())).ToArray(),
            run.Sigmas().Select(s => RepairSigma.Decode(scheme, s.ToBytes())).ToArray());
        Assert.Equal(run.Shares[1].SigningShare, decoded.SigningShare);
    }
}
