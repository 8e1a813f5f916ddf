using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rotor.Cli.Cluster;
using Rotor.Coordinator;
using Rotor.Rpc;
using Rotor.Rpc.Tls;

namespace Rotor.Cli.WebConsole;

/// <summary>A signed-in operator: who, with which key, since when.</summary>
public sealed class ConsoleSession(string id, string operatorName, string key, DateTimeOffset created)
{
    public string Id { get; } = id;
    public string Operator { get; } = operatorName;
    public string Key { get; } = key;
    public DateTimeOffset Created { get; } = created;
    public DateTimeOffset LastSeen { get; set; } = created;
}

/// <summary>
/// The console's web server: Kestrel over HTTPS (a certificate this console makes for 127.0.0.1 and localhost, kept in
/// memory), a client of the coordinator's operator API exactly like the CLI (the cluster folder's CA pin and admin
/// token; it holds no shard and no approver key). Every call to the coordinator carries the signed-in operator's name,
/// so the audit log and the request desk record who asked.
/// </summary>
public sealed class ConsoleServer : IAsyncDisposable
{
    /// <summary>A session ends after this long without a request, and in any case after <see cref="SessionLifetime"/>.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(15), SessionLifetime = TimeSpan.FromHours(8);

    public const string SessionCookie = "__Host-rotor-session";

    private readonly WebApplication app;
    private readonly Grpc.Net.Client.GrpcChannel channel;
    private static readonly AsyncLocal<string?> CurrentOperator = new();

    public string Url { get; private set; } = "";
    public string CertificateSha256 { get; }
    public LocalCluster Cluster { get; }
    public ClusterClient Client { get; }
    public ConcurrentDictionary<string, ConsoleSession> Sessions { get; } = new(StringComparer.Ordinal);

    /// <summary>Sign-in challenges handed out and not yet used: text by id, with when they expire (single use).</summary>
    public ConcurrentDictionary<string, (string Text, DateTimeOffset Expires)> Challenges { get; } = new(StringComparer.Ordinal);

    private ConsoleServer(LocalCluster cluster, IPAddress host, int port, string? coordinatorUrl)
    {
        Cluster = cluster;
        var (ch, invoker) = Connect(cluster, coordinatorUrl);
        channel = ch;
        Client = new ClusterClient(ch, invoker);
        var certificate = MakeCertificate();
        CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        // Unexpected failures (never secrets: the console holds none) go to stderr.
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.AspNetCore.Antiforgery", LogLevel.Error);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(host, port, l => l.UseHttps(certificate));
        });
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "__Host-rotor-csrf";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.FormFieldName = "__csrf";
            o.HeaderName = null;
        });
        app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            var h = ctx.Response.Headers;
            // Scripts, styles and images from this console only; no inline script, no framing, forms post here only.
            h["Content-Security-Policy"] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
                                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            h["X-Content-Type-Options"] = "nosniff";
            h["Referrer-Policy"] = "no-referrer";
            h["X-Frame-Options"] = "DENY";
            h["Cache-Control"] = "no-store";
            h["Strict-Transport-Security"] = "max-age=31536000";
            await next();
        });
        ConsolePages.Map(app, this);
    }

    public static async Task<ConsoleServer> StartAsync(LocalCluster cluster, IPAddress host, int port, string? coordinatorUrl)
    {
        var server = new ConsoleServer(cluster, host, port, coordinatorUrl);
        await server.app.StartAsync();
        var address = server.app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var actualPort = new Uri(address).Port;
        server.Url = $"https://{(host.Equals(IPAddress.Loopback) ? "127.0.0.1" : host.ToString())}:{actualPort}/";
        var dir = Path.Combine(cluster.Dir, "console");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "endpoint"), server.Url + "\n");
        return server;
    }

    /// <summary>Runs <paramref name="call"/> with the operator's name sent to the coordinator (the audit log's actor).</summary>
    public static async Task<T> As<T>(string? operatorName, Func<Task<T>> call)
    {
        var before = CurrentOperator.Value;
        CurrentOperator.Value = operatorName;
        try { return await call(); }
        finally { CurrentOperator.Value = before; }
    }

    private static (Grpc.Net.Client.GrpcChannel, CallInvoker) Connect(LocalCluster cluster, string? coordinatorUrl)
    {
        var endpointFile = Path.Combine(cluster.CoordinatorDir, "endpoint");
        var configFile = Path.Combine(cluster.CoordinatorDir, CoordinatorConfig.FileName);
        if (!File.Exists(configFile)) throw new CliException($"no cluster in {cluster.Dir}: run rotor cluster up --dir {cluster.Dir}");
        var config = CoordinatorConfig.Load(configFile);
        var endpoint = coordinatorUrl ?? (File.Exists(endpointFile) ? File.ReadAllText(endpointFile).Trim() : throw new CliException($"the coordinator of {cluster.Dir} is not running: rotor cluster up --dir {cluster.Dir}"));
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != "https")
            throw new CliException($"--coordinator must be an https:// URL, got '{endpoint}'");
        var trust = new PeerTrust(ClusterCa.LoadRoot(config.Resolve(config.CaCertificate)));
        var token = SecretFiles.Read(config.Resolve(config.AdminTokenFile)).Trim();
        var ch = RpcChannels.Create(endpoint, trust, config.Name);
        var invoker = ch.Intercept(metadata =>
        {
            metadata.Add(Rotor.Rpc.AdminToken.Header, Rotor.Rpc.AdminToken.Scheme + " " + token);
            metadata.Add(RpcChannels.OperatorHeader, CurrentOperator.Value is { Length: > 0 } op ? op : "console");
            return metadata;
        });
        return (ch, invoker);
    }

    /// <summary>A self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost, valid for 30 days, in memory only.</summary>
    private static X509Certificate2 MakeCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=Rotor console", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>An embedded asset (console.js, console.css), or null.</summary>
    public static byte[]? Asset(string name)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("console-assets/" + name);
        if (s is null) return null;
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        channel.Dispose();
    }
}
