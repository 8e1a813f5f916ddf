using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Kdf;
using Rotor.Rpc.Tls;

namespace Rotor.Node.Vault;

/// <summary>
/// The node's master secret, the root of its vault key: either 32 random bytes in a key file only the
/// node's user can read (mode 0600), or derived from a passphrase with Argon2id (64 MiB, 3 passes).
/// </summary>
public static class MasterSecret
{
    /// <summary>Bytes of a master secret.</summary>
    public const int Length = 32;

    /// <summary>Argon2id cost of a passphrase (<see cref="PassphraseKdf"/>): memory in KiB, passes, lanes.</summary>
    public const int MemoryKiB = PassphraseKdf.MemoryKiB, Passes = PassphraseKdf.Passes, Lanes = PassphraseKdf.Lanes;

    /// <summary>Writes a fresh master secret (hex) to a new 0600 file.</summary>
    public static void CreateKeyFile(string path)
    {
        var secret = RandomNumberGenerator.GetBytes(Length);
        var hex = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret));
        try { SecretFiles.Write(path, hex); }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(hex);
        }
    }

    /// <summary>Reads a key file after checking that only its owner can access it.</summary>
    public static byte[] FromKeyFile(string path)
    {
        var text = SecretFiles.ReadBytes(path);
        try
        {
            var trimmed = Encoding.ASCII.GetString(text).Trim();
            if (trimmed.Length != 2 * Length || !trimmed.All(char.IsAsciiHexDigit))
                throw new InvalidDataException($"key file {path} must hold {2 * Length} hex digits");
            return Convert.FromHexString(trimmed);
        }
        finally { CryptographicOperations.ZeroMemory(text); }
    }

    /// <summary>Argon2id of the passphrase under a 16-byte salt.</summary>
    public static byte[] FromPassphrase(string passphrase, ReadOnlySpan<byte> salt) => PassphraseKdf.Derive(passphrase, salt);
}
