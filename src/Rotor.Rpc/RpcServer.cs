using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Rotor.Rpc.Tls;

namespace Rotor.Rpc;

/// <summary>Kestrel settings shared by the node and the coordinator: HTTP/2 over TLS on a loopback or given address.</summary>
public static class RpcServer
{
    /// <summary>
    /// The web application builder of a node or of the coordinator: nothing is configured but what Rotor's code sets.
    /// <c>CreateSlimBuilder</c> also read <c>appsettings.json</c> from the working directory (where a <c>Kestrel</c>
    /// section can add endpoints), <c>ASPNETCORE_*</c> and <c>DOTNET_*</c> environment variables, and watched the
    /// working directory tree for changes to reload them; started in a busy directory (a node's own data directory,
    /// whose databases it writes on every signature, or /tmp) that watcher took a steady share of a processor. A
    /// signer's listeners, certificates and limits come from its own config file and flags only.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string contentRoot)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = contentRoot,
            EnvironmentName = "Production",
            ApplicationName = "rotor",
        });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseKestrelHttpsConfiguration();
        return builder;
    }

    /// <summary>
    /// Listens on <paramref name="endpoint"/> (port 0 picks a free one) with <paramref name="serverCertificate"/>.
    /// When <paramref name="allowedClients"/> is given, the TLS handshake itself refuses any client that does not
    /// present a certificate from the cluster CA naming one of them and, when <paramref name="clientPin"/> is given,
    /// accepted by it (a node pins the coordinator's public key). <paramref name="maxRequestBytes"/> caps a request body.
    /// </summary>
    public static void Listen(KestrelServerOptions kestrel, IPEndPoint endpoint, X509Certificate2 serverCertificate,
        PeerTrust trust, IReadOnlySet<string>? allowedClients, int maxRequestBytes = RpcChannels.MaxMessageBytes,
        Func<X509Certificate2, bool>? clientPin = null)
    {
        kestrel.Limits.MaxRequestBodySize = maxRequestBytes;
        kestrel.Limits.Http2.InitialStreamWindowSize = RpcChannels.Http2StreamWindow;
        kestrel.Limits.Http2.InitialConnectionWindowSize = 2 * RpcChannels.Http2StreamWindow;
        kestrel.Listen(endpoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCertificate,
                ClientCertificateMode = allowedClients is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
                ClientCertificateValidation = allowedClients is null ? null : (cert, _, _) =>
                    trust.Check(cert, CertificateRole.Client) is null && allowedClients.Contains(PeerTrust.CommonName(cert))
                    && (clientPin is null || clientPin(cert)),
            });
        });
    }

    /// <summary>
    /// Parses a listen address (IP:port, port 0..65535; 0 picks a free one); refuses anything else naming it, before
    /// anything is created or started.
    /// </summary>
    public static IPEndPoint ParseListen(string listen)
    {
        if (!IPEndPoint.TryParse(listen ?? "", out var endpoint) || !listen!.Contains(':'))
            throw new ArgumentException($"--listen '{listen}' is not an IP:port address (e.g. 127.0.0.1:0; port 0 picks a free one)");
        var port = listen[(listen.LastIndexOf(':') + 1)..];
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p > 65535)
            throw new ArgumentException($"--listen '{listen}': port {port} is outside 0..65535");
        return endpoint;
    }

    /// <summary>The https://host:port the server actually listens on, after start.</summary>
    public static string BoundEndpoint(IServer server)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("server has no bound address");
        return address.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1");
    }
}
