using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotor.Coordinator;

/// <summary>The coordinator's configuration file (JSON). Relative paths are relative to the file's folder.</summary>
public sealed class CoordinatorConfig
{
    public const string FileName = "coordinator.json";

    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The coordinator's certificate name (CN), also its client name towards the nodes.</summary>
    public string Name { get; set; } = "coordinator";

    public string Listen { get; set; } = "127.0.0.1:0";

    public string Database { get; set; } = "coordinator.db";

    public string CaCertificate { get; set; } = "ca.crt";

    public string CertificateDir { get; set; } = "tls";

    /// <summary>File holding the operator's admin token (mode 0600).</summary>
    public string AdminTokenFile { get; set; } = "admin.token";

    public string EndpointFile { get; set; } = "endpoint";

    /// <summary>
    /// The audit log's Ed25519 signing key (32-byte seed, mode 0600), made at <c>coordinator init</c>. Its public key is
    /// pinned by the operators (cluster folder) and the nodes; keep the file apart from the database in production.
    /// </summary>
    public string AuditKeyFile { get; set; } = "audit.key";

    /// <summary>How often every node is polled for health and settled (milliseconds).</summary>
    public int HeartbeatMillis { get; set; } = 1000;

    /// <summary>Deadline of one call to a node during a protocol session (milliseconds).</summary>
    public int NodeCallTimeoutMillis { get; set; } = 30_000;

    [JsonIgnore]
    public string BaseDir { get; set; } = ".";

    public string Resolve(string path) => Path.GetFullPath(Path.Combine(BaseDir, path));

    public static CoordinatorConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"coordinator config not found: {path}");
        CoordinatorConfig? config;
        try { config = JsonSerializer.Deserialize<CoordinatorConfig>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"coordinator config {path} is not readable: {Rotor.Crypto.JsonErrors.Describe(e)}"); }
        if (config is null) throw new InvalidDataException($"coordinator config {path} is empty");
        config.BaseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return config;
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
