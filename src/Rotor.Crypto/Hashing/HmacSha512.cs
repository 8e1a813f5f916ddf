using System.Runtime.InteropServices;
using Rotor.Crypto.Groups.Ed25519;

namespace Rotor.Crypto.Hashing;

/// <summary>
/// HMAC-SHA512 with a 32-byte key (the chain codes of BIP-32 and of the Edwards HD derivation) by libsodium's
/// <c>crypto_auth_hmacsha512</c>: one native call on a stack state. The framework's one-shot
/// <c>HMACSHA512.HashData</c> (OpenSSL) sets up a MAC context on every call, which costs about as much as the hashing;
/// HD derivation makes one HMAC per step. The result is the same HMAC (RFC 2104), checked against the framework's in
/// the tests.
/// </summary>
public static unsafe partial class HmacSha512
{
    public const int KeyBytes = 32;
    public const int MacBytes = 64;

    /// <summary>HMAC-SHA512(key, data) into the first 64 bytes of <paramref name="destination"/>; the key must be 32 bytes.</summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (key.Length != KeyBytes) throw new ArgumentException($"HMAC-SHA512 key of {key.Length} bytes, expected {KeyBytes}");
        if (destination.Length < MacBytes) throw new ArgumentException($"destination of {destination.Length} bytes, expected at least {MacBytes}");
        Sodium.EnsureInitialized();
        fixed (byte* k = key)
        fixed (byte* d = data)
        fixed (byte* o = destination)
        {
            if (crypto_auth_hmacsha512(o, d, (ulong)data.Length, k) != 0) throw new InvalidOperationException("libsodium HMAC-SHA512 failed");
        }
    }

    [LibraryImport("libsodium")] private static partial int crypto_auth_hmacsha512(byte* mac, byte* data, ulong length, byte* key);
}
