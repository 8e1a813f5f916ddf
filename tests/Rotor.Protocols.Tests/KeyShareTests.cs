using Rotor.Crypto;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests;

public class KeyShareTests
{
    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void WireFormRoundTripsThroughValidation(Scheme scheme)
    {
        var (shares, secret) = TestKeys.Deal(scheme, 2, 3);
        foreach (var s in shares)
        {
            var back = s.ToData().Validate();
            Assert.Equal(s.SigningShare, back.SigningShare);
            Assert.Equal(s.GroupPublicKey, back.GroupPublicKey);
            Assert.Equal(s.Identifier, back.Identifier);
        }
        Assert.Equal(secret, TestKeys.Interpolate(shares.Take(2)));
    }

    [Fact]
    public void SigningShareThatDoesNotMatchItsVerificationShareIsRefused()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var data = shares[0].ToData();
        data.SigningShare = shares[1].SigningShare.ToBytes();
        var e = Assert.Throws<ArgumentException>(() => data.Validate());
        Assert.Contains("does not match its verification share", e.Message);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void A_share_remembered_as_checked_lets_no_other_share_pass_for_the_same_package(Scheme scheme)
    {
        // Create remembers the (package, member, share) that passed s·G = Y_i, so that a share read again skips the
        // base multiplication; nothing else may ride on that memory: not another member's share, not this member
        // with another share, not the same share under another member's identifier.
        var (shares, _) = TestKeys.Deal(scheme, 2, 3);
        var pub = shares[0].Public;
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(shares[0].SigningShare, KeyShare.Create(pub, shares[0].Identifier, shares[0].SigningShare).SigningShare);
            Assert.Equal(shares[1].SigningShare, KeyShare.Create(pub, shares[1].Identifier, shares[1].SigningShare).SigningShare);
        }
        Assert.Contains("does not match", Assert.Throws<ArgumentException>(() => KeyShare.Create(pub, shares[0].Identifier, shares[1].SigningShare)).Message);
        Assert.Contains("does not match", Assert.Throws<ArgumentException>(() => KeyShare.Create(pub, shares[1].Identifier, shares[0].SigningShare)).Message);
        Assert.Contains("does not match", Assert.Throws<ArgumentException>(() =>
            KeyShare.Create(pub, shares[0].Identifier, shares[0].SigningShare + shares[0].SigningShare.Group.ScalarFromUInt64(1))).Message);
        // another package object of another key: its own check, even for the same identifier
        var (others, _) = TestKeys.Deal(scheme, 2, 3);
        Assert.Contains("does not match", Assert.Throws<ArgumentException>(() => KeyShare.Create(others[0].Public, others[0].Identifier, shares[0].SigningShare)).Message);
    }

    [Fact]
    public void VerificationSharesOffThePolynomialAreRefused()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Secp256k1, 2, 3);
        var data = shares[0].ToData();
        data.VerifyingShares[2] = data.VerifyingShares[1];
        var e = Assert.Throws<ArgumentException>(() => data.Validate());
        Assert.Contains("member 3", e.Message);
    }

    [Fact]
    public void MalformedGroupKeyIsRefusedWithItsReason()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var data = shares[0].ToData();
        data.GroupPublicKey = new byte[31];
        Assert.Equal(EncodingError.WrongLength, Assert.Throws<InvalidEncodingException>(() => data.Validate()).Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void ThresholdOutsideTheMemberCountIsRefused(int threshold)
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var data = shares[0].ToData();
        data.Threshold = threshold;
        Assert.Contains("threshold", Assert.Throws<ArgumentException>(() => data.Validate()).Message);
    }
}
