using System.Numerics;
using System.Text;

namespace Rotor.Crypto.Encodings;

/// <summary>Bitcoin's base58 alphabet, as Solana uses it for addresses.</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var value = new BigInteger(data, isUnsigned: true, isBigEndian: true);
        var sb = new StringBuilder();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var rem);
            sb.Insert(0, Alphabet[(int)rem]);
        }
        foreach (var b in data)
        {
            if (b != 0) break;
            sb.Insert(0, '1');
        }
        return sb.ToString();
    }
}

/// <summary>Bech32m (BIP-350) and segwit address encoding (BIP-173 layout with the BIP-350 checksum for version ≥ 1).</summary>
public static class Bech32m
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private const uint Bech32Const = 1, Bech32mConst = 0x2bc830a3;

    /// <summary>A segwit address: witness version 0 uses bech32, 1..16 bech32m.</summary>
    public static string EncodeSegwit(string hrp, int witnessVersion, ReadOnlySpan<byte> program)
    {
        if (witnessVersion is < 0 or > 16) throw new ArgumentOutOfRangeException(nameof(witnessVersion));
        if (program.Length is < 2 or > 40) throw new ArgumentException($"witness program of {program.Length} bytes");
        var data = new List<byte> { (byte)witnessVersion };
        data.AddRange(ConvertBits(program, 8, 5, pad: true)!);
        return Encode(hrp, data, witnessVersion == 0 ? Bech32Const : Bech32mConst);
    }

    /// <summary>Decodes a segwit address, checking the checksum variant its version requires; null if invalid.</summary>
    public static (string Hrp, int Version, byte[] Program)? DecodeSegwit(string address)
    {
        if (address.Length > 90 || address.Any(c => c < 33 || c > 126)) return null;
        if (address.ToLowerInvariant() != address && address.ToUpperInvariant() != address) return null;
        var s = address.ToLowerInvariant();
        var sep = s.LastIndexOf('1');
        if (sep < 1 || sep + 7 > s.Length) return null;
        var hrp = s[..sep];
        var data = new List<byte>();
        foreach (var c in s[(sep + 1)..])
        {
            var v = Charset.IndexOf(c);
            if (v < 0) return null;
            data.Add((byte)v);
        }
        var check = Polymod(HrpExpand(hrp).Concat(data));
        var values = data.Take(data.Count - 6).ToList();
        if (values.Count == 0) return null;
        int version = values[0];
        if (version > 16) return null;
        if (check != (version == 0 ? Bech32Const : Bech32mConst)) return null;
        var program = ConvertBits(values.Skip(1).ToArray(), 5, 8, pad: false);
        if (program is null || program.Length is < 2 or > 40) return null;
        if (version == 0 && program.Length is not (20 or 32)) return null;
        return (hrp, version, program);
    }

    private static string Encode(string hrp, List<byte> data, uint constant)
    {
        var values = HrpExpand(hrp).Concat(data).Concat(new byte[6]).ToList();
        var mod = Polymod(values) ^ constant;
        var sb = new StringBuilder(hrp).Append('1');
        foreach (var d in data) sb.Append(Charset[d]);
        for (int i = 0; i < 6; i++) sb.Append(Charset[(int)((mod >> (5 * (5 - i))) & 31)]);
        return sb.ToString();
    }

    private static uint Polymod(IEnumerable<byte> values)
    {
        uint[] gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
        uint chk = 1;
        foreach (var v in values)
        {
            var top = chk >> 25;
            chk = ((chk & 0x1ffffff) << 5) ^ v;
            for (int i = 0; i < 5; i++) if (((top >> i) & 1) != 0) chk ^= gen[i];
        }
        return chk;
    }

    private static IEnumerable<byte> HrpExpand(string hrp) =>
        hrp.Select(c => (byte)(c >> 5)).Append((byte)0).Concat(hrp.Select(c => (byte)(c & 31)));

    private static byte[]? ConvertBits(ReadOnlySpan<byte> data, int from, int to, bool pad)
    {
        int acc = 0, bits = 0, maxv = (1 << to) - 1;
        var result = new List<byte>();
        foreach (var value in data)
        {
            if (value >> from != 0) return null;
            acc = (acc << from) | value;
            bits += from;
            while (bits >= to)
            {
                bits -= to;
                result.Add((byte)((acc >> bits) & maxv));
            }
        }
        if (pad)
        {
            if (bits > 0) result.Add((byte)((acc << (to - bits)) & maxv));
        }
        else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) return null;
        return result.ToArray();
    }
}
