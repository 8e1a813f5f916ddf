using Rotor.Protocols;

namespace Rotor.Coordinator.Tests;

public sealed class AddressTests
{
    // BIP-350 "valid segwit addresses": address, scriptPubKey (version opcode, push length, program).
    [Theory]
    [InlineData("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6")]
    [InlineData("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262")]
    [InlineData("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6")]
    [InlineData("BC1SW50QGDZ25J", "6002751e")]
    [InlineData("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323")]
    [InlineData("tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433")]
    [InlineData("tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433")]
    [InlineData("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")]
    public void Bip350_valid_addresses_encode_and_decode(string address, string scriptPubKey)
    {
        var script = Convert.FromHexString(scriptPubKey);
        var version = script[0] == 0 ? 0 : script[0] - 0x50;
        var program = script[2..];
        var hrp = address[..address.LastIndexOf('1')].ToLowerInvariant();
        Assert.Equal(address.ToLowerInvariant(), Bech32m.EncodeSegwit(hrp, version, program));
        var decoded = Bech32m.DecodeSegwit(address);
        Assert.NotNull(decoded);
        Assert.Equal((hrp, version), (decoded.Value.Hrp, decoded.Value.Version));
        Assert.Equal(program, decoded.Value.Program);
    }

    // BIP-350 "invalid segwit addresses" whose fault is in the checksum or the program (hrp checks are the caller's).
    [Theory]
    [InlineData("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd")] // bech32 checksum for v1
    [InlineData("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL")] // bech32 checksum for v16
    [InlineData("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh")] // bech32m checksum for v0
    [InlineData("tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47")] // bech32m checksum for v0
    [InlineData("bc1gmk9yu")] // empty program
    public void Bip350_invalid_addresses_are_refused(string address) => Assert.Null(Bech32m.DecodeSegwit(address));

    [Fact]
    public void Taproot_address_is_bech32m_of_the_x_only_key()
    {
        var key = Convert.FromHexString("bd7fb33adfc5f0c65d4ec5c5d841c7d119dbb5657ab61cbd99f985c12b1e7c03");
        Assert.Equal("bc1ph4lmxwklchcvvh2wchzassw86yvahdt902mpe0velxzuz2c70sps70mzj4", Addresses.For(Scheme.Bip340, key));
    }

    [Fact]
    public void Solana_address_is_base58_of_the_key()
    {
        Assert.Equal("11111111111111111111111111111111", Addresses.For(Scheme.Ed25519, new byte[32]));
        // The SPL token program's id and its 32 bytes.
        Assert.Equal("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
            Base58.Encode(Convert.FromHexString("06ddf6e1d765a193d9cbe146ceeb79ac1cb485ed5f5b37913a8cf5857eff00a9")));
    }

    [Fact]
    public void Secp256k1_is_shown_as_the_compressed_key()
    {
        var key = Convert.FromHexString("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        Assert.Equal("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Addresses.For(Scheme.Secp256k1, key));
    }
}
