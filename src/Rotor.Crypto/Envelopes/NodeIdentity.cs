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
    private readonly Key agreement;

    private NodeIdentity(Key signing, Key agreement)
    {
        this.signing = signing;
        this.agreement = agreement;
        Public = new IdentityKeys(
            signing.PublicKey.Export(KeyBlobFormat.RawPublicKey),
            agreement.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>Makes fresh keys from the operating system's CSPRNG.</summary>
    public static NodeIdentity Create() =>
        new(Key.Create(SignatureAlgorithm.Ed25519, Exportable()), Key.Create(KeyAgreementAlgorithm.X25519, Exportable()));

    /// <summary>Imports the 64-byte private form written by <see cref="ExportPrivate"/>.</summary>
    public static NodeIdentity ImportPrivate(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != 64) throw new ArgumentException($"private identity is {secret.Length} bytes, expected 64");
        return new NodeIdentity(
            Key.Import(SignatureAlgorithm.Ed25519, secret[..32], KeyBlobFormat.RawPrivateKey, Exportable()),
            Key.Import(KeyAgreementAlgorithm.X25519, secret[32..], KeyBlobFormat.RawPrivateKey, Exportable()));
    }

    /// <summary>The public half.</summary>
    public IdentityKeys Public { get; }

    /// <summary>Ed25519 seed then X25519 private key (64 bytes). Secret: the caller stores it encrypted and wipes it.</summary>
    public byte[] ExportPrivate()
    {
        var s = signing.Export(KeyBlobFormat.RawPrivateKey);
        var a = agreement.Export(KeyBlobFormat.RawPrivateKey);
        try { return [.. s, .. a]; }
        finally
        {
            CryptographicOperations.ZeroMemory(s);
            CryptographicOperations.ZeroMemory(a);
        }
    }

    /// <summary>An Ed25519 signature over <paramref name="data"/>.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(signing, data);

    /// <summary>X25519 with <paramref name="peer"/>; null when the result is all-zero (low-order peer key).</summary>
    internal SharedSecret? Agree(PublicKey peer) => KeyAgreementAlgorithm.X25519.Agree(agreement, peer);

    private static KeyCreationParameters Exportable() => new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    public void Dispose()
    {
        signing.Dispose();
        agreement.Dispose();
    }

    public override string ToString() => $"NodeIdentity({Public})";
}
