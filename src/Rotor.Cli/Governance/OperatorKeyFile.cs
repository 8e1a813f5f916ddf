using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rotor.Node.Vault;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Tls;

namespace Rotor.Cli.Governance;

/// <summary>
/// An operator's key file: JSON in a new 0600 file holding the Ed25519 private seed, in clear or sealed with a
/// passphrase (Argon2id, then AES-256-GCM with the public key as associated data). The private key never leaves the
/// operator's machine: approvals are signed here and only the signature travels.
/// </summary>
public static class OperatorKeyFile
{
    private const string Kind = "rotor-operator-key";

    /// <summary>Makes a key in a new file (refuses to overwrite); returns its public key, hex.</summary>
    public static string Create(string path, string? passphrase = null)
    {
        if (File.Exists(path)) throw new CliException($"{path} already exists; an operator key file is never overwritten");
        var (seed, pub) = OperatorKeys.Create();
        try
        {
            var o = new JsonObject { ["kind"] = Kind, ["publicKey"] = pub };
            if (passphrase is null) o["seed"] = Convert.ToHexStringLower(seed);
            else
            {
                var salt = RandomNumberGenerator.GetBytes(16);
                var nonce = RandomNumberGenerator.GetBytes(12);
                var key = MasterSecret.FromPassphrase(passphrase, salt);
                var sealedSeed = new byte[seed.Length];
                var tag = new byte[16];
                try { using var gcm = new AesGcm(key, 16); gcm.Encrypt(nonce, seed, sealedSeed, tag, Encoding.ASCII.GetBytes(pub)); }
                finally { CryptographicOperations.ZeroMemory(key); }
                o["kdf"] = "argon2id";
                o["salt"] = Convert.ToHexStringLower(salt);
                o["nonce"] = Convert.ToHexStringLower(nonce);
                o["sealed"] = Convert.ToHexStringLower([.. sealedSeed, .. tag]);
            }
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            SecretFiles.Write(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return pub;
        }
        finally { CryptographicOperations.ZeroMemory(seed); }
    }

    /// <summary>The public key of a key file, without opening its secret.</summary>
    public static string PublicKey(string path) => Parse(path)["publicKey"]?.GetValue<string>() ?? throw Bad(path, "it has no publicKey");

    /// <summary>Reads the private seed (the caller wipes it); a sealed file needs its passphrase.</summary>
    public static byte[] ReadSeed(string path, Func<string?> passphrase)
    {
        var o = Parse(path);
        var pub = o["publicKey"]?.GetValue<string>() ?? throw Bad(path, "it has no publicKey");
        byte[] seed;
        if (o["seed"]?.GetValue<string>() is { } clear) seed = Hex(path, clear, 32);
        else
        {
            var pass = passphrase() ?? throw new CliException($"operator key {path} is sealed with a passphrase; set it in the environment variable ROTOR_OPERATOR_PASSPHRASE");
            var salt = Hex(path, o["salt"]?.GetValue<string>(), 16);
            var nonce = Hex(path, o["nonce"]?.GetValue<string>(), 12);
            var sealedSeed = Hex(path, o["sealed"]?.GetValue<string>(), 48);
            var key = MasterSecret.FromPassphrase(pass, salt);
            seed = new byte[32];
            try { using var gcm = new AesGcm(key, 16); gcm.Decrypt(nonce, sealedSeed.AsSpan(0, 32), sealedSeed.AsSpan(32), seed, Encoding.ASCII.GetBytes(pub)); }
            catch (AuthenticationTagMismatchException) { throw new CliException($"wrong passphrase for operator key {path}"); }
            finally { CryptographicOperations.ZeroMemory(key); }
        }
        if (OperatorKeys.PublicKeyOf(seed) != pub)
        {
            CryptographicOperations.ZeroMemory(seed);
            throw Bad(path, "its private key does not match its public key");
        }
        return seed;
    }

    /// <summary>Signs a description with the key in <paramref name="path"/>.</summary>
    public static ApprovalSignature Approve(string path, ReadOnlySpan<byte> description)
    {
        var seed = ReadSeed(path, () => Environment.GetEnvironmentVariable("ROTOR_OPERATOR_PASSPHRASE"));
        try { return OperatorKeys.Approve(seed, description); }
        finally { CryptographicOperations.ZeroMemory(seed); }
    }

    private static JsonObject Parse(string path)
    {
        if (!File.Exists(path)) throw new CliException($"operator key file not found: {path}");
        string text;
        try { text = SecretFiles.Read(path); }
        catch (UnauthorizedAccessException e) { throw new CliException(e.Message); }
        JsonObject? o;
        try { o = JsonNode.Parse(text) as JsonObject; }
        catch (JsonException) { throw Bad(path, "it is not JSON"); }
        if (o is null || o["kind"]?.GetValue<string>() != Kind) throw Bad(path, $"it is not a {Kind} file");
        return o;
    }

    private static byte[] Hex(string path, string? hex, int length)
    {
        try
        {
            var b = Convert.FromHexString(hex ?? "");
            if (b.Length == length) return b;
        }
        catch (FormatException) { }
        throw Bad(path, "a field is not valid hex of the right length");
    }

    private static CliException Bad(string path, string why) => new($"{path} is not a usable operator key: {why}");
}
