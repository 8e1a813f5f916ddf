using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace Rotor.Crypto.Kdf;

/// <summary>
/// A 32-byte key from a passphrase by Argon2id (Konscious.Security.Cryptography) at one fixed cost, 64 MiB, 3 passes,
/// 1 lane (OWASP's recommended class of settings): the node's passphrase master secret and a passphrase-protected
/// backup file use it, and the file records the cost so that a different one is refused by name.
/// </summary>
public static class PassphraseKdf
{
    /// <summary>Bytes of a derived key.</summary>
    public const int Length = 32;

    /// <summary>Argon2id cost: memory in KiB, passes, lanes.</summary>
    public const int MemoryKiB = 64 * 1024, Passes = 3, Lanes = 1;

    public static byte[] Derive(string passphrase, ReadOnlySpan<byte> salt)
    {
        if (string.IsNullOrEmpty(passphrase)) throw new ArgumentException("empty passphrase");
        if (salt.Length < 16) throw new ArgumentException("passphrase salt must be at least 16 bytes");
        var pw = Encoding.UTF8.GetBytes(passphrase);
        try
        {
            using var argon = new Argon2id(pw) { Salt = salt.ToArray(), MemorySize = MemoryKiB, Iterations = Passes, DegreeOfParallelism = Lanes };
            return argon.GetBytes(Length);
        }
        finally { CryptographicOperations.ZeroMemory(pw); }
    }
}
