using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rotor.Node.Backups;
using Rotor.Node.Vault;
using Rotor.Rpc;
using Rotor.Rpc.Tls;

namespace Rotor.Node;

/// <summary><c>rotor node run</c>: serves the node's gRPC API over mutual TLS until stopped.</summary>
public static class NodeHost
{
    /// <summary>The node's ledger of used approvals.</summary>
    public static string LedgerPath(NodeConfig config) => config.Resolve(config.Name + "-approvals.db");

    /// <summary>Starts the node; returns the started application (the caller awaits its shutdown) and the endpoint it listens on.</summary>
    public static Task<(WebApplication App, string Endpoint)> StartAsync(NodeConfig config, CancellationToken cancel = default) =>
        StartAsync(config, MasterKeySecrets.None, cancel);

    /// <summary>
    /// Starts the node with the secrets given at start (passphrase, PIN; the config's sources are tried after them).
    /// When its master key provider cannot give the vault root the node starts sealed (<see cref="NodeState.Sealed"/>):
    /// it serves its status and waits for <c>rotor node unseal</c> on its local socket.
    /// </summary>
    public static async Task<(WebApplication App, string Endpoint)> StartAsync(NodeConfig config, MasterKeySecrets secrets, CancellationToken cancel = default)
    {
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var certificate = ClusterCa.LoadLeaf(config.Resolve(config.CertificateDir), config.Name);
        NodeState state;
        try
        {
            var (vault, identity) = NodeSetup.OpenVault(config, secrets);
            state = new NodeState(config.Name, identity, vault, trust, config.MasterKeyKind);
        }
        catch (Exception e) when (e is MasterKeyUnavailableException or VaultException)
        {
            state = new NodeState(config.Name, trust, config.MasterKeyKind, e.Message, config.Resolve(config.Vault));
        }
        if (!state.Sealed)
        {
            try { state.LoadGovernance(LedgerPath(config)); }
            catch { state.Dispose(); throw; }
            if (config.SourcePath is { } source)
            {
                try { MasterKeys.CleanUp(source); }
                catch (IOException) { }
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(sp => new SignerNodeService(state, certificate.RawData));
        builder.Services.AddSingleton(sp => new NodeOperationsService(state, config.Resolve("backups"), sp.GetRequiredService<SignerNodeService>()));
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<SealedGuard>();
            o.MaxReceiveMessageSize = RpcChannels.MaxMessageBytes;
            o.MaxSendMessageSize = RpcChannels.MaxMessageBytes;
        });
        builder.WebHost.ConfigureKestrel(k => RpcServer.Listen(k, IPEndPoint.Parse(config.Listen), certificate, trust,
            new HashSet<string> { config.CoordinatorName }));
        var app = builder.Build();
        app.MapGrpcService<SignerNodeService>();
        app.MapGrpcService<NodeOperationsService>();
        MasterKeyUnseal? unseal = null;
        string? noSocket;
        try { unseal = MasterKeyUnseal.Start(config, state, out noSocket); }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            noSocket = $"unseal socket {config.Resolve(config.UnsealSocket)}: {e.Message}";
        }
        if (noSocket is not null) app.Logger.LogWarning("{Reason}: a sealed node is unsealed by restarting it with its secret", noSocket);
        if (state.Sealed) app.Logger.LogWarning("node {Name} is SEALED: {Reason}", config.Name, state.SealReason);
        app.Lifetime.ApplicationStopping.Register(() => unseal?.Dispose());
        app.Lifetime.ApplicationStopped.Register(state.Dispose);
        await app.StartAsync(cancel);
        var endpoint = RpcServer.BoundEndpoint(app.Services.GetRequiredService<IServer>());
        var endpointFile = config.Resolve(config.EndpointFile);
        File.WriteAllText(endpointFile + ".tmp", endpoint);
        File.Move(endpointFile + ".tmp", endpointFile, overwrite: true);
        return (app, endpoint);
    }
}
