using System.Text.Json.Nodes;

namespace Rotor.Cli.Tests;

/// <summary>What <c>rotor coordinator init</c> and <c>rotor node init</c> pin, and the clumsy operator's mistakes they refuse.</summary>
public sealed class InitPinTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "rotor-cli-pins-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }

    private string Sub(string name) => Path.Combine(dir, name);

    /// <summary>The governance policy every node pins (one throwaway approver).</summary>
    private static readonly string[] Approvers = ["--approvers", new string('a', 63) + "1", "--approvals", "1"];

    /// <summary>A CA and an initialised coordinator; returns the coordinator's init output.</summary>
    private JsonObject Coordinator()
    {
        Rotor.Rpc.Tls.ClusterCa.Create(Sub("ca")).Dispose();
        var (code, json) = RotorProcess.RunJson("coordinator", "init", "--dir", Sub("coordinator"), "--ca", Sub("ca"));
        Assert.Equal(0, code);
        return json;
    }

    [Fact]
    public void Coordinator_init_prints_the_audit_key_and_node_init_pins_the_coordinator_the_recipients_and_that_key()
    {
        var coordinator = Coordinator();
        var auditKey = (string)coordinator["auditKey"]!;
        Assert.Equal(64, auditKey.Length);
        Assert.Equal(auditKey, File.ReadAllText(Sub("coordinator/audit.pub")).Trim());
        var (kc, key) = RotorProcess.RunJson("backup", "keygen", "--out", Sub("recipient.key"));
        Assert.Equal(0, kc);
        var recipient = (string)key["publicKey"]!;
        var (code, node) = RotorProcess.RunJson(["node", "init", "--dir", Sub("cs1"), "--name", "cs1", "--ca", Sub("ca"),
            "--coordinator-cert", (string)coordinator["certificate"]!, "--backup-recipients", Convert.ToBase64String(Convert.FromHexString(recipient)),
            "--audit-key", auditKey, .. Approvers]);
        Assert.Equal(0, code);
        Assert.Equal([recipient], node["backupRecipients"]!.AsArray().Select(r => (string)r!));
        Assert.Equal(auditKey, (string)node["auditKey"]!);
        var saved = JsonNode.Parse(File.ReadAllText(Sub("cs1/node.json")))!;
        Assert.Equal((string)node["coordinatorKey"]!, (string)saved["coordinatorKey"]!);
        Assert.Equal(64, ((string)saved["coordinatorKey"]!).Length);
    }

    [Theory]
    [InlineData("coordinator", null, "reserved")]
    [InlineData("cs1", "not-a-key", "--backup-recipients")]
    [InlineData("cs1", "0000000000000000000000000000000000000000000000000000000000000000", "all-zero")]
    public void Node_init_refuses_a_reserved_name_or_a_bad_recipient_and_creates_nothing(string name, string? recipients, string why)
    {
        var coordinator = Coordinator();
        string[] args = ["node", "init", "--dir", Sub("n"), "--name", name, "--ca", Sub("ca"), "--coordinator-cert", (string)coordinator["certificate"]!,
            .. recipients is null ? Array.Empty<string>() : ["--backup-recipients", recipients], .. Approvers];
        var (code, json) = RotorProcess.RunJson(args);
        Assert.NotEqual(0, code);
        Assert.Contains(why, (string)json["error"]!);
        Assert.False(Directory.Exists(Sub("n")));
    }

    [Fact]
    public void Node_init_without_the_coordinator_certificate_is_refused()
    {
        Coordinator();
        var (code, _, stderr) = RotorProcess.Run(["node", "init", "--dir", Sub("n"), "--name", "cs1", "--ca", Sub("ca"), .. Approvers]);
        Assert.NotEqual(0, code);
        Assert.Contains("--coordinator-cert", stderr);
        Assert.False(Directory.Exists(Sub("n")));
    }
}
