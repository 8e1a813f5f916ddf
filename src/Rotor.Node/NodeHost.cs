using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rotor.Node.Backups;
using Rotor.Rpc;
using Rotor.Rpc.Tls;

namespace Rotor.Node;

/// <summary><c>rotor node run</c>: serves the node's gRPC API over mutual TLS until stopped.</summary>
public static class NodeHost
{
    /// <summary>Starts the node; returns the started application (the caller awaits its shutdown) and the endpoint it listens on.</summary>
    public static async Task<(WebApplication App, string Endpoint)> StartAsync(NodeConfig config, CancellationToken cancel = default)
    {
        var (vault, identity) = NodeSetup.OpenVault(config);
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var certificate = ClusterCa.LoadLeaf(config.Resolve(config.CertificateDir), config.Name);
        var state = new NodeState(config.Name, identity, vault, trust);
        try { state.LoadGovernance(config.Resolve(config.Name + "-approvals.db")); }
        catch { state.Dispose(); throw; }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(sp => new SignerNodeService(state, certificate.RawData));
        builder.Services.AddSingleton(sp => new NodeOperationsService(state, config.Resolve("backups"), sp.GetRequiredService<SignerNodeService>()));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = RpcChannels.MaxMessageBytes;
            o.MaxSendMessageSize = RpcChannels.MaxMessageBytes;
        });
        builder.WebHost.ConfigureKestrel(k => RpcServer.Listen(k, IPEndPoint.Parse(config.Listen), certificate, trust,
            new HashSet<string> { config.CoordinatorName }));
        var app = builder.Build();
        app.MapGrpcService<SignerNodeService>();
        app.MapGrpcService<NodeOperationsService>();
        app.Lifetime.ApplicationStopped.Register(state.Dispose);
        await app.StartAsync(cancel);
        var endpoint = RpcServer.BoundEndpoint(app.Services.GetRequiredService<IServer>());
        var endpointFile = config.Resolve(config.EndpointFile);
        File.WriteAllText(endpointFile + ".tmp", endpoint);
        File.Move(endpointFile + ".tmp", endpointFile, overwrite: true);
        return (app, endpoint);
    }
}
