using Grpc.Core;

namespace Rotor.Coordinator.Tests;

/// <summary>The coordinator's side of ecdsa-secp256k1 signing: exactly a 32-byte digest, refused otherwise before anyone approves.</summary>
public sealed class EcdsaCoordinatorTests
{
    private static readonly WalletEntry Ecdsa = new("ecdsa-secp256k1-0a0b0c0d0e0f", "ecdsa-secp256k1", "q", "02" + new string('1', 64), 0);

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void An_ecdsa_message_that_is_not_a_32_byte_digest_is_refused_naming_the_rule_and_the_length(int length)
    {
        var e = Assert.Throws<CoordinatorException>(() => EcdsaPairs.CheckMessage(Ecdsa, new byte[length]));
        Assert.Equal(StatusCode.InvalidArgument, e.Code);
        Assert.Contains("ecdsa-secp256k1", e.Message);
        Assert.Contains("exactly the 32-byte digest", e.Message);
        Assert.Contains($"got {length} bytes", e.Message);
    }

    [Fact]
    public void A_32_byte_digest_passes_and_frost_wallets_take_any_message()
    {
        EcdsaPairs.CheckMessage(Ecdsa, new byte[32]);
        foreach (var scheme in new[] { "ed25519", "secp256k1", "bip340" })
            EcdsaPairs.CheckMessage(Ecdsa with { Scheme = scheme }, new byte[3]);
        Assert.True(EcdsaPairs.IsEcdsa("ecdsa-secp256k1"));
        Assert.False(EcdsaPairs.IsEcdsa("secp256k1"));
    }
}
