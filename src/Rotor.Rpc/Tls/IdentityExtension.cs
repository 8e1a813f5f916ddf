using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using Rotor.Crypto.Envelopes;

namespace Rotor.Rpc.Tls;

/// <summary>
/// A private, non-critical X.509 extension that carries a node's identity keys (Ed25519 signing key then
/// X25519 agreement key, 64 bytes, as a DER OCTET STRING). Its OID lives under the UUID arc 2.25.
/// </summary>
public static class IdentityExtension
{
    public const string Oid = "2.25.135560680980377553217780389300651003602";

    public static X509Extension Create(IdentityKeys keys)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        w.WriteOctetString(keys.ToBytes());
        return new X509Extension(Oid, w.Encode(), critical: false);
    }

    /// <summary>The identity keys a certificate carries, or null if it carries none.</summary>
    public static IdentityKeys? Read(X509Certificate2 certificate)
    {
        var ext = certificate.Extensions[Oid];
        if (ext is null) return null;
        var r = new AsnReader(ext.RawData, AsnEncodingRules.DER);
        var bytes = r.ReadOctetString();
        r.ThrowIfNotEmpty();
        return IdentityKeys.FromBytes(bytes);
    }
}
