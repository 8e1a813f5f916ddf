using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Frost;

public class FrostFailureTests
{
    public static TheoryData<Scheme> Schemes => new(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340);

    private sealed record Run(KeyShare[] Signers, SigningNonces[] Nonces, SigningPackage Package, SignatureShare[] Shares)
    {
        public PublicKeyPackage Public => Signers[0].Public;
    }

    private static readonly byte[] Message = "pay 1 BTC to bob"u8.ToArray();

    private static Run Round2(KeyShare[] signers)
    {
        var round1 = signers.Select(FrostSigner.Commit).ToArray();
        var package = SigningPackage.Create(signers[0].Public, round1.Select(r => r.Commitments), Message);
        var shares = signers.Select((s, i) => FrostSigner.Sign(package, round1[i].Nonces, s)).ToArray();
        return new Run(signers, round1.Select(r => r.Nonces).ToArray(), package, shares);
    }

    private static SignatureShare Tamper(SignatureShare s) => new(s.Identifier, s.KeyId, s.Epoch, s.Share + s.Share.Group.One);

    private static Identifier Id(Scheme scheme, ulong i) => Identifier.FromUInt64(scheme.Group(), i);

    /// <summary>A new epoch of the same key (same secret, fresh polynomial): what a refresh produces (test-only dealer).</summary>
    private static KeyShare[] NextEpoch(KeyShare[] shares, Scalar secret)
    {
        var old = shares[0].Public;
        var poly = Polynomial.Random(secret, old.Threshold - 1);
        var pub = new PublicKeyPackage(old.KeyId, old.Scheme, old.Epoch + 1, old.Threshold,
            old.Members.ToDictionary(i => i, i => old.Group.MulBase(poly.Evaluate(i))), old.GroupPublicKey);
        return old.Members.Select(i => KeyShare.Create(pub, i, poly.Evaluate(i))).ToArray();
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void ACheatingSignerIsNamed(Scheme scheme)
    {
        var (shares, _) = TestKeys.Deal(scheme, 3, 5);
        var run = Round2([shares[0], shares[2], shares[3]]);
        var bad = run.Shares.Select(s => s.Identifier == Id(scheme, 3) ? Tamper(s) : s).ToArray();
        var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.Aggregate(run.Package, bad, run.Public));
        Assert.Equal(Fault.InvalidSignatureShare, e.Fault);
        Assert.Equal([Id(scheme, 3)], e.Culprits);

        var single = Assert.Throws<ProtocolException>(() => FrostCoordinator.VerifySignatureShare(run.Package, bad[1], run.Public));
        Assert.Equal([Id(scheme, 3)], single.Culprits);
        FrostCoordinator.VerifySignatureShare(run.Package, bad[0], run.Public);
        // The honest shares still aggregate.
        Assert.True(SchemeSignatures.Verify(scheme, run.Public.GroupPublicKey, Message, FrostCoordinator.Aggregate(run.Package, run.Shares, run.Public)));
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void EveryCheaterIsNamed(Scheme scheme)
    {
        var (shares, _) = TestKeys.Deal(scheme, 3, 4);
        var run = Round2(shares);
        var bad = run.Shares.Select(s => s.Identifier == Id(scheme, 1) || s.Identifier == Id(scheme, 4) ? Tamper(s) : s).ToArray();
        var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.Aggregate(run.Package, bad, run.Public));
        Assert.Equal([Id(scheme, 1), Id(scheme, 4)], e.Culprits);
    }

    [Theory]
    [InlineData(Scheme.Ed25519, 31, "wrong length")]
    [InlineData(Scheme.Ed25519, 32, "identity")]
    [InlineData(Scheme.Secp256k1, 33, "identity")]
    [InlineData(Scheme.Secp256k1, 34, "wrong length")]
    public void MalformedCommitmentsAreRefusedNamingTheSender(Scheme scheme, int length, string reason)
    {
        var (shares, _) = TestKeys.Deal(scheme, 2, 3);
        var data = FrostSigner.Commit(shares[1]).Commitments.ToData();
        data.Binding = new byte[length];
        if (scheme == Scheme.Ed25519 && length == 32) data.Binding[0] = 1; // y = 1: the identity
        var e = Assert.Throws<ProtocolException>(() => data.Validate(scheme));
        Assert.Equal(Fault.MalformedMessage, e.Fault);
        Assert.Equal([shares[1].Identifier], e.Culprits);
        Assert.Contains("binding commitment", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ACommitmentOffTheCurveInAPackageIsRefused()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Secp256k1, 2, 3);
        var package = SigningPackage.Create(shares[0].Public, shares.Take(2).Select(s => FrostSigner.Commit(s).Commitments), Message).ToData();
        package.Commitments[1].Hiding.AsSpan(1).Fill(0xff); // x ≥ p
        var e = Assert.Throws<ProtocolException>(() => package.Validate(shares[0].Public));
        Assert.Equal(Fault.MalformedMessage, e.Fault);
        Assert.Equal([shares[1].Identifier], e.Culprits);
        Assert.Contains("hiding commitment", e.Message);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void ASignerThatIsNotAMemberIsRefused(Scheme scheme)
    {
        var (shares, _) = TestKeys.Deal(scheme, 2, 3);
        var (others, _) = TestKeys.Deal(scheme, 2, 7);
        var outsider = FrostSigner.Commit(others[6]).Commitments; // member 7 of another key with the same key id and epoch
        var e = Assert.Throws<ProtocolException>(() =>
            SigningPackage.Create(shares[0].Public, [FrostSigner.Commit(shares[0]).Commitments, outsider], Message));
        Assert.Equal(Fault.UnexpectedSender, e.Fault);
        Assert.Equal([Id(scheme, 7)], e.Culprits);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void FewerThanTSignersAreRefused(Scheme scheme)
    {
        var (shares, _) = TestKeys.Deal(scheme, 3, 5);
        var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.SignInProcess(shares.Take(2).ToArray(), Message));
        Assert.Equal(Fault.InvalidUsage, e.Fault);
        Assert.Contains("needs at least 3", e.Message);
    }

    [Fact]
    public void DuplicateSignersAreRefused()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.SignInProcess([shares[0], shares[1], shares[1]], Message));
        Assert.Equal(Fault.DuplicateMessage, e.Fault);
        Assert.Equal([shares[1].Identifier], e.Culprits);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void AStaleEpochShareIsRefusedNamingTheMember(Scheme scheme)
    {
        var (epoch0, secret) = TestKeys.Deal(scheme, 2, 3);
        var epoch1 = NextEpoch(epoch0, secret);
        var two = Id(scheme, 2);

        // In one call: the newest epoch is the one signed with, the old share is named.
        var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.SignInProcess([epoch1[0], epoch0[1]], Message));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([two], e.Culprits);

        // Round 1: the coordinator refuses commitments made with the old share.
        var stale = FrostSigner.Commit(epoch0[1]);
        e = Assert.Throws<ProtocolException>(() => SigningPackage.Create(epoch1[0].Public, [FrostSigner.Commit(epoch1[0]).Commitments, stale.Commitments], Message));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([two], e.Culprits);

        // Round 2: a signer holding the old share refuses to sign and keeps its nonces.
        var fresh = FrostSigner.Commit(epoch1[1]);
        var first = FrostSigner.Commit(epoch1[0]);
        var package = SigningPackage.Create(epoch1[0].Public, [first.Commitments, fresh.Commitments], Message);
        e = Assert.Throws<ProtocolException>(() => FrostSigner.Sign(package, stale.Nonces, epoch0[1]));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([two], e.Culprits);
        Assert.False(stale.Nonces.IsConsumed);

        // Aggregation: a share labelled with the old epoch is refused.
        var good = new[] { FrostSigner.Sign(package, first.Nonces, epoch1[0]), FrostSigner.Sign(package, fresh.Nonces, epoch1[1]) };
        var relabelled = new SignatureShare(two, good[1].KeyId, 0, good[1].Share);
        e = Assert.Throws<ProtocolException>(() => FrostCoordinator.Aggregate(package, [good[0], relabelled], epoch1[0].Public));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([two], e.Culprits);
        Assert.True(SchemeSignatures.Verify(scheme, epoch1[0].GroupPublicKey, Message, FrostCoordinator.Aggregate(package, good, epoch1[0].Public)));
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void AStaleShareForcedPastTheCheckMakesTheSignatureFailAndIsBlamed(Scheme scheme)
    {
        var (epoch0, secret) = TestKeys.Deal(scheme, 2, 3);
        var epoch1 = NextEpoch(epoch0, secret);
        var two = Id(scheme, 2);
        var first = FrostSigner.Commit(epoch1[0]);
        var second = FrostSigner.Commit(epoch1[1]);
        var package = SigningPackage.Create(epoch1[0].Public, [first.Commitments, second.Commitments], Message);
        var ctx = package.Context;

        // Raw core: member 2 signs with its epoch-0 share, bypassing every key-id/epoch check.
        var (d, e) = second.Nonces.Consume();
        var staleZ = ctx.SignatureShare(ctx.IndexOf(two), d, e, epoch0[1].SigningShare);
        var goodZ = FrostSigner.Sign(package, first.Nonces, epoch1[0]);
        var z = FrostCore.Aggregate(scheme.Group(), [goodZ.Share, staleZ]);
        Assert.False(SchemeSignatures.Verify(scheme, epoch1[0].GroupPublicKey, Message, SchemeSignatures.Encode(scheme, ctx.SignatureR, z)));

        // Labelled as an epoch-1 share it passes the label check, and share verification names member 2.
        var forged = new SignatureShare(two, package.KeyId, package.Epoch, staleZ);
        var ex = Assert.Throws<ProtocolException>(() => FrostCoordinator.Aggregate(package, [goodZ, forged], epoch1[0].Public));
        Assert.Equal(Fault.InvalidSignatureShare, ex.Fault);
        Assert.Equal([two], ex.Culprits);
    }

    [Fact]
    public void NoncesAreSingleUse()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 2);
        var r = shares.Select(FrostSigner.Commit).ToArray();
        var package = SigningPackage.Create(shares[0].Public, r.Select(x => x.Commitments), Message);
        FrostSigner.Sign(package, r[0].Nonces, shares[0]);
        Assert.True(r[0].Nonces.IsConsumed);
        var e = Assert.Throws<ProtocolException>(() => FrostSigner.Sign(package, r[0].Nonces, shares[0]));
        Assert.Equal(Fault.InvalidUsage, e.Fault);
        Assert.Contains("already used", e.Message);
        Assert.DoesNotContain("Scalar", r[1].Nonces.ToString().Replace("SigningNonces", ""));
    }

    [Fact]
    public void APackageWithAnotherCommitmentForTheSignerIsRefused()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Secp256k1, 2, 2);
        var mine = FrostSigner.Commit(shares[0]);
        var swapped = FrostSigner.Commit(shares[0]).Commitments; // another pair of nonces under the same identifier
        var package = SigningPackage.Create(shares[0].Public, [swapped, FrostSigner.Commit(shares[1]).Commitments], Message);
        var e = Assert.Throws<ProtocolException>(() => FrostSigner.Sign(package, mine.Nonces, shares[0]));
        Assert.Equal(Fault.TranscriptMismatch, e.Fault);
        Assert.False(mine.Nonces.IsConsumed);
    }

    [Fact]
    public void ASignatureShareAboveTheOrderIsRefusedNamingTheSender()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 2);
        var run = Round2(shares);
        var data = run.Shares[1].ToData();
        data.Share.AsSpan().Fill(0xff);
        var e = Assert.Throws<ProtocolException>(() => data.Validate(Scheme.Ed25519));
        Assert.Equal(Fault.MalformedMessage, e.Fault);
        Assert.Equal([shares[1].Identifier], e.Culprits);
    }

    [Fact]
    public void MissingAndDuplicateSignatureSharesAreRefused()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3);
        var run = Round2(shares);
        var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.Aggregate(run.Package, run.Shares.Take(2), run.Public));
        Assert.Equal([shares[2].Identifier], e.Culprits);
        e = Assert.Throws<ProtocolException>(() => FrostCoordinator.Aggregate(run.Package, [.. run.Shares, run.Shares[0]], run.Public));
        Assert.Equal(Fault.DuplicateMessage, e.Fault);
    }
}
