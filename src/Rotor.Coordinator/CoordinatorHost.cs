using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rotor.Coordinator.Governance;
using Rotor.Coordinator.Operations;
using Rotor.Rpc;
using Rotor.Rpc.Tls;

namespace Rotor.Coordinator;

/// <summary><c>rotor coordinator init</c> and <c>rotor coordinator run</c>.</summary>
public static class CoordinatorHost
{
    /// <summary>Makes the coordinator's folder: config, certificate (server and client) from the CA, admin token (0600).</summary>
    public static CoordinatorConfig Init(string directory, string caDirectory, string listen = "127.0.0.1:0")
    {
        RpcServer.ParseListen(listen);
        var configPath = Path.Combine(directory, CoordinatorConfig.FileName);
        if (File.Exists(configPath)) throw new InvalidOperationException($"a coordinator already exists in {directory}");
        Directory.CreateDirectory(directory);
        var config = new CoordinatorConfig { Listen = listen, BaseDir = Path.GetFullPath(directory) };
        using var ca = ClusterCa.Load(caDirectory);
        ca.Issue(config.Resolve(config.CertificateDir), config.Name, CertificateRole.Server | CertificateRole.Client).Dispose();
        File.Copy(Path.Combine(caDirectory, ClusterCa.CertificateFile), config.Resolve(config.CaCertificate), overwrite: true);
        SecretFiles.Write(config.Resolve(config.AdminTokenFile), AdminToken.Create());
        using (var auditKey = Audit.AuditKey.LoadOrCreate(config.Resolve(config.AuditKeyFile)))
            File.WriteAllText(config.Resolve(AuditPublicKeyFile), Convert.ToHexStringLower(auditKey.PublicKey) + "\n");
        config.Save(configPath);
        return config;
    }

    /// <summary>The audit public key (hex) <c>coordinator init</c> writes next to the config, for the operators to pin.</summary>
    public const string AuditPublicKeyFile = "audit.pub";

    /// <summary>The coordinator's TLS certificate file (PEM), which the nodes pin.</summary>
    public static string CertificateFile(CoordinatorConfig config) => Path.Combine(config.Resolve(config.CertificateDir), config.Name + ".crt");

    /// <summary>The audit public key of an initialised coordinator (from its audit key file).</summary>
    public static byte[] AuditPublicKey(CoordinatorConfig config)
    {
        using var key = Audit.AuditKey.LoadOrCreate(config.Resolve(config.AuditKeyFile));
        return key.PublicKey;
    }

    /// <summary>Starts the coordinator; returns the started application and its endpoint.</summary>
    public static async Task<(WebApplication App, string Endpoint)> StartAsync(CoordinatorConfig config, CancellationToken cancel = default)
    {
        // One coordinator per folder: a second process on the same databases is refused before it opens any of them.
        var folderLock = LockFolder(Path.GetDirectoryName(config.Resolve(config.Database))!);
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var certificate = ClusterCa.LoadLeaf(config.Resolve(config.CertificateDir), config.Name);
        var token = SecretFiles.Read(config.Resolve(config.AdminTokenFile)).Trim();
        var registry = new Registry(config.Resolve(config.Database));
        var clients = new NodeClients(trust, certificate);
        var engine = new Engine(registry, clients, config);
        engine.FailInterruptedEvents();
        engine.Driver.RelayFilter = TestRelayFilter();

        var builder = RpcServer.CreateBuilder(Path.GetFullPath(config.Resolve(".")));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(engine);
        builder.Services.AddGrpc(o =>
        {
            // The operator API: small requests only (the admin token is checked before a body is read, below).
            o.MaxReceiveMessageSize = RpcChannels.MaxOperatorRequestBytes;
            o.MaxSendMessageSize = RpcChannels.MaxMessageBytes;
            o.Interceptors.Add<AdminTokenInterceptor>(token);
        }).AddServiceOptions<CoordinatorService>(o => o.MaxReceiveMessageSize = RpcChannels.MaxOperatorCallBytes);
        builder.Services.AddHostedService(_ => new Monitor(engine, TimeSpan.FromMilliseconds(config.HeartbeatMillis)));
        var operations = builder.AddOperations(engine, clients, config);
        builder.AddRequests(engine, operations, clients, config);
        builder.WebHost.ConfigureKestrel(k => RpcServer.Listen(k, RpcServer.ParseListen(config.Listen), certificate, trust, allowedClients: null,
            maxRequestBytes: RpcChannels.MaxOperatorRequestBytes));
        var app = builder.Build();
        app.UseAdminToken(token);
        app.MapGrpcService<CoordinatorService>();
        app.MapOperations();
        app.MapRequests();
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            clients.Dispose();
            registry.Dispose();
            folderLock.Dispose();
        });
        await app.StartAsync(cancel);
        var endpoint = RpcServer.BoundEndpoint(app.Services.GetRequiredService<IServer>());
        var endpointFile = config.Resolve(config.EndpointFile);
        File.WriteAllText(endpointFile + ".tmp", endpoint);
        File.Move(endpointFile + ".tmp", endpointFile, overwrite: true);
        return (app, endpoint);
    }

    /// <summary>The name of the lock file a running coordinator holds in its folder.</summary>
    public const string LockFile = "coordinator.lock";

    /// <summary>
    /// Takes the folder's exclusive lock file (an OS file lock, released when the process ends, even by a crash) and
    /// writes this process's id in it; refuses, naming the holder, when another coordinator holds it.
    /// </summary>
    public static FileStream LockFolder(string directory)
    {
        var path = Path.Combine(directory, LockFile);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            // The holder's pid is in the file (readable with cat; .NET's own readers honour the lock).
            throw new InvalidOperationException($"another coordinator is already running on {directory} (it holds {path}, which names its pid); stop it first");
        }
        stream.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        stream.Write(pid);
        stream.Flush();
        return stream;
    }

    /// <summary>
    /// Test-only relay hooks: ROTOR_TEST_RELAY_LOG=FILE appends every relayed envelope (hex, one per line) to FILE;
    /// ROTOR_TEST_TAMPER_RELAY=1 flips one bit in the middle of the first relayed envelope (once).
    /// </summary>
    private static Func<byte[], byte[]>? TestRelayFilter()
    {
        var log = Environment.GetEnvironmentVariable("ROTOR_TEST_RELAY_LOG");
        var tamper = Environment.GetEnvironmentVariable("ROTOR_TEST_TAMPER_RELAY") == "1";
        if (log is null && !tamper) return null;
        var tampered = 0;
        return envelope =>
        {
            if (log is not null) lock (log) File.AppendAllText(log, Convert.ToHexStringLower(envelope) + "\n");
            if (tamper && Interlocked.Exchange(ref tampered, 1) == 0)
            {
                var copy = (byte[])envelope.Clone();
                copy[copy.Length / 2] ^= 0x01;
                return copy;
            }
            return envelope;
        };
    }

    /// <summary>Polls every node's health and settles pending epochs, once per heartbeat.</summary>
    private sealed class Monitor(Engine engine, TimeSpan period) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(period);
            while (await timer.WaitForNextTickAsync(stop))
            {
                // Nothing ends the heartbeat but a stop: every error is logged, and one node's error never keeps the
                // others from being settled.
                try
                {
                    await engine.Nodes.PollAllAsync();
                    // Each node settled on its own, concurrently, with its own deadline: one that hangs or fails delays
                    // and stops no other (Engine.SettleInBackground).
                    var online = new List<(NodeEntry, Rotor.Rpc.Node.NodeStatus)>();
                    foreach (var node in engine.Registry.ListNodes())
                        if (engine.Nodes.HealthOf(node.Name) is { Online: true, Status: { } status }) online.Add((node, status));
                    engine.SettleInBackground(online);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"heartbeat: {e.Message}");
                }
            }
        }
    }
}
