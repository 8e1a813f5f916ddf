using System.Security.Cryptography;
using NSec.Cryptography;

namespace Rotor.Crypto.Envelopes;

/// <summary>
/// A node's private identity: an Ed25519 signing key and an X25519 key-agreement key, made once at
/// <c>rotor node init</c> and kept encrypted in the node's vault. Secret; never printed.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    private readonly Key signing;
    private readonly X25519PrivateKey agreement;

    private NodeIdentity(Key signing, X25519PrivateKey agreement)
    {
        this.signing = signing;
        this.agreement = agreement;
        Public = new IdentityKeys(signing.PublicKey.Export(KeyBlobFormat.RawPublicKey), agreement.PublicKey);
    }

    /// <summary>Makes fresh keys from the operating system's CSPRNG.</summary>
    public static NodeIdentity Create() => new(Key.Create(SignatureAlgorithm.Ed25519, Exportable()), X25519PrivateKey.Create());

    /// <summary>Imports the 64-byte private form written by <see cref="ExportPrivate"/>.</summary>
    public static NodeIdentity ImportPrivate(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != 64) throw new ArgumentException($"private identity is {secret.Length} bytes, expected 64");
        var signing = Key.Import(SignatureAlgorithm.Ed25519, secret[..32], KeyBlobFormat.RawPrivateKey, Exportable());
        try { return new NodeIdentity(signing, X25519PrivateKey.Import(secret[32..])); }
        catch { signing.Dispose(); throw; }
    }

    /// <summary>The public half.</summary>
    public IdentityKeys Public { get; }

    /// <summary>Ed25519 seed then X25519 private key (64 bytes). Secret: the caller stores it encrypted and wipes it.</summary>
    public byte[] ExportPrivate()
    {
        var s = signing.Export(KeyBlobFormat.RawPrivateKey);
        var a = agreement.Export();
        try { return [.. s, .. a]; }
        finally
        {
            CryptographicOperations.ZeroMemory(s);
            CryptographicOperations.ZeroMemory(a);
        }
    }

    /// <summary>An Ed25519 signature over <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(signing, data);

    /// <summary>X25519 with <paramref name="peer"/> into <paramref name="shared"/>; false when the result is all-zero (low-order peer key).</summary>
    internal bool Agree(ReadOnlySpan<byte> peer, Span<byte> shared) => agreement.Agree(peer, shared);

    private static KeyCreationParameters Exportable() => new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    public void Dispose()
    {
        signing.Dispose();
        agreement.Dispose();
    }

    public override string ToString() => $"NodeIdentity({Public})";
}
