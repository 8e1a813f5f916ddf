using Rotor.Protocols.Resharing;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Resharing;

/// <summary>A new member allowed to be offline at the commit, which catches up later against the certificate.</summary>
public sealed class ReshareAbsentMemberTests
{
    [Fact]
    public void A_certificate_without_an_allowed_absent_member_verifies_and_the_member_catches_up_later()
    {
        var (run, old, secret) = ReshareHarness.Refresh(Scheme.Ed25519, 2, 3);
        var outputs = run.ReceiveAll();
        var absent = outputs[2].Confirmation.Member;
        var (signed, keys) = ReshareAttackTests.SignAll(outputs);
        var cert = ReshareCertificate.Verify(outputs[0].Event, signed.Take(2), keys, [absent]);
        Assert.Equal(2, cert.Confirmations.Count);
        // The absent member, back, computes the same transcript from the same messages and commits with the certificate.
        Assert.Equal(cert.TranscriptHash, outputs[2].Confirmation.TranscriptHash);
        var shares = outputs.Select(o => o.Shares[0].Commit(cert)).ToArray();
        Assert.Equal(secret, TestKeys.Interpolate(shares.Take(2)));
        Assert.Equal(secret, TestKeys.Interpolate(shares.Skip(1)));
        Assert.Equal(old[0].GroupPublicKey, shares[2].GroupPublicKey);
    }

    [Fact]
    public void Absence_is_refused_when_not_allowed_or_when_fewer_than_the_new_threshold_confirmed()
    {
        var (run, _, _) = ReshareHarness.Refresh(Scheme.Secp256k1, 2, 3);
        var outputs = run.ReceiveAll();
        var (signed, keys) = ReshareAttackTests.SignAll(outputs);
        var ev = outputs[0].Event;
        var m2 = outputs[1].Confirmation.Member;
        var m3 = outputs[2].Confirmation.Member;
        var notAllowed = Assert.Throws<ProtocolException>(() => ReshareCertificate.Verify(ev, signed.Take(2), keys, [m2]));
        Assert.Equal(Fault.InvalidUsage, notAllowed.Fault);
        Assert.Equal([m3], notAllowed.Culprits);
        var tooFew = Assert.Throws<ProtocolException>(() => ReshareCertificate.Verify(ev, signed.Take(1), keys, [m2, m3]));
        Assert.Equal(Fault.InvalidUsage, tooFew.Fault);
        Assert.Contains("fewer than the new threshold 2", tooFew.Message);
    }
}
