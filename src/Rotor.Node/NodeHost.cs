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
        Names.ValidateNode(config.Name);
        var coordinatorKey = config.CoordinatorKey?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(coordinatorKey) || coordinatorKey.Length != 64 || !coordinatorKey.All(char.IsAsciiHexDigit))
            throw new InvalidDataException($"node config {config.FilePath ?? NodeConfig.FileName} pins no coordinator key (coordinatorKey: SHA-256 of the coordinator certificate's public key, "
                + "set by rotor node init --coordinator-cert); the node accepts no coordinator without it");
        var recipients = new BackupRecipients(config);
        byte[]? auditKey = null;
        if (!string.IsNullOrWhiteSpace(config.AuditKey))
        {
            try { auditKey = Convert.FromHexString(config.AuditKey.Trim()); }
            catch (FormatException) { throw new InvalidDataException($"auditKey in node config is not hex: {config.AuditKey}"); }
        }
        if (config.SessionIdleSeconds < 1) throw new InvalidDataException($"sessionIdleSeconds in node config must be at least 1, not {config.SessionIdleSeconds}");
        var (vault, identity) = NodeSetup.OpenVault(config);
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var certificate = ClusterCa.LoadLeaf(config.Resolve(config.CertificateDir), config.Name);
        var state = new NodeState(config.Name, identity, vault, trust, recipients, auditKey, TimeSpan.FromSeconds(config.SessionIdleSeconds),
            witnessFile: config.Resolve(Audit.AuditWitness.FileName));
        try { state.LoadGovernance(config.Resolve(config.Name + "-approvals.db")); }
        catch { state.Dispose(); throw; }
        // Backups kept on this node that a commit made obsolete while it was down go now.
        KeptBackups.Prune(state, config.Resolve("backups"), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(sp => new SignerNodeService(state, certificate.RawData));
        builder.Services.AddSingleton(sp => new NodeOperationsService(state, config.Resolve("backups"), sp.GetRequiredService<SignerNodeService>()));
        // Only the pinned coordinator: a certificate the CA issued to "coordinator" with another key is refused.
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = RpcChannels.MaxMessageBytes;
            o.MaxSendMessageSize = RpcChannels.MaxMessageBytes;
        });
        builder.WebHost.ConfigureKestrel(k => RpcServer.Listen(k, IPEndPoint.Parse(config.Listen), certificate, trust,
            new HashSet<string> { config.CoordinatorName }, clientPin: cert => PeerTrust.PublicKeyPin(cert) == coordinatorKey));
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
