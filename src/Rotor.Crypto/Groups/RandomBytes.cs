using System.Security.Cryptography;

namespace Rotor.Crypto.Groups;

/// <summary>
/// Bytes from the operating system's CSPRNG, fetched a few kilobytes at a time per thread: a call to the OS
/// costs more than the scalar it seeds. Bytes handed out are wiped from the buffer at once, so none is used twice
/// or lingers after use.
/// </summary>
internal static class RandomBytes
{
    private const int BufferSize = 4096;

    [ThreadStatic] private static byte[]? buffer;
    [ThreadStatic] private static int position;

    public static void Fill(Span<byte> destination)
    {
        if (destination.Length > BufferSize)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }
        var b = buffer;
        if (b is null || position + destination.Length > BufferSize)
        {
            b = buffer ??= new byte[BufferSize];
            RandomNumberGenerator.Fill(b);
            position = 0;
        }
        var chunk = b.AsSpan(position, destination.Length);
        chunk.CopyTo(destination);
        CryptographicOperations.ZeroMemory(chunk);
        position += destination.Length;
    }
}
