using System.Security.Cryptography;
using System.Text;

namespace Rotor.Crypto.Hashing;

/// <summary>expand_message_xmd from RFC 9380 section 5.3.1, with SHA-256.</summary>
public static class ExpandMessage
{
    public static byte[] XmdSha256(ReadOnlySpan<byte> msg, ReadOnlySpan<byte> dst, int lenInBytes)
    {
        const int bInBytes = 32, rInBytes = 64;
        if (dst.Length > 255) throw new ArgumentException("DST longer than 255 bytes");
        int ell = (lenInBytes + bInBytes - 1) / bInBytes;
        if (ell > 255 || lenInBytes > 65535) throw new ArgumentException("requested output too long");
        var dstPrime = new byte[dst.Length + 1];
        dst.CopyTo(dstPrime);
        dstPrime[^1] = (byte)dst.Length;

        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(new byte[rInBytes]);                   // Z_pad
        h.AppendData(msg);
        h.AppendData([(byte)(lenInBytes >> 8), (byte)lenInBytes, 0]);
        h.AppendData(dstPrime);
        var b0 = h.GetHashAndReset();

        var output = new byte[ell * bInBytes];
        h.AppendData(b0);
        h.AppendData([1]);
        h.AppendData(dstPrime);
        var bi = h.GetHashAndReset();
        bi.CopyTo(output, 0);
        for (int i = 2; i <= ell; i++)
        {
            var x = new byte[bInBytes];
            for (int j = 0; j < bInBytes; j++) x[j] = (byte)(b0[j] ^ bi[j]);
            h.AppendData(x);
            h.AppendData([(byte)i]);
            h.AppendData(dstPrime);
            bi = h.GetHashAndReset();
            bi.CopyTo(output, (i - 1) * bInBytes);
        }
        return output[..lenInBytes];
    }

    public static byte[] XmdSha256(ReadOnlySpan<byte> msg, string dst, int lenInBytes) =>
        XmdSha256(msg, Encoding.ASCII.GetBytes(dst), lenInBytes);
}
