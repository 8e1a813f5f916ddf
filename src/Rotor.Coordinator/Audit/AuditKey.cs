using NSec.Cryptography;
using Rotor.Rpc.Tls;

namespace Rotor.Coordinator.Audit;

/// <summary>
/// The coordinator's Ed25519 audit-signing key (NSec): the 32-byte seed in a file only the coordinator's user can read
/// (mode 0600). Every audit entry and the log's head are signed with it. Secret; never printed.
/// </summary>
public sealed class AuditKey : IDisposable
{
    private readonly Key key;

    private AuditKey(Key key)
    {
        this.key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>Loads the key file, creating it with a fresh key when it does not exist.</summary>
    public static AuditKey LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            using var fresh = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
            SecretFiles.Write(path, fresh.Export(KeyBlobFormat.RawPrivateKey));
        }
        var seed = SecretFiles.ReadBytes(path);
        try
        {
            if (seed.Length != 32) throw new InvalidDataException($"audit key file {path} must hold a 32-byte Ed25519 seed, not {seed.Length} bytes");
            return new AuditKey(Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey));
        }
        finally { System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed); }
    }

    /// <summary>A key held only in memory (tests).</summary>
    public static AuditKey CreateEphemeral() => new(Key.Create(SignatureAlgorithm.Ed25519));

    /// <summary>The raw 32-byte Ed25519 public key that verifies the log.</summary>
    public byte[] PublicKey { get; }

    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(key, data);

    /// <summary>Verifies an Ed25519 signature under a raw public key; false for a malformed key.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var pk) && pk is not null
        && SignatureAlgorithm.Ed25519.Verify(pk, data, signature);

    public void Dispose() => key.Dispose();

    public override string ToString() => "AuditKey(" + Convert.ToHexStringLower(PublicKey.AsSpan(0, 8)) + ")";
}
