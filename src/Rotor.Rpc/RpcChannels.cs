using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Rotor.Rpc.Tls;

namespace Rotor.Rpc;

/// <summary>gRPC client channels over TLS that trust only the cluster CA.</summary>
public static class RpcChannels
{
    /// <summary>Largest message either side accepts (batch reshares of many wallets are large).</summary>
    public const int MaxMessageBytes = 256 << 20;

    /// <summary>
    /// Largest request the operator API accepts (backup files, the largest operator requests, are read from it):
    /// 64 MiB, a backup of about 100,000 shards. The Coordinator service's requests are far smaller:
    /// <see cref="MaxOperatorCallBytes"/>.
    /// </summary>
    public const int MaxOperatorRequestBytes = 64 << 20;

    /// <summary>Largest request of the Coordinator service (names, a message to sign): 1 MiB.</summary>
    public const int MaxOperatorCallBytes = 1 << 20;

    /// <summary>
    /// A channel to <paramref name="endpoint"/> that accepts only a server certificate issued by the cluster CA to
    /// <paramref name="serverName"/>, presenting <paramref name="clientCertificate"/> if given.
    /// </summary>
    /// <summary>HTTP/2 flow-control window of each call, both ways (the default 64 KB is below one ECDSA round-2 message).</summary>
    public const int Http2StreamWindow = 1 << 20;

    public static GrpcChannel Create(string endpoint, PeerTrust trust, string serverName, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            // Generous: on a loaded machine a TLS handshake with a process that is still starting can take seconds.
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            // A round's message (an ECDSA signing's round 2 is 66 KB per peer) fits in the first window: the sender
            // need not wait for a window update from a busy receiver mid-message.
            InitialHttp2StreamWindowSize = Http2StreamWindow,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    cert is X509Certificate2 c && trust.Check(c, CertificateRole.Server, serverName) is null,
            },
        };
        return GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
        });
    }

    /// <summary>
    /// A call invoker that adds the admin token to every call, and the operator's name for the audit log
    /// (ROTOR_OPERATOR, else the login name).
    /// </summary>
    public static CallInvoker WithAdminToken(this GrpcChannel channel, string token) =>
        channel.Intercept(metadata =>
        {
            metadata.Add(AdminToken.Header, AdminToken.Scheme + " " + token);
            metadata.Add(OperatorHeader, Environment.GetEnvironmentVariable("ROTOR_OPERATOR") is { Length: > 0 } op ? op : Environment.UserName);
            return metadata;
        });

    /// <summary>The header carrying the operator's declared name.</summary>
    public const string OperatorHeader = "x-rotor-operator";
}
