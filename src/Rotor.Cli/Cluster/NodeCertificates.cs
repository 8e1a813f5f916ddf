using System.Security.Cryptography.X509Certificates;
using Rotor.Crypto.Envelopes;
using Rotor.Rpc.Tls;

namespace Rotor.Cli.Cluster;

/// <summary>
/// Node certificates checked on the operator's side: a certificate the coordinator relays is believed only when it chains
/// to the cluster CA in the operator's cluster folder (DIR/ca/ca.crt) and names the expected node; the identity keys
/// it carries are then the node's.
/// </summary>
public static class NodeCertificates
{
    public static IdentityKeys Verify(LocalCluster cluster, ReadOnlySpan<byte> der, string node)
    {
        if (!File.Exists(cluster.CaCertificateFile))
            throw new CliException($"the cluster CA certificate {cluster.CaCertificateFile} is missing: node certificates cannot be checked");
        if (der.IsEmpty) throw new CliException($"the coordinator sent no certificate for node '{node}'");
        var trust = new PeerTrust(ClusterCa.LoadRoot(cluster.CaCertificateFile));
        try { return trust.NodeIdentity(der, node); }
        catch (Exception e) when (e is UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new CliException($"the certificate the coordinator gave for node '{node}' is not the node's: {e.Message}");
        }
    }
}
