using Rotor.Crypto.Encodings;

namespace Rotor.Protocols.Tests;

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

    // k·G for k = 1, 2: their Ethereum addresses are well known (and fixed by keccak-256: SHA3-256 gives others).
    [Theory]
    [InlineData("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")]
    [InlineData("02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5", "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")]
    public void Ethereum_address_of_known_keys(string compressed, string address)
    {
        var key = Convert.FromHexString(compressed);
        Assert.Equal(address, Addresses.For(Scheme.EcdsaSecp256k1, key));
        Assert.Equal(address, ChainAddresses.Ethereum(ChainAddresses.Uncompressed(key)));
        Assert.Equal(address, Addresses.ByChain(Scheme.EcdsaSecp256k1, key)!["ethereum"]);
    }

    // EIP-55's own test vectors (all caps, all lower, mixed).
    [Theory]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void Eip55_checksum_vectors(string address) =>
        Assert.Equal(address, ChainAddresses.Eip55(Convert.FromHexString(address[2..])));

    [Fact]
    public void Bitcoin_p2wpkh_of_the_generator_is_the_bip173_example()
    {
        // BIP-173: bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 is P2WPKH of 0279be66...f81798 (HASH160 751e76e8...).
        var g = Convert.FromHexString("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        Assert.Equal("751e76e8199196d454941c45d1b3a323f1433bd6", Convert.ToHexStringLower(ChainAddresses.Hash160(g)));
        Assert.Equal("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ChainAddresses.BitcoinP2wpkh(g));
        Assert.Equal("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Addresses.ByChain(Scheme.EcdsaSecp256k1, g)!["bitcoin"]);
        Assert.Equal("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", ChainAddresses.BitcoinP2wpkh(g, "tb"));
        // the uncompressed form hashes as compressed (P2WPKH only allows compressed keys)
        Assert.Equal("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ChainAddresses.BitcoinP2wpkh(ChainAddresses.Uncompressed(g)));
    }

    [Fact]
    public void Random_keys_match_NBitcoin_and_Nethereum()
    {
        for (int i = 0; i < 20; i++)
        {
            var k = new NBitcoin.Key();
            var compressed = k.PubKey.ToBytes();
            Assert.Equal(k.PubKey.GetAddress(NBitcoin.ScriptPubKeyType.Segwit, NBitcoin.Network.Main).ToString(),
                Addresses.ByChain(Scheme.EcdsaSecp256k1, compressed)!["bitcoin"]);
            var eth = new Nethereum.Signer.EthECKey(k.ToBytes(), isPrivate: true).GetPublicAddress();
            Assert.Equal(eth, Addresses.For(Scheme.EcdsaSecp256k1, compressed));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f817")] // 32 bytes
    [InlineData("0579be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")] // bad prefix
    [InlineData("020000000000000000000000000000000000000000000000000000000000000005")] // x with no point (x³+7 not a square)
    public void Ecdsa_addresses_refuse_what_is_not_a_key(string hex)
    {
        var e = Assert.Throws<ArgumentException>(() => Addresses.For(Scheme.EcdsaSecp256k1, Convert.FromHexString(hex)));
        Assert.Contains("secp256k1", e.Message);
        Assert.Throws<ArgumentException>(() => ChainAddresses.BitcoinP2wpkh(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Only_ecdsa_has_addresses_by_chain()
    {
        var g = Convert.FromHexString("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        Assert.Null(Addresses.ByChain(Scheme.Secp256k1, g));
        Assert.Null(Addresses.ByChain(Scheme.Bip340, g[1..]));
        Assert.Null(Addresses.ByChain(Scheme.Ed25519, new byte[32]));
    }
}
