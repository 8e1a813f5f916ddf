using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Signatures;
using Rotor.TestSupport;

namespace Rotor.Crypto.Tests.Signatures;

public class VerifierTests
{
    // RFC 8032 section 7.1, TEST 1 and TEST 2.
    [Theory]
    [InlineData("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")]
    [InlineData("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")]
    public void Ed25519Rfc8032VectorsVerifyUnderNSecAndTheRfc9591Check(string pk, string msg, string sig)
    {
        var (k, m, s) = (Convert.FromHexString(pk), Convert.FromHexString(msg), Convert.FromHexString(sig));
        Assert.True(Ed25519Verifier.Verify(k, m, s));
        Assert.True(Rfc9591Verifier.Verify(Ed25519Sha512.Instance, k, m, s));
        s[5] ^= 0x40;
        Assert.False(Ed25519Verifier.Verify(k, m, s));
        Assert.False(Rfc9591Verifier.Verify(Ed25519Sha512.Instance, k, m, s));
        Assert.False(Ed25519Verifier.Verify(k[..31], m, s));
    }

    [Fact]
    public void Secp256k1Rfc9591SignatureFromAppendixEVerifies()
    {
        using var doc = Vectors.Json("frost/cfrg-poc/frost-secp256k1-sha256.json");
        var inputs = doc.RootElement.GetProperty("inputs");
        var pk = Convert.FromHexString(inputs.GetProperty("group_public_key").GetString()!);
        var msg = Convert.FromHexString(inputs.GetProperty("message").GetString()!);
        var sig = Convert.FromHexString(doc.RootElement.GetProperty("final_output").GetProperty("sig").GetString()!);
        var suite = Secp256k1Sha256.Instance;
        Assert.Equal(65, Rfc9591Verifier.SignatureLength(suite));
        Assert.True(Rfc9591Verifier.Verify(suite, pk, msg, sig));
        Assert.False(Rfc9591Verifier.Verify(suite, pk, [.. msg, 0], sig));
        Assert.False(Rfc9591Verifier.Verify(suite, pk, msg, sig[..64]));
        Assert.False(Rfc9591Verifier.Verify(Secp256k1Sha256Tr.Instance, pk, msg, sig));
        var wrongR = (byte[])sig.Clone();
        wrongR[0] ^= 1; // the other point with the same x
        Assert.False(Rfc9591Verifier.Verify(suite, pk, msg, wrongR));
        var bigZ = (byte[])sig.Clone();
        bigZ.AsSpan(33).Fill(0xff);
        Assert.False(Rfc9591Verifier.Verify(suite, pk, msg, bigZ));
    }
}
