using System.Security.Cryptography.X509Certificates;
using Rotor.Crypto.Envelopes;
using Rotor.Rpc.Tls;

namespace Rotor.Node.Tests;

public sealed class ClusterCaTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void Node_certificate_carries_identity_keys_and_chains_to_the_ca()
    {
        using var ca = ClusterCa.Create(dir.File("ca"));
        using var id = NodeIdentity.Create();
        using var cert = ca.Issue(dir.File("cs1"), "cs1", CertificateRole.Server, id.Public);
        var trust = new PeerTrust(ClusterCa.LoadRoot(dir.File("ca/ca.crt")));
        Assert.Null(trust.Check(cert, CertificateRole.Server, "cs1"));
        Assert.Equal(id.Public, trust.NodeIdentity(cert.RawData, "cs1"));
        Assert.True(cert.HasPrivateKey);
    }

    [Fact]
    public void Certificate_from_another_ca_or_for_another_name_or_role_is_refused()
    {
        using var ca = ClusterCa.Create(dir.File("ca"));
        using var rogue = ClusterCa.Create(dir.File("rogue"));
        using var id = NodeIdentity.Create();
        using var forged = rogue.Issue(dir.File("x"), "cs1", CertificateRole.Server, id.Public);
        using var server = ca.Issue(dir.File("cs2"), "cs2", CertificateRole.Server, id.Public);
        var trust = new PeerTrust(ca.Certificate);
        Assert.Contains("not trusted", trust.Check(forged, CertificateRole.Server, "cs1"));
        Assert.Contains("expected 'cs1'", trust.Check(server, CertificateRole.Server, "cs1"));
        Assert.NotNull(trust.Check(server, CertificateRole.Client));
        Assert.Throws<UnauthorizedAccessException>(() => trust.NodeIdentity(forged.RawData, "cs1"));
    }

    [Fact]
    public void Ca_key_and_leaf_keys_are_owner_only()
    {
        using var ca = ClusterCa.Create(dir.File("ca"));
        using var leaf = ca.Issue(dir.File("coord"), "coordinator", CertificateRole.Server | CertificateRole.Client);
        foreach (var key in new[] { dir.File("ca/ca.key"), dir.File("coord/coordinator.key") })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using var reloaded = ClusterCa.Load(dir.File("ca"));
        Assert.Equal(ca.Certificate.Thumbprint, reloaded.Certificate.Thumbprint);
    }
}
