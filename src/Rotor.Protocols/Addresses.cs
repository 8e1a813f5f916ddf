using Rotor.Crypto.Encodings;

namespace Rotor.Protocols;

/// <summary>
/// How a wallet's public key is shown to users (the CLI, the console, the coordinator's wallet records):
/// ed25519 as a Solana address (base58 of the 32-byte key); bip340 as a Bitcoin mainnet Taproot address (BIP-350
/// bech32m, witness version 1, the 32-byte x-only key); secp256k1 (RFC 9591 FROST, no chain verifies it) as the
/// 33-byte compressed key in hex; ecdsa-secp256k1 as its Ethereum address (EIP-55), with its Bitcoin P2WPKH
/// address (bech32) beside it in <see cref="ByChain"/>.
/// </summary>
public static class Addresses
{
    /// <summary>The primary address of <paramref name="publicKey"/>, encoded as SchemeKeys.EncodePublicKey gives it.</summary>
    public static string For(Scheme scheme, ReadOnlySpan<byte> publicKey) => scheme switch
    {
        Scheme.Ed25519 => Base58.Encode(publicKey),
        Scheme.Bip340 => Bech32m.EncodeSegwit("bc", 1, publicKey),
        Scheme.Secp256k1 => Convert.ToHexStringLower(publicKey),
        Scheme.EcdsaSecp256k1 => ChainAddresses.Ethereum(publicKey),
        _ => throw new ArgumentOutOfRangeException(nameof(scheme)),
    };

    /// <summary>
    /// Every chain's address of the key, by chain name, for schemes with more than one: ecdsa-secp256k1
    /// <c>{ ethereum: EIP-55, bitcoin: P2WPKH bech32 }</c> (the first is <see cref="For"/>'s); null for the others.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? ByChain(Scheme scheme, ReadOnlySpan<byte> publicKey) => scheme switch
    {
        Scheme.EcdsaSecp256k1 => new Dictionary<string, string>
        {
            ["ethereum"] = ChainAddresses.Ethereum(publicKey),
            ["bitcoin"] = ChainAddresses.BitcoinP2wpkh(publicKey),
        },
        _ => null,
    };
}
