using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Groups;

namespace Rotor.Protocols.Keys.Hd;

/// <summary>
/// BIP-32 extended public keys of secp256k1 roots in the standard serialisation: Base58Check of version 0x0488B21E
/// (mainnet xpub) || depth || parent fingerprint || child number || chain code || ser_P(K). A root is depth 0,
/// fingerprint 0 and child number 0. For bip340 keys K is the internal key (even y), so wallet software that
/// derives BIP-32 children and applies the BIP-341 tweak arrives at Rotor's addresses.
/// </summary>
public static class ExtendedPublicKey
{
    public const uint MainnetVersion = 0x0488B21E;

    /// <summary>The xpub of a root key; throws for ed25519 (no standard serialisation) and for a key without a chain code.</summary>
    public static string Root(PublicKeyPackage root)
    {
        if (root.Scheme == Scheme.Ed25519) throw new ArgumentException("ed25519 keys have no BIP-32 extended public key serialisation: use the chain code and public key");
        if (!root.HasChainCode) throw new HdUnavailableException(root.KeyId);
        var key = root.Scheme == Scheme.Bip340 ? root.InternalKey! : root.GroupPublicKey;
        return Serialize(0, 0, 0, root.ChainCode, key);
    }

    public static string Serialize(byte depth, uint parentFingerprint, uint childNumber, ReadOnlySpan<byte> chainCode, Element key)
    {
        var data = new byte[78];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data, MainnetVersion);
        data[4] = depth;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(5), parentFingerprint);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(9), childNumber);
        chainCode.CopyTo(data.AsSpan(13));
        key.Encoding.CopyTo(data.AsSpan(45));
        return Base58Check.Encode(data);
    }
}

/// <summary>Base58Check (Bitcoin): base58 of data || first 4 bytes of SHA-256(SHA-256(data)).</summary>
public static class Base58Check
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static string Encode(ReadOnlySpan<byte> payload)
    {
        var all = new byte[payload.Length + 4];
        payload.CopyTo(all);
        SHA256.HashData(SHA256.HashData(payload))[..4].CopyTo(all, payload.Length);
        var value = new BigInteger(all, isUnsigned: true, isBigEndian: true);
        var sb = new StringBuilder();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var rem);
            sb.Insert(0, Alphabet[(int)rem]);
        }
        foreach (var b in all)
        {
            if (b != 0) break;
            sb.Insert(0, '1');
        }
        return sb.ToString();
    }

    /// <summary>Decodes and checks the checksum; null when the text is not valid Base58Check.</summary>
    public static byte[]? Decode(string text)
    {
        BigInteger value = 0;
        foreach (var c in text)
        {
            int d = Alphabet.IndexOf(c);
            if (d < 0) return null;
            value = value * 58 + d;
        }
        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        int zeros = text.TakeWhile(c => c == '1').Count();
        var all = new byte[zeros + body.Length];
        body.CopyTo(all, zeros);
        if (all.Length < 4) return null;
        var payload = all[..^4];
        return SHA256.HashData(SHA256.HashData(payload)).AsSpan(0, 4).SequenceEqual(all.AsSpan(all.Length - 4)) ? payload : null;
    }
}
