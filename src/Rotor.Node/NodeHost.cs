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
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var certificate = ClusterCa.LoadLeaf(config.Resolve(config.CertificateDir), config.Name);
        var idle = TimeSpan.FromSeconds(config.SessionIdleSeconds);
        var witnessFile = config.Resolve(Audit.AuditWitness.FileName);
        NodeState state;
        try
        {
            var (vault, identity) = NodeSetup.OpenVault(config, secrets);
            state = new NodeState(config.Name, identity, vault, trust, recipients, auditKey, idle, witnessFile: witnessFile, masterKey: config.MasterKeyKind);
        }
        catch (Exception e) when (e is MasterKeyUnavailableException or VaultException)
        {
            state = new NodeState(config.Name, trust, config.MasterKeyKind, e.Message, config.Resolve(config.Vault), recipients, auditKey, idle, witnessFile: witnessFile);
        }
        if (!state.Sealed)
        {
            try { state.LoadGovernance(LedgerPath(config)); }
            catch { state.Dispose(); throw; }
            // Backups kept on this node that a commit made obsolete while it was down go now.
            KeptBackups.Prune(state, config.Resolve("backups"), null);
            if (config.SourcePath is { } source)
            {
                try { MasterKeys.CleanUp(source); }
                catch (IOException) { }
            }
        }

        var builder = RpcServer.CreateBuilder(Path.GetFullPath(config.Resolve(".")));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(sp => new SignerNodeService(state, certificate.RawData));
        builder.Services.AddSingleton(sp => new NodeOperationsService(state, config.Resolve("backups"), sp.GetRequiredService<SignerNodeService>()));
        // Only the pinned coordinator: a certificate the CA issued to "coordinator" with another key is refused.
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<SealedGuard>();
            o.MaxReceiveMessageSize = RpcChannels.MaxMessageBytes;
            o.MaxSendMessageSize = RpcChannels.MaxMessageBytes;
        });
        builder.WebHost.ConfigureKestrel(k => RpcServer.Listen(k, RpcServer.ParseListen(config.Listen), certificate, trust,
            new HashSet<string> { config.CoordinatorName }, clientPin: cert => PeerTrust.PublicKeyPin(cert) == coordinatorKey));
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
