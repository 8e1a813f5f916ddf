using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Rotor.Crypto.Envelopes;

namespace Rotor.Rpc.Tls;

/// <summary>
/// The cluster's certificate authority: a self-signed ECDSA P-256 root made by <c>rotor cluster up</c> that
/// issues every node's and the coordinator's TLS certificate. A node certificate also carries the node's
/// identity keys (<see cref="IdentityExtension"/>), so whoever trusts the CA can check a node's identity
/// keys without trusting the coordinator that relays them. The CA key is needed only to issue certificates.
/// </summary>
public sealed class ClusterCa : IDisposable
{
    /// <summary>File names of the CA's certificate and private key inside its folder.</summary>
    public const string CertificateFile = "ca.crt", KeyFile = "ca.key";

    private readonly ECDsa key;

    private ClusterCa(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        this.key = key;
    }

    /// <summary>The root certificate (public).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Makes a new root valid for ten years and writes it to <paramref name="directory"/> (key file mode 0600).</summary>
    public static ClusterCa Create(string directory, string name = "Rotor cluster CA")
    {
        Directory.CreateDirectory(directory);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var self = req.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        var cert = X509CertificateLoader.LoadCertificate(self.RawData);
        File.WriteAllText(Path.Combine(directory, CertificateFile), cert.ExportCertificatePem());
        SecretFiles.Write(Path.Combine(directory, KeyFile), key.ExportPkcs8PrivateKeyPem());
        return new ClusterCa(cert, key);
    }

    /// <summary>Loads a CA written by <see cref="Create"/>.</summary>
    public static ClusterCa Load(string directory)
    {
        var cert = LoadRoot(Path.Combine(directory, CertificateFile));
        var key = ECDsa.Create();
        key.ImportFromPem(SecretFiles.Read(Path.Combine(directory, KeyFile)));
        return new ClusterCa(cert, key);
    }

    /// <summary>Loads just the root certificate (what every party needs to verify the others).</summary>
    public static X509Certificate2 LoadRoot(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CA certificate not found: {path}");
        return X509Certificate2.CreateFromPem(File.ReadAllText(path));
    }

    /// <summary>
    /// Issues a certificate for <paramref name="name"/> (the subject CN) valid for 127.0.0.1, ::1 and localhost,
    /// with a fresh P-256 key, and writes NAME.crt and NAME.key (0600) to <paramref name="directory"/>.
    /// </summary>
    public X509Certificate2 Issue(string directory, string name, CertificateRole role, IdentityKeys? identity = null)
    {
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest(new X500DistinguishedName($"CN={name}"), leafKey, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection();
        if (role.HasFlag(CertificateRole.Server)) usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (role.HasFlag(CertificateRole.Client)) usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        if (identity is not null) req.CertificateExtensions.Add(IdentityExtension.Create(identity));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var now = DateTimeOffset.UtcNow;
        using var issued = req.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddMinutes(-5), now.AddYears(5), serial);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name + ".crt"), issued.ExportCertificatePem());
        SecretFiles.Write(Path.Combine(directory, name + ".key"), leafKey.ExportPkcs8PrivateKeyPem());
        return LoadLeaf(directory, name);
    }

    /// <summary>Loads NAME.crt and NAME.key from <paramref name="directory"/> as a certificate with its private key.</summary>
    public static X509Certificate2 LoadLeaf(string directory, string name)
    {
        var certPath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        if (!File.Exists(certPath)) throw new FileNotFoundException($"certificate not found: {certPath}");
        SecretFiles.CheckPermissions(keyPath);
        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // Re-import as PKCS#12 so the key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        key.Dispose();
        Certificate.Dispose();
    }
}

/// <summary>What a certificate may be used for.</summary>
[Flags]
public enum CertificateRole
{
    Server = 1,
    Client = 2,
}
