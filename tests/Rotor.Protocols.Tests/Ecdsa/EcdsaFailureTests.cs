using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Ecdsa;

namespace Rotor.Protocols.Tests.Ecdsa;

/// <summary>One malicious test per check of DKLs23 signing: each names the culprit (or, where the paper cannot attribute, names no one), and an aborted signer keeps nothing usable.</summary>
public class EcdsaFailureTests
{
    private static readonly Lazy<EcdsaKeyShare[]> Keys = new(() => EcdsaRunner.Keygen("evil-test", 2, 3));
    private static readonly byte[] Digest = EcdsaCheck.Digest("pay 1 ETH to mallory");
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static Identifier Id(ulong i) => Identifier.FromUInt64(G, i);

    private sealed class Run
    {
        public required EcdsaSignSession Session;
        public required EcdsaSigner[] Signers;
        public required List<EcdsaSignRound1> R1;
        public List<EcdsaSignRound2> R2 = [];

        public EcdsaSigner Of(ulong id) => Signers.Single(s => s.Identifier == Id(id));
        public IEnumerable<EcdsaSignRound1> R1To(ulong id) => R1.Where(m => m.Recipient == Id(id));
        public IEnumerable<EcdsaSignRound2> R2To(ulong id) => R2.Where(m => m.Recipient == Id(id));

        public void Round2All() { foreach (var s in Signers) R2.AddRange(s.Round2(R1To(Ulong(s.Identifier)))); }
    }

    private static ulong Ulong(Identifier i) => (ulong)i.Value;

    private static Run Start(params ulong[] ids) => Start(Keys.Value, ids);

    /// <summary>A signing among <paramref name="ids"/> with the given keys (tests whose failure retires pair material use their own).</summary>
    private static Run Start(EcdsaKeyShare[] all, params ulong[] ids)
    {
        var keys = ids.Select(i => all.Single(k => k.Identifier == Id(i))).ToArray();
        var session = new EcdsaSignSession(keys[0].Public, keys.Select(k => k.Identifier).ToArray(), Digest);
        var started = keys.Select(k => EcdsaSigner.Start(k, session)).ToArray();
        return new Run { Session = session, Signers = started.Select(s => s.Signer).ToArray(), R1 = started.SelectMany(s => s.Messages).ToList() };
    }

    private static EcdsaSignRound1 Replace(EcdsaSignRound1 m, KosMessage? kos = null, byte[]? pairId = null, byte[]? commitment = null) =>
        new(m.Session, m.Sender, m.Recipient, pairId ?? m.PairId, commitment ?? m.Commitment, kos ?? m.Kos);

    private static EcdsaSignRound2 Replace(EcdsaSignRound2 m, RvoleMessage? mul = null, byte[]? salt = null, Rotor.Crypto.Groups.Element? gammaU = null,
        Rotor.Crypto.Groups.Element? gammaV = null, Rotor.Crypto.Groups.Element? instanceKey = null) =>
        new(m.Session, m.Sender, m.Recipient, instanceKey ?? m.InstanceKey, salt ?? m.Salt, m.CommitmentsDigest, gammaU ?? m.GammaU, gammaV ?? m.GammaV, m.Psi, mul ?? m.Mul);

    private static void AssertBlames(ProtocolException e, Fault fault, ulong culprit)
    {
        Assert.Equal(fault, e.Fault);
        Assert.Equal([Id(culprit)], e.Culprits);
    }

    [Fact]
    public void OT_extension_consistency_check_blames_the_receiver_that_sent_inconsistent_columns()
    {
        var keys = EcdsaRunner.Keygen("kos-test", 2, 2);
        var run = Start(keys, 1, 2);
        var m = run.R1To(2).Single();
        // Bob (member 1) flips row 5 in only half of the columns: an inconsistent choice bit across columns.
        var cols = (byte[])m.Kos.Columns.Clone();
        for (int i = 0; i < 64; i++) cols[i * OtParams.ColumnBytes] ^= 1 << 5;
        var e = Assert.Throws<ProtocolException>(() => run.Of(2).Round2([Replace(m, kos: m.Kos with { Columns = cols })]));
        AssertBlames(e, Fault.InvalidProof, 1);
        Assert.Contains("OT extension consistency", e.Message);
        Assert.True(run.Of(2).IsAborted);

        // Member 2 never uses its material with member 1 again (the failure may have leaked bits of Δ) ...
        Assert.Equal([Id(1)], keys[1].RetiredPairs);
        var retry = Assert.Throws<ProtocolException>(() => Start(keys, 1, 2));
        Assert.Equal(Fault.InvalidUsage, retry.Fault);
        Assert.Contains("retired", retry.Message);
        // ... and the stored form remembers it.
        Assert.Equal([Id(1)], keys[1].ToData().Validate().RetiredPairs);
        // After the pair is set up again, the two sign.
        var renewed = RenewPair(keys, 1, 2);
        Assert.Empty(renewed[1].RetiredPairs);
        var sig = EcdsaRunner.Sign(renewed, Digest);
        Assert.True(EcdsaCheck.DotNetVerifies(keys[0].Public.GroupPublicKey, Digest, sig.ToBytes()));
    }

    /// <summary>Sets up the pair (a, b) again with the setup state machines and replaces its material on both sides.</summary>
    private static EcdsaKeyShare[] RenewPair(EcdsaKeyShare[] keys, ulong a, ulong b)
    {
        var session = new EcdsaSetupSession(keys[0].Public);
        var ka = keys.Single(k => k.Identifier == Id(a));
        var kb = keys.Single(k => k.Identifier == Id(b));
        var (sa, ma) = EcdsaSetup.Start(ka.Share, session, [Id(b)]);
        var (sb, mb) = EcdsaSetup.Start(kb.Share, session, [Id(a)]);
        for (int round = 1; round <= 5; round++)
        {
            var na = sa.Receive(mb);
            mb = sb.Receive(ma);
            ma = na;
        }
        return keys.Select(k => k == ka ? ka.WithPairs(sa.Material!) : k == kb ? kb.WithPairs(sb.Material!) : k).ToArray();
    }

    [Fact]
    public void OT_extension_check_value_tampered_blames_the_receiver()
    {
        var run = Start(EcdsaRunner.Keygen("kos-test2", 2, 2), 1, 2);
        var m = run.R1To(2).Single();
        var t = (byte[])m.Kos.TCheck.Clone();
        t[3] ^= 0x10;
        var e = Assert.Throws<ProtocolException>(() => run.Of(2).Round2([Replace(m, kos: m.Kos with { TCheck = t })]));
        AssertBlames(e, Fault.InvalidProof, 1);
    }

    [Fact]
    public void Multiplication_check_blames_alice_for_a_wrong_check_value()
    {
        var keys = EcdsaRunner.Keygen("mul-test", 2, 2);
        var run = Start(keys, 1, 2);
        run.Round2All();
        var m = run.R2To(1).Single();
        var r = (Rotor.Crypto.Groups.Scalar[])m.Mul.R.Clone();
        r[7] += G.One;
        var e = Assert.Throws<ProtocolException>(() => run.Of(1).Round3([Replace(m, mul: m.Mul with { R = r })]));
        AssertBlames(e, Fault.InvalidProof, 2);
        Assert.Contains("multiplication consistency", e.Message);
        Assert.Equal([Id(2)], keys[0].RetiredPairs);
        Assert.Empty(keys[1].RetiredPairs);
    }

    [Fact]
    public void Multiplication_check_blames_alice_for_inconsistent_inputs()
    {
        var run = Start(EcdsaRunner.Keygen("mul-test2", 2, 2), 1, 2);
        run.Round2All();
        var m = run.R2To(1).Single();
        // Alice (member 2) uses another first input in every OT instance than the one her check value u covers.
        var tau = (Rotor.Crypto.Groups.Scalar[])m.Mul.Tau.Clone();
        for (int j = 0; j < OtParams.Xi; j++) tau[j * 2 * OtParams.Ell] += G.One;
        var e = Assert.Throws<ProtocolException>(() => run.Of(1).Round3([Replace(m, mul: m.Mul with { Tau = tau })]));
        AssertBlames(e, Fault.InvalidProof, 2);
    }

    [Fact]
    public void Commitment_opening_failure_blames_the_sender()
    {
        var run = Start(1, 2);
        run.Round2All();
        var m = run.R2To(1).Single();
        var salt = (byte[])m.Salt.Clone();
        salt[0] ^= 1;
        var e = Assert.Throws<ProtocolException>(() => run.Of(1).Round3([Replace(m, salt: salt)]));
        AssertBlames(e, Fault.InvalidProof, 2);
        Assert.Contains("commitment opening", e.Message);

        var run2 = Start(1, 2);
        run2.Round2All();
        var m2 = run2.R2To(1).Single();
        var e2 = Assert.Throws<ProtocolException>(() => run2.Of(1).Round3([Replace(m2, instanceKey: m2.InstanceKey + G.Generator)]));
        AssertBlames(e2, Fault.InvalidProof, 2);
    }

    [Fact]
    public void Gamma_consistency_checks_blame_the_sender()
    {
        var run = Start(1, 2);
        run.Round2All();
        var m = run.R2To(1).Single();
        var e = Assert.Throws<ProtocolException>(() => run.Of(1).Round3([Replace(m, gammaU: m.GammaU + G.Generator)]));
        AssertBlames(e, Fault.InvalidProof, 2);
        Assert.Contains("Γ_u", e.Message);

        var run2 = Start(1, 2);
        run2.Round2All();
        var m2 = run2.R2To(1).Single();
        var e2 = Assert.Throws<ProtocolException>(() => run2.Of(1).Round3([Replace(m2, gammaV: m2.GammaV + G.Generator)]));
        AssertBlames(e2, Fault.InvalidProof, 2);
        Assert.Contains("Γ_v", e2.Message);
    }

    [Theory]
    [InlineData(2ul, "u")]
    [InlineData(3ul, "u")]
    [InlineData(2ul, "v")]
    [InlineData(3ul, "v")]
    public void With_several_peers_the_batched_Gamma_check_names_the_one_that_lied_not_the_honest_one(ulong liar, string which)
    {
        // Three signers: member 1 checks the Γs of 2 and 3 in one combination; one of them lies, and only it is named.
        var run = Start(1, 2, 3);
        run.Round2All();
        var inbox = run.R2To(1).Select(m => m.Sender != Id(liar) ? m
            : which == "u" ? Replace(m, gammaU: m.GammaU + G.Generator) : Replace(m, gammaV: m.GammaV + G.Generator)).ToList();
        var e = Assert.Throws<ProtocolException>(() => run.Of(1).Round3(inbox));
        AssertBlames(e, Fault.InvalidProof, liar);
        Assert.Contains("Γ_" + which, e.Message);
        // The same messages, honest, give member 1 its share.
        var honest = Start(1, 2, 3);
        honest.Round2All();
        Assert.Equal(Id(1), honest.Of(1).Round3(honest.R2To(1)).Sender);
    }

    [Fact]
    public void Equivocated_commitments_are_caught_and_the_equivocator_blamed_by_the_one_it_lied_to()
    {
        var run = Start(1, 2, 3);
        // Member 1 sends member 3 another commitment than member 2.
        var to3 = run.R1.Single(m => m.Sender == Id(1) && m.Recipient == Id(3));
        var fake = (byte[])to3.Commitment.Clone();
        fake[0] ^= 1;
        run.R1[run.R1.IndexOf(to3)] = Replace(to3, commitment: fake);
        run.Round2All();
        // Member 2 sees member 3's digest of the commitments differ: equivocation, and it cannot tell by whom.
        var e2 = Assert.Throws<ProtocolException>(() => run.Of(2).Round3(run.R2To(2)));
        Assert.Equal(Fault.Equivocation, e2.Fault);
        Assert.Empty(e2.Culprits);
        // Member 3 holds the fake commitment; member 1's opening does not match it (digest check first: 2's digest also differs).
        var from1 = run.R2To(3).Where(m => m.Sender == Id(1));
        var e3 = Assert.Throws<ProtocolException>(() => run.Of(3).Round3(run.R2To(3).Where(m => m.Sender == Id(1)).Concat(run.R2To(3).Where(m => m.Sender == Id(2)))));
        Assert.True(e3.Fault is Fault.Equivocation or Fault.InvalidProof);
        Assert.DoesNotContain(Id(3), e3.Culprits);
        Assert.DoesNotContain(Id(2), e3.Culprits);
    }

    [Fact]
    public void Final_signature_check_fails_on_a_wrong_share_and_frames_no_one()
    {
        var run = Start(1, 2);
        run.Round2All();
        var shares = run.Signers.Select(s => s.Round3(run.R2To(Ulong(s.Identifier)))).ToList();
        var bad = shares[1];
        shares[1] = new EcdsaSignatureShare(bad.Session, bad.Sender, bad.R, bad.U, bad.W + G.One);
        var e = Assert.Throws<ProtocolException>(() => EcdsaSignatures.Combine(run.Session, shares));
        Assert.Equal(Fault.InvalidResult, e.Fault);
        Assert.Empty(e.Culprits);
        Assert.Contains("final signature check", e.Message);
        // The untampered shares still combine into a valid signature.
        shares[1] = bad;
        var sig = EcdsaSignatures.Combine(run.Session, shares);
        Assert.True(EcdsaCheck.DotNetVerifies(run.Session.Package.GroupPublicKey, Digest, sig.ToBytes()));
    }

    [Fact]
    public void Signature_share_with_another_nonce_point_is_blamed_on_its_sender()
    {
        var run = Start(1, 2);
        run.Round2All();
        var shares = run.Signers.Select(s => s.Round3(run.R2To(Ulong(s.Identifier)))).ToList();
        var bad = shares.Single(s => s.Sender == Id(2));
        var forged = new EcdsaSignatureShare(bad.Session, bad.Sender, bad.R + G.Generator, bad.U, bad.W);
        var e = Assert.Throws<ProtocolException>(() => run.Of(1).Finish([shares.Single(s => s.Sender == Id(1)), forged]));
        AssertBlames(e, Fault.InvalidSignatureShare, 2);
    }

    [Fact]
    public void The_coordinators_combination_refuses_shares_of_another_signing_or_with_disagreeing_R()
    {
        var run = Start(1, 2);
        run.Round2All();
        var shares = run.Signers.Select(s => s.Round3(run.R2To(Ulong(s.Identifier)))).ToList();
        // The same signers and key, another message: another session.
        var other = new EcdsaSignSession(run.Session.Package, run.Session.Signers, EcdsaCheck.Digest("another message"));
        var e = Assert.Throws<ProtocolException>(() => EcdsaSignatures.Combine(other, shares));
        Assert.Equal(Fault.WrongSession, e.Fault);
        var bad = shares[1];
        shares[1] = new EcdsaSignatureShare(bad.Session, bad.Sender, bad.R + G.Generator, bad.U, bad.W);
        var e2 = Assert.Throws<ProtocolException>(() => EcdsaSignatures.Combine(run.Session, shares));
        Assert.Equal(Fault.Equivocation, e2.Fault);
        Assert.Empty(e2.Culprits);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => EcdsaSignatures.Combine(run.Session, shares.Take(1))).Fault);
        Assert.Equal(Fault.DuplicateMessage, Assert.Throws<ProtocolException>(() => EcdsaSignatures.Combine(run.Session, [shares[0], shares[0], bad])).Fault);
    }

    [Fact]
    public void Stale_pair_material_of_a_peer_is_refused_by_name()
    {
        var run = Start(1, 2);
        var m = run.R1To(2).Single();
        var pid = (byte[])m.PairId.Clone();
        pid[0] ^= 1;
        var e = Assert.Throws<ProtocolException>(() => run.Of(2).Round2([Replace(m, pairId: pid)]));
        AssertBlames(e, Fault.StaleShare, 1);
    }

    [Fact]
    public void Messages_of_another_signing_are_refused_naming_the_sender()
    {
        var run = Start(1, 2);
        var other = Start(1, 2);
        var e = Assert.Throws<ProtocolException>(() => run.Of(2).Round2(other.R1To(2)));
        AssertBlames(e, Fault.WrongSession, 1);
    }

    [Fact]
    public void Malformed_wire_messages_are_refused_naming_the_sender()
    {
        var run = Start(1, 2);
        var bytes = run.R1To(2).Single().ToBytes();
        var e = Assert.Throws<ProtocolException>(() => EcdsaSignRound1.FromBytes(bytes[..^1]));
        AssertBlames(e, Fault.MalformedMessage, 1);
        var e2 = Assert.Throws<ProtocolException>(() => EcdsaSignRound1.FromBytes([.. bytes, 0]));
        AssertBlames(e2, Fault.MalformedMessage, 1);
        Assert.Equal(bytes, EcdsaSignRound1.FromBytes(bytes).ToBytes());
        run.Round2All();
        var b2 = run.R2To(1).Single().ToBytes();
        Assert.Equal(b2, EcdsaSignRound2.FromBytes(b2).ToBytes());
        var e3 = Assert.Throws<ProtocolException>(() => EcdsaSignRound2.FromBytes(b2[..^3]));
        AssertBlames(e3, Fault.MalformedMessage, 2);
    }

    [Fact]
    public void An_aborted_signing_keeps_nothing_reusable_and_refuses_every_later_step()
    {
        var run = Start(1, 2);
        run.Round2All();
        var m = run.R2To(1).Single();
        var salt = (byte[])m.Salt.Clone();
        salt[5] ^= 4;
        Assert.Throws<ProtocolException>(() => run.Of(1).Round3([Replace(m, salt: salt)]));
        Assert.True(run.Of(1).IsAborted);
        // The honest message now is refused too: the state was wiped.
        var again = Assert.Throws<ProtocolException>(() => run.Of(1).Round3([m]));
        Assert.Equal(Fault.InvalidUsage, again.Fault);
        Assert.Contains("aborted", again.Message);
        Assert.Throws<ProtocolException>(() => run.Of(1).Finish([]));
        // A finished signer cannot run its rounds again either.
        var run2 = Start(1, 2);
        run2.Round2All();
        run2.Of(1).Round3(run2.R2To(1));
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => run2.Of(1).Round3(run2.R2To(1))).Fault);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => run2.Of(1).Round2(run2.R1To(1))).Fault);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void A_message_digest_of_any_other_length_than_32_bytes_is_refused_clearly(int length)
    {
        var e = Assert.Throws<ArgumentException>(() => new EcdsaSignSession(Keys.Value[0].Public, [Id(1), Id(2)], new byte[length]));
        Assert.Contains("32-byte digest", e.Message);
        Assert.Contains($"got {length} bytes", e.Message);
    }

    [Fact]
    public void Fewer_signers_than_the_threshold_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new EcdsaSignSession(Keys.Value[0].Public, [Id(1)], Digest));
        Assert.Throws<ArgumentException>(() => new EcdsaSignSession(Keys.Value[0].Public, [Id(1), Id(9)], Digest));
    }
}
