using Rotor.Crypto.Signatures;
using Rotor.Protocols.Frost;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Frost;

public class FrostPropertyTests
{
    /// <summary>For every 1 ≤ t ≤ n ≤ 12: a fresh dealt key, a random signing set of t..n members, and a signature
    /// that the scheme's standard verifier accepts (and rejects for another message).</summary>
    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void AnySigningSetOfAtLeastTMembersProducesAValidSignature(Scheme scheme)
    {
        var rng = new Random(9591 + (int)scheme);
        var parities = new HashSet<bool>();
        for (int n = 1; n <= 12; n++)
            for (int t = 1; t <= n; t++)
            {
                var (shares, _) = TestKeys.Deal(scheme, t, n);
                var signers = shares.OrderBy(_ => rng.Next()).Take(rng.Next(t, n + 1)).ToArray();
                var message = new byte[rng.Next(0, 80)];
                rng.NextBytes(message);
                var sig = FrostCoordinator.SignInProcess(signers, message);
                var key = shares[0].GroupPublicKey;
                Assert.Equal(SchemeSignatures.Length(scheme), sig.Length);
                Assert.True(SchemeSignatures.Verify(scheme, key, message, sig), $"{t}-of-{n}, signers {string.Join(",", signers.Select(s => s.Identifier))}");
                Assert.False(SchemeSignatures.Verify(scheme, key, [.. message, 1], sig));
                if (scheme == Scheme.Bip340) parities.Add(Bip340.HasEvenY(key));
            }
        // The odd-y key path (negated shares) and the even one were both exercised.
        if (scheme == Scheme.Bip340) Assert.Equal(2, parities.Count);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void MessagesRoundTripThroughTheirWireForms(Scheme scheme)
    {
        var (shares, _) = TestKeys.Deal(scheme, 2, 3);
        var signers = new[] { shares[2], shares[0] };
        var pub = shares[0].Public;
        var round1 = signers.Select(FrostSigner.Commit).ToArray();
        var wire = round1.Select(r => r.Commitments.ToData().Validate(scheme)).ToArray();
        Assert.Equal(round1.Select(r => r.Commitments), wire);
        var package = SigningPackage.Create(pub, wire, "wire"u8).ToData().Validate(pub);
        Assert.Equal([shares[0].Identifier, shares[2].Identifier], package.Signers);
        var sigShares = signers.Select((s, i) => FrostSigner.Sign(package, round1[i].Nonces, s).ToData().Validate(scheme)).ToArray();
        var sig = FrostCoordinator.Aggregate(package, sigShares, pub);
        Assert.True(SchemeSignatures.Verify(scheme, SchemeKeys.EncodePublicKey(scheme, pub.GroupPublicKey), "wire"u8, sig));
    }

    [Fact]
    public void PublicKeysAreEncodedAsEachSchemeExpects()
    {
        Assert.Equal(32, SchemeKeys.EncodePublicKey(Scheme.Ed25519, TestKeys.Deal(Scheme.Ed25519, 1, 1).Shares[0].GroupPublicKey).Length);
        var k1 = TestKeys.Deal(Scheme.Secp256k1, 1, 1).Shares[0].GroupPublicKey;
        Assert.Equal(k1.ToBytes(), SchemeKeys.EncodePublicKey(Scheme.Secp256k1, k1));
        Assert.Equal(k1.ToBytes()[1..], SchemeKeys.EncodePublicKey(Scheme.Bip340, k1));
        Assert.Throws<ArgumentException>(() => SchemeKeys.EncodePublicKey(Scheme.Ed25519, k1));
    }
}
