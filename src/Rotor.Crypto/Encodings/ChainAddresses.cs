using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Rotor.Crypto.Groups.Secp256k1;

namespace Rotor.Crypto.Encodings;

/// <summary>
/// Addresses of a secp256k1 public key (what an ECDSA wallet receives funds at): Ethereum's EIP-55 checksummed
/// address and Bitcoin's P2WPKH (BIP-173 bech32, witness version 0). Public data only.
/// </summary>
public static class ChainAddresses
{
    /// <summary>
    /// The Ethereum address: the last 20 bytes of keccak-256 (the original Keccak padding, not SHA3-256) of the
    /// uncompressed point without its 0x04 prefix (x ‖ y, 64 bytes), as 0x-prefixed hex with the EIP-55 checksum.
    /// Takes the key compressed (33 bytes) or uncompressed (65 bytes); an invalid point is an ArgumentException.
    /// </summary>
    public static string Ethereum(ReadOnlySpan<byte> publicKey)
    {
        var xy = Uncompressed(publicKey).AsSpan(1);
        return Eip55(Keccak256(xy).AsSpan(12));
    }

    /// <summary>EIP-55: lower-case hex of the 20 bytes, each letter upper-cased where the nibble of keccak-256(that hex) at its position is ≥ 8.</summary>
    public static string Eip55(ReadOnlySpan<byte> address)
    {
        if (address.Length != 20) throw new ArgumentException($"an Ethereum address is 20 bytes, got {address.Length}");
        var hex = Convert.ToHexStringLower(address);
        var hash = Keccak256(Encoding.ASCII.GetBytes(hex));
        var sb = new StringBuilder("0x", 42);
        for (int i = 0; i < hex.Length; i++)
        {
            int nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xf;
            sb.Append(hex[i] is >= 'a' and <= 'f' && nibble >= 8 ? char.ToUpperInvariant(hex[i]) : hex[i]);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The Bitcoin P2WPKH address: bech32 (BIP-173) of witness version 0 and the 20-byte HASH160 (RIPEMD-160 of
    /// SHA-256) of the compressed key. <paramref name="hrp"/> "bc" for mainnet, "tb" for testnet.
    /// </summary>
    public static string BitcoinP2wpkh(ReadOnlySpan<byte> publicKey, string hrp = "bc") =>
        Bech32m.EncodeSegwit(hrp, 0, Hash160(Compressed(publicKey)));

    /// <summary>Keccak-256 (Ethereum's hash, BouncyCastle's KeccakDigest).</summary>
    public static byte[] Keccak256(ReadOnlySpan<byte> data)
    {
        var d = new KeccakDigest(256);
        d.BlockUpdate(data);
        var output = new byte[32];
        d.DoFinal(output);
        return output;
    }

    /// <summary>HASH160: RIPEMD-160(SHA-256(data)) (BouncyCastle's RipeMD160Digest).</summary>
    public static byte[] Hash160(ReadOnlySpan<byte> data)
    {
        var d = new RipeMD160Digest();
        d.BlockUpdate(SHA256.HashData(data));
        var output = new byte[20];
        d.DoFinal(output);
        return output;
    }

    /// <summary>The SEC1 uncompressed encoding (0x04 ‖ x ‖ y) of a secp256k1 key given compressed or uncompressed.</summary>
    public static byte[] Uncompressed(ReadOnlySpan<byte> publicKey) => Point(publicKey).GetEncoded(false);

    /// <summary>The SEC1 compressed encoding (33 bytes) of a secp256k1 key given compressed or uncompressed.</summary>
    public static byte[] Compressed(ReadOnlySpan<byte> publicKey) => Point(publicKey).GetEncoded(true);

    private static Org.BouncyCastle.Math.EC.ECPoint Point(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length is not (33 or 65))
            throw new ArgumentException($"a secp256k1 public key is 33 bytes (compressed) or 65 (uncompressed), got {publicKey.Length}");
        Org.BouncyCastle.Math.EC.ECPoint p;
        try
        {
            p = Secp256k1Group.Instance.Curve.DecodePoint(publicKey.ToArray()).Normalize();
        }
        catch (Exception e)
        {
            throw new ArgumentException($"not a secp256k1 public key: {e.Message}");
        }
        if (p.IsInfinity || !p.IsValid()) throw new ArgumentException("not a secp256k1 public key: not a point of the curve");
        return p;
    }
}
