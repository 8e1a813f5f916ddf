using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Rotor.Crypto.Envelopes;

namespace Rotor.Rpc.Tls;

/// <summary>
/// Decides whether a peer's certificate was issued by the cluster CA for the expected name and role.
/// Every TLS handshake in the cluster (both directions) goes through it, as does every certificate the
/// coordinator relays to a node for a session's parties.
/// </summary>
public sealed class PeerTrust
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1", ClientAuth = "1.3.6.1.5.5.7.3.2";

    public PeerTrust(X509Certificate2 root) => Root = root;

    /// <summary>The cluster CA's root certificate.</summary>
    public X509Certificate2 Root { get; }

    /// <summary>Null when <paramref name="certificate"/> chains to the root and allows <paramref name="role"/>; otherwise why not.</summary>
    public string? Check(X509Certificate2 certificate, CertificateRole role, string? expectedName = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(role == CertificateRole.Client ? ClientAuth : ServerAuth));
        if (!chain.Build(certificate))
            return $"certificate '{certificate.Subject}' is not trusted: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
        if (chain.ChainElements[^1].Certificate.Thumbprint != Root.Thumbprint)
            return $"certificate '{certificate.Subject}' does not chain to the cluster CA";
        var name = CommonName(certificate);
        if (expectedName is not null && name != expectedName)
            return $"certificate names '{name}', expected '{expectedName}'";
        return null;
    }

    /// <summary>
    /// Checks a node's DER certificate for <paramref name="expectedName"/> and returns the identity keys it carries.
    /// A certificate that passed is remembered (by its SHA-256 and the name) until it or the root expires: every
    /// session presents the same few certificates, and building an X.509 chain for each costs more than the
    /// signing itself. Only accepted public data is kept; a refused certificate is checked again every time.
    /// </summary>
    public IdentityKeys NodeIdentity(ReadOnlySpan<byte> der, string expectedName)
    {
        var key = (Convert.ToHexStringLower(SHA256.HashData(der)), expectedName);
        var now = DateTime.UtcNow;
        if (accepted.TryGetValue(key, out var known) && now >= known.NotBefore && now <= known.NotAfter) return known.Keys;
        using var cert = X509CertificateLoader.LoadCertificate(der);
        var error = Check(cert, CertificateRole.Server, expectedName);
        if (error is not null) throw new UnauthorizedAccessException($"node '{expectedName}': {error}");
        var keys = IdentityExtension.Read(cert) ?? throw new UnauthorizedAccessException($"node '{expectedName}': certificate carries no identity keys");
        if (accepted.Count >= MaxAccepted) accepted.Clear();
        accepted[key] = new Accepted(keys, Later(cert.NotBefore, Root.NotBefore), Earlier(cert.NotAfter, Root.NotAfter));
        return keys;
    }

    /// <summary>Accepted node certificates: far more than a cluster has nodes; the cache is simply emptied when full.</summary>
    private const int MaxAccepted = 1024;

    private readonly ConcurrentDictionary<(string Sha256, string Name), Accepted> accepted = new();

    private sealed record Accepted(IdentityKeys Keys, DateTime NotBefore, DateTime NotAfter);

    private static DateTime Later(DateTime a, DateTime b) => a.ToUniversalTime() > b.ToUniversalTime() ? a.ToUniversalTime() : b.ToUniversalTime();

    private static DateTime Earlier(DateTime a, DateTime b) => a.ToUniversalTime() < b.ToUniversalTime() ? a.ToUniversalTime() : b.ToUniversalTime();

    /// <summary>
    /// The pin of a certificate's public key: SHA-256 of its SubjectPublicKeyInfo, hex. A node keeps the coordinator's
    /// (<c>coordinatorKey</c> in node.json) and accepts no other client, even one the cluster CA certified.
    /// </summary>
    public static string PublicKeyPin(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>The subject's common name.</summary>
    public static string CommonName(X509Certificate2 certificate) => certificate.GetNameInfo(X509NameType.SimpleName, false);
}
