using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests;

/// <summary>
/// Issue 9's protocol bindings: member identities in every package, session ids that bind the old package, the new
/// group key in the confirmation transcript, and the protocol sender bound to the authenticated one.
/// </summary>
public class BindingTests
{
    private static void AssertFault(Fault fault, Identifier[] culprits, Action act)
    {
        var e = Assert.Throws<ProtocolException>(act);
        Assert.Equal(fault, e.Fault);
        Assert.Equal(culprits, e.Culprits);
    }

    private static Dictionary<Identifier, byte[]> Keys(IEnumerable<Identifier> ids) =>
        ids.ToDictionary(i => i, _ => NodeIdentity.Create().Public.SigningKey.ToArray());

    /// <summary>Shares of a t-of-n key whose package records a fresh identity key per member.</summary>
    private static KeyShare[] Bound(Scheme scheme, int t, int n)
    {
        var (shares, _) = TestKeys.Deal(scheme, t, n);
        var pub = shares[0].Public.WithMemberKeys(Keys(shares.Select(s => s.Identifier)));
        return shares.Select(s => KeyShare.Create(pub, s.Identifier, s.SigningShare)).ToArray();
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Bip340)]
    public void ADkgRecordsTheMembersIdentityKeysAndMembersMustAgreeOnThem(Scheme scheme)
    {
        var ids = TestKeys.Ids(scheme.Group(), 3);
        var keys = Keys(ids);
        var session = SessionId.ForDkg("k", scheme, ids, 2, new byte[32], keys);
        var r1 = ids.Select(i => DkgParticipant.Start(session, i)).ToArray();
        var r2 = ids.Select((_, i) => r1[i].State.ReceiveRound1(r1.Where((_, j) => j != i).Select(r => r.Package))).ToArray();
        var r3 = ids.Select((_, i) => r2[i].State.ReceiveRound2(r2.Where((_, j) => j != i).Select(r => r.Packages[ids[i]]))).ToArray();
        var shares = ids.Select((_, i) => r3[i].State.Finish(r3.Where((_, j) => j != i).Select(r => r.Confirmation))).ToArray();
        foreach (var s in shares)
            foreach (var i in ids) Assert.Equal(keys[i], s.Public.MemberKey(i));
        // Member 3 is told another node stands behind identifier 2: its session differs, and its messages are refused.
        var other = new Dictionary<Identifier, byte[]>(keys) { [ids[1]] = NodeIdentity.Create().Public.SigningKey.ToArray() };
        var split = DkgParticipant.Start(SessionId.ForDkg("k", scheme, ids, 2, new byte[32], other), ids[2]);
        var fresh = DkgParticipant.Start(session, ids[0]);
        AssertFault(Fault.WrongSession, [ids[2]], () => fresh.State.ReceiveRound1([r1[1].Package, split.Package]));
    }

    [Fact]
    public void APackageIsStoredAndReadBackWithItsMemberKeys()
    {
        var share = Bound(Scheme.Secp256k1, 2, 3)[1];
        var back = share.ToData().Validate();
        Assert.True(back.Public.SameAs(share.Public));
        Assert.Equal(share.Public.Digest, back.Public.Digest);
        var unbound = TestKeys.Deal(Scheme.Secp256k1, 2, 3).Shares[0];
        Assert.False(unbound.Public.IsBound);
        Assert.Throws<ArgumentException>(() => unbound.Public.WithMemberKeys(Keys(unbound.Members.Take(2))));
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void ANewMemberGivenAFakeOldPackageCannotTakePart(Scheme scheme)
    {
        var old = Bound(scheme, 2, 3);
        var g = scheme.Group();
        var real = old[0].Public;
        // The coordinator shifts the key by δ (Y + δ·G, every Y_i + δ·G: a consistent package) for the new members.
        var shift = g.MulBase(g.RandomScalar());
        var fake = new PublicKeyPackage(real.KeyId, scheme, real.Epoch, real.Threshold,
            real.Members.ToDictionary(m => m, m => real.VerifyingShare(m) + shift), real.GroupPublicKey + shift).WithMemberKeys(real.MemberKeys);
        var newMembers = TestKeys.Ids(g, 3);
        var nonce = new byte[32];
        var honest = ResharePlan.Create(SessionId.ForReshare(real, newMembers, 2, nonce), real, [old[0].Identifier, old[1].Identifier]);
        var told = ResharePlan.Create(SessionId.ForReshare(fake, newMembers, 2, nonce), fake, [old[0].Identifier, old[1].Identifier]);
        Assert.NotEqual(honest.Session.Digest, told.Session.Digest);
        // The honest dealers deal on the real package; the new member's plan refuses their messages.
        var dealings = old.Take(2).Select(d => ReshareDealer.Deal(honest, d)).ToArray();
        var me = newMembers[2];
        AssertFault(Fault.WrongSession, [old[0].Identifier], () => ReshareMember.Receive(told, me,
            dealings.Select(d => d.Commitment).ToArray(), dealings.Select(d => d.For(me)).ToArray()));
        // A session made for one package is not a session of another, even at the same epoch and members.
        Assert.Throws<ProtocolException>(() => ResharePlan.Create(honest.Session, fake, [old[0].Identifier, old[1].Identifier]));
        var otherIdentities = real.WithMemberKeys(Keys(real.Members));
        Assert.NotEqual(real.Digest, otherIdentities.Digest);
        Assert.Throws<ProtocolException>(() => ResharePlan.Create(honest.Session, otherIdentities, [old[0].Identifier, old[1].Identifier]));
    }

    [Fact]
    public void TheCertificateCommitsToTheNewGroupKeyAndOldMembersCanCheckIt()
    {
        var old = Bound(Scheme.Ed25519, 2, 3);
        var newMembers = old.Select(s => s.Identifier).ToArray();
        var identities = newMembers.ToDictionary(m => m, _ => NodeIdentity.Create());
        var plan = ResharePlan.Create(SessionId.ForReshare(old[0].Public, newMembers, 2, default, identities.ToDictionary(i => i.Key, i => i.Value.Public.SigningKey.ToArray())),
            old[0].Public, [old[0].Identifier, old[2].Identifier]);
        var dealings = new[] { old[0], old[2] }.Select(d => ReshareDealer.Deal(plan, d)).ToArray();
        var outputs = newMembers.Select(j => ReshareMember.Receive(plan, j, dealings.Select(d => d.Commitment).ToArray(), dealings.Select(d => d.For(j)).ToArray())).ToArray();
        var certificate = ReshareCertificate.Verify(outputs[0].Event, outputs.Select((o, i) => o.Confirmation.Sign(identities[newMembers[i]])),
            identities.ToDictionary(i => i.Key, i => i.Value.Public));
        Assert.True(certificate.KeepsGroupKeys([old[0].Public]));
        // New shares record the new members' identity keys.
        Assert.Equal(identities[newMembers[1]].Public.SigningKey.ToArray(), outputs[0].Shares[0].Share.Public.MemberKey(newMembers[1]));
        // Another key's packages (another Y) do not match what was certified.
        Assert.False(certificate.KeepsGroupKeys([Bound(Scheme.Ed25519, 2, 3)[0].Public]));
        // The confirmation transcript covers the group keys: a confirmation claiming another Y has another transcript hash.
        var c = outputs[1].Confirmation;
        var altered = ReshareConfirmation.Decode(Scheme.Ed25519, c.ToBytes().Select((b, i) => i == 1 + 64 + 32 ? (byte)(b ^ 1) : b).ToArray());
        Assert.NotEqual(c.TranscriptHash, altered.TranscriptHash);
    }

    [Fact]
    public void AMessageWhoseBodyNamesAnotherSenderIsBlamedOnItsAuthenticatedSender()
    {
        var ids = TestKeys.Ids(Scheme.Ed25519.Group(), 3);
        var session = SessionId.ForDkg("k", Scheme.Ed25519, ids, 2);
        var package = DkgParticipant.Start(session, ids[1]).Package.ToBytes();
        // Member 3 relays member 2's package as its own (or any package naming member 2): member 3 is named, never member 2.
        AssertFault(Fault.UnexpectedSender, [ids[2]], () => Round1Package.Decode(Scheme.Ed25519.Group(), package, from: ids[2]));
        Assert.Equal(ids[1], Round1Package.Decode(Scheme.Ed25519.Group(), package, from: ids[1]).Sender);

        var old = Bound(Scheme.Secp256k1, 2, 3);
        var plan = ResharePlan.Create(SessionId.ForReshare(old[0].Public, old.Select(s => s.Identifier).ToArray(), 2), old[0].Public, [old[0].Identifier, old[1].Identifier]);
        var dealing = ReshareDealer.Deal(plan, old[0]);
        AssertFault(Fault.UnexpectedSender, [old[1].Identifier], () => ReshareCommitment.Decode(Scheme.Secp256k1, dealing.Commitment.ToBytes(), from: old[1].Identifier));
        AssertFault(Fault.UnexpectedSender, [old[1].Identifier], () => ReshareSubShare.Decode(Scheme.Secp256k1, dealing.For(old[2].Identifier).ToBytes(), from: old[1].Identifier));
        AssertFault(Fault.MalformedMessage, [old[1].Identifier], () => ReshareCommitment.Decode(Scheme.Secp256k1, new byte[3], from: old[1].Identifier));
    }
}
