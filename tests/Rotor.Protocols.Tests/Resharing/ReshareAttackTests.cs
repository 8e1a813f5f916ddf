using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Resharing;

/// <summary>Each misbehaviour is refused with the right fault, names the right culprit, and leaves old shares as they were.</summary>
public class ReshareAttackTests
{
    private static void AssertFault(Fault fault, Identifier[] culprits, Action act)
    {
        var e = Assert.Throws<ProtocolException>(act);
        Assert.Equal(fault, e.Fault);
        Assert.Equal(culprits, e.Culprits);
    }

    /// <summary>The old epoch is exactly as it was: every old share still opens the secret and is still of epoch 0.</summary>
    private static void AssertOldSharesIntact(KeyShare[] old, Scalar secret)
    {
        Assert.All(old, s => Assert.Equal(0UL, s.Epoch));
        Assert.All(old, s => Assert.Equal(s.Group.MulBase(s.SigningShare), s.VerifyingShare));
        Assert.Equal(secret, TestKeys.Interpolate(old.TakeLast(old[0].Threshold)));
    }

    /// <summary>A dealing of an honest-looking polynomial with the given constant term.</summary>
    private static (ReshareCommitment Commitment, Dictionary<Identifier, ReshareSubShare> SubShares) DealWithConstant(ResharePlan plan, Identifier dealer, Scalar constant)
    {
        var poly = Polynomial.Random(constant, plan.NewThreshold - 1);
        return (new ReshareCommitment(plan.Digest, dealer, poly.Commit()),
                plan.NewMembers.ToDictionary(j => j, j => new ReshareSubShare(plan.Digest, dealer, j, poly.Evaluate(j))));
    }

    private static void Replace(ReshareHarness run, Identifier dealer, ReshareCommitment c, Dictionary<Identifier, ReshareSubShare> subs, IEnumerable<Identifier>? recipients = null)
    {
        foreach (var j in recipients ?? run.Plan.NewMembers)
        {
            var cs = (run.CommitmentsFor.TryGetValue(j, out var mine) ? mine : run.Commitments).ToArray();
            cs[Array.FindIndex(cs, x => x.Dealer == dealer)] = c;
            run.CommitmentsFor[j] = cs;
            run.SubShareOverrides[(dealer, j)] = subs[j];
        }
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void ADealerWhoseConstantTermIsNotItsWeightedShareIsNamed(Scheme scheme)
    {
        for (int position = 0; position < 3; position++)   // the last dealer's term is checked through the sum: cover it too
        {
            var (run, old, secret) = ReshareHarness.Refresh(scheme, 3, 5);
            var cheat = run.Dealers[position];
            // Deals λ_i·s_i + 1: a consistent polynomial and sub-shares, but it would shift the key.
            var (c, subs) = DealWithConstant(run.Plan, cheat.Identifier, run.Plan.Weight(cheat.Identifier) * cheat.SigningShare + run.Plan.Group.One);
            Replace(run, cheat.Identifier, c, subs);
            foreach (var j in run.Plan.NewMembers)
                AssertFault(Fault.InvalidConstantTerm, [cheat.Identifier], () => run.Receive(j));
            AssertOldSharesIntact(old, secret);
        }
    }

    [Fact]
    public void TwoDealersWhoseConstantTermsCancelOutAreBothNamed()
    {
        // Shifting the constant terms by +δ and −δ keeps their sum Y: the per-dealer equalities still catch both.
        var (run, old, secret) = ReshareHarness.Refresh(Scheme.Ed25519, 2, 3);
        var (a, b) = (run.Dealers[0], run.Dealers[1]);
        var delta = run.Plan.Group.RandomScalar();
        var (ca, sa) = DealWithConstant(run.Plan, a.Identifier, run.Plan.Weight(a.Identifier) * a.SigningShare + delta);
        var (cb, sb) = DealWithConstant(run.Plan, b.Identifier, run.Plan.Weight(b.Identifier) * b.SigningShare - delta);
        Replace(run, a.Identifier, ca, sa);
        Replace(run, b.Identifier, cb, sb);
        AssertFault(Fault.InvalidConstantTerm, [a.Identifier, b.Identifier], () => run.Receive(run.Plan.NewMembers[1]));
        AssertOldSharesIntact(old, secret);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void ADealerWithAnInconsistentSubShareIsNamedByItsRecipientOnly(Scheme scheme)
    {
        var (run, old, secret) = ReshareHarness.Refresh(scheme, 2, 4);
        var cheat = run.Dealers[0].Identifier;
        var victim = run.Plan.NewMembers[2];
        var honest = run.Dealings[0].For(victim);
        run.SubShareOverrides[(cheat, victim)] = new ReshareSubShare(honest.PlanDigest, cheat, victim, honest.Value + run.Plan.Group.One);
        AssertFault(Fault.InvalidShare, [cheat], () => run.Receive(victim));
        foreach (var j in run.Plan.NewMembers.Where(j => j != victim)) run.Receive(j);
        AssertOldSharesIntact(old, secret);
    }

    [Fact]
    public void TwoCheatingDealersAreBothNamed()
    {
        var (run, old, secret) = ReshareHarness.Refresh(Scheme.Ed25519, 3, 3);
        var me = run.Plan.NewMembers[0];
        foreach (var d in new[] { run.Dealers[0].Identifier, run.Dealers[2].Identifier })
        {
            var s = run.Dealings.Single(x => x.Commitment.Dealer == d).For(me);
            run.SubShareOverrides[(d, me)] = new ReshareSubShare(s.PlanDigest, d, me, s.Value + s.Value);
        }
        AssertFault(Fault.InvalidShare, [run.Dealers[0].Identifier, run.Dealers[2].Identifier], () => run.Receive(me));
        AssertOldSharesIntact(old, secret);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void AMalformedCommitmentIsNamedAtDecoding(Scheme scheme)
    {
        var (run, old, secret) = ReshareHarness.Refresh(scheme, 2, 3);
        var g = run.Plan.Group;
        var dealer = run.Dealers[1].Identifier;
        var bytes = run.Dealings[1].Commitment.ToBytes();
        int firstElement = 1 + 64 + g.ScalarLength + 2;
        foreach (var bad in new[] { Enumerable.Repeat((byte)0xff, g.ElementLength).ToArray(), g.Identity.ToBytes() })
        {
            var tampered = bytes.ToArray();
            bad.CopyTo(tampered, firstElement);
            var e = Assert.Throws<ProtocolException>(() => ReshareCommitment.Decode(scheme, tampered));
            Assert.Equal(Fault.MalformedMessage, e.Fault);
            Assert.Equal([dealer], e.Culprits);
        }
        AssertOldSharesIntact(old, secret);
    }

    [Fact]
    public void ACommitmentOfTheWrongDegreeIsNamed()
    {
        var (run, old, secret) = ReshareHarness.Refresh(Scheme.Ed25519, 2, 3);
        var cheat = run.Dealers[0];
        var poly = Polynomial.Random(run.Plan.Weight(cheat.Identifier) * cheat.SigningShare, 2);   // degree 2, t' = 2
        var subs = run.Plan.NewMembers.ToDictionary(j => j, j => new ReshareSubShare(run.Plan.Digest, cheat.Identifier, j, poly.Evaluate(j)));
        Replace(run, cheat.Identifier, new ReshareCommitment(run.Plan.Digest, cheat.Identifier, poly.Commit()), subs);
        AssertFault(Fault.MalformedMessage, [cheat.Identifier], () => run.Receive(run.Plan.NewMembers[0]));
        AssertOldSharesIntact(old, secret);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Bip340)]
    public void EquivocationIsCaughtByTheTranscriptConfirmationAndNamesTheDealer(Scheme scheme)
    {
        var (run, old, secret) = ReshareHarness.Refresh(scheme, 2, 3);
        var cheat = run.Dealers[0];
        var constant = run.Plan.Weight(cheat.Identifier) * cheat.SigningShare;
        // Two valid dealings of the right constant term: member 1 gets one, members 2 and 3 the other.
        var (c1, s1) = DealWithConstant(run.Plan, cheat.Identifier, constant);
        var (c2, s2) = DealWithConstant(run.Plan, cheat.Identifier, constant);
        Replace(run, cheat.Identifier, c1, s1, [run.Plan.NewMembers[0]]);
        Replace(run, cheat.Identifier, c2, s2, run.Plan.NewMembers.Skip(1));
        var outputs = run.ReceiveAll();   // each member alone sees nothing wrong

        var (signed, keys) = SignAll(outputs);
        var e = Assert.Throws<ProtocolException>(() => ReshareCertificate.Verify(outputs[0].Event, signed, keys));
        Assert.Equal(Fault.Equivocation, e.Fault);
        Assert.Equal([cheat.Identifier], e.Culprits);
        AssertOldSharesIntact(old, secret);
    }

    [Fact]
    public void AMessageReplayedFromAnotherSessionIsRefused()
    {
        var (old, secret) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var ids = old.Select(s => s.Identifier).ToArray();
        var earlier = new ReshareHarness(old.Take(2).ToArray(), ids, 2);
        var now = new ReshareHarness(old.Take(2).ToArray(), ids, 2);   // same key, epoch, members: only the nonce differs
        var replayed = earlier.Dealings[1];
        var me = ids[0];

        now.Commitments = [now.Commitments[0], replayed.Commitment];
        AssertFault(Fault.WrongSession, [replayed.Commitment.Dealer], () => now.Receive(me));
        now.Commitments = now.Dealings.Select(d => d.Commitment).ToArray();
        now.SubShareOverrides[(replayed.Commitment.Dealer, me)] = replayed.For(me);
        AssertFault(Fault.WrongSession, [replayed.Commitment.Dealer], () => now.Receive(me));
        AssertOldSharesIntact(old, secret);
    }

    [Fact]
    public void AMessageOfAnEarlierEpochIsRefused()
    {
        var (old, secret) = TestKeys.Deal(Scheme.Secp256k1, 2, 3);
        var ids = old.Select(s => s.Identifier).ToArray();
        var first = new ReshareHarness(old.Take(2).ToArray(), ids, 2);
        var epoch1 = first.ReceiveAll().Select(o => o.Shares[0].Share).ToArray();
        var second = new ReshareHarness(epoch1.Take(2).ToArray(), ids, 2);
        second.Commitments = [first.Commitments[0], second.Commitments[1]];
        AssertFault(Fault.WrongSession, [ids[0]], () => second.Receive(ids[2]));
        AssertOldSharesIntact(old, secret);
    }

    [Fact]
    public void MessagesFromNonDealersAndDuplicatesAndGapsAreRefused()
    {
        var (run, _, _) = ReshareHarness.Refresh(Scheme.Ed25519, 2, 3);
        var me = run.Plan.NewMembers[0];
        var inbox = run.Inbox(me);
        AssertFault(Fault.DuplicateMessage, [inbox.Commitments[0].Dealer],
            () => ReshareMember.Receive(me, [inbox with { Commitments = [.. inbox.Commitments, inbox.Commitments[0]] }]));
        AssertFault(Fault.InvalidUsage, [inbox.Commitments[1].Dealer],
            () => ReshareMember.Receive(me, [inbox with { Commitments = [inbox.Commitments[0]] }]));
        var outsider = run.Plan.Current.Members.Single(m => !run.Plan.IsDealer(m));
        var c = inbox.Commitments[0];
        AssertFault(Fault.UnexpectedSender, [outsider],
            () => ReshareMember.Receive(me, [inbox with { Commitments = [.. inbox.Commitments, new ReshareCommitment(c.PlanDigest, outsider, c.Commitment)] }]));
    }

    [Fact]
    public void ABatchNamesTheCheatAndTheKeyItCheatedOn()
    {
        var g = Scheme.Ed25519.Group();
        var ids = TestKeys.Ids(g, 3);
        var keys = Enumerable.Range(0, 30).Select(i => TestKeys.Deal(Scheme.Ed25519, 2, 3, $"w{i:D2}")).ToArray();
        var runs = keys.Select(k => new ReshareHarness(k.Shares.Take(2).ToArray(), ids, 2)).ToArray();
        var cheat = ids[1];
        var me = ids[2];
        var s = runs[17].Dealings[1].For(me);
        runs[17].SubShareOverrides[(cheat, me)] = new ReshareSubShare(s.PlanDigest, cheat, me, s.Value + g.One);
        var e = Assert.Throws<ProtocolException>(() => ReshareMember.Receive(me, runs.Select(r => r.Inbox(me)).ToArray()));
        Assert.Equal(Fault.InvalidShare, e.Fault);
        Assert.Equal([cheat], e.Culprits);
        Assert.Contains("w17", e.Message);
        Assert.DoesNotContain("w16", e.Message);
        // The other members' batches go through.
        ReshareMember.Receive(ids[0], runs.Select(r => r.Inbox(ids[0])).ToArray());
    }

    [Fact]
    public void TheCertificateRefusesBadSignaturesMissingMembersAndOtherEvents()
    {
        var (run, _, _) = ReshareHarness.Refresh(Scheme.Ed25519, 2, 3);
        var outputs = run.ReceiveAll();
        var (signed, keys) = SignAll(outputs);
        var ev = outputs[0].Event;
        var cert = ReshareCertificate.Verify(ev, signed, keys);
        Assert.Equal(outputs[0].Confirmation.TranscriptHash, cert.TranscriptHash);
        Assert.All(outputs, o => Assert.Equal(o.Shares[0].Share, o.Shares[0].Commit(cert)));

        var m2 = outputs[1].Confirmation.Member;
        var forged = new SignedReshareConfirmation(signed[1].Confirmation, signed[0].Signature);
        AssertFault(Fault.InvalidProof, [m2], () => ReshareCertificate.Verify(ev, [signed[0], forged, signed[2]], keys));
        AssertFault(Fault.InvalidUsage, [outputs[2].Confirmation.Member], () => ReshareCertificate.Verify(ev, signed.Take(2), keys));
        AssertFault(Fault.DuplicateMessage, [m2], () => ReshareCertificate.Verify(ev, [.. signed, signed[1]], keys));

        var (other, _, _) = ReshareHarness.Refresh(Scheme.Ed25519, 2, 3);
        var otherEvent = ReshareEvent.Create([other.Plan]);
        AssertFault(Fault.WrongSession, [outputs[0].Confirmation.Member], () => ReshareCertificate.Verify(otherEvent, signed, keys));

        // A pending share is not released by another event's certificate.
        var otherOutputs = other.ReceiveAll();
        var (otherSigned, otherKeys) = SignAll(otherOutputs);
        var otherCert = ReshareCertificate.Verify(otherOutputs[0].Event, otherSigned, otherKeys);
        Assert.Equal(Fault.WrongSession, Assert.Throws<ProtocolException>(() => outputs[0].Shares[0].Commit(otherCert)).Fault);
    }

    [Fact]
    public void EveryMessageRoundTripsAndRefusesTruncationAndTrailingBytes()
    {
        var (run, _, _) = ReshareHarness.Refresh(Scheme.Secp256k1, 2, 3);
        var scheme = run.Plan.Scheme;
        var outputs = run.ReceiveAll();
        var (signed, _) = SignAll(outputs);
        var c = run.Commitments[0];
        var s = run.Dealings[0].SubShares[1];
        Assert.Equal(c.ToBytes(), ReshareCommitment.Decode(scheme, c.ToBytes()).ToBytes());
        Assert.Equal(c.Commitment, ReshareCommitment.Decode(scheme, c.ToBytes()).Commitment);
        Assert.Equal(s.Value, ReshareSubShare.Decode(scheme, s.ToBytes()).Value);
        Assert.Equal(outputs[1].Confirmation.TranscriptHash, ReshareConfirmation.Decode(scheme, outputs[1].Confirmation.ToBytes()).TranscriptHash);
        Assert.Equal(signed[2].ToBytes(), SignedReshareConfirmation.Decode(scheme, signed[2].ToBytes()).ToBytes());

        foreach (var (bytes, decode) in new (byte[], Action<byte[]>)[]
                 {
                     (c.ToBytes(), b => ReshareCommitment.Decode(scheme, b)),
                     (s.ToBytes(), b => ReshareSubShare.Decode(scheme, b)),
                     (outputs[0].Confirmation.ToBytes(), b => ReshareConfirmation.Decode(scheme, b)),
                 })
        {
            for (int len = 0; len < bytes.Length; len++)
                Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => decode(bytes[..len])).Fault);
            Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => decode([.. bytes, 0])).Fault);
            var wrongType = bytes.ToArray();
            wrongType[0] ^= 0x40;
            Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => decode(wrongType)).Fault);
        }
        Assert.DoesNotContain(s.Value.ToBigInteger().ToString(), s.ToString());
    }

    internal static (SignedReshareConfirmation[] Signed, Dictionary<Identifier, IdentityKeys> Keys) SignAll(ReshareOutput[] outputs)
    {
        var keys = new Dictionary<Identifier, IdentityKeys>();
        var signed = new List<SignedReshareConfirmation>();
        foreach (var o in outputs)
        {
            using var identity = NodeIdentity.Create();
            keys[o.Confirmation.Member] = identity.Public;
            signed.Add(o.Confirmation.Sign(identity));
        }
        return (signed.ToArray(), keys);
    }
}
