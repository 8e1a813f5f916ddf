using System.CommandLine;

namespace Rotor.Cli.Commands;

/// <summary>The <c>rotor</c> command tree.</summary>
public static class RootCommandBuilder
{
    /// <summary>--json on every command: print exactly one JSON object on stdout.</summary>
    public static readonly Option<bool> Json = new("--json") { Description = "Print exactly one JSON object on stdout", Recursive = true };

    /// <summary>--dir on every cluster command (else ROTOR_DIR).</summary>
    public static Option<string?> Dir(bool required = false) => new("--dir")
    {
        Description = "Cluster folder (default: $ROTOR_DIR)",
        Required = required,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("Rotor: threshold-signature custody with resharing");
        root.Add(Json);
        root.Add(DemoCommand.Create());
        root.Add(ClusterCommands.Create());
        root.Add(NodeCommands.Create());
        root.Add(CoordinatorCommands.Create());
        root.Add(QuorumCommands.Create());
        root.Add(WalletCommands.Create());
        root.Add(SignCommands.Create());
        root.Add(ReshareCommands.Create());
        root.Add(OperationCommands.Policy());
        root.Add(OperationCommands.Log());
        root.Add(BackupCommands.Create());
        root.Add(RepairCommands.Repair());
        root.Add(GovernanceCommands.Operator());
        root.Add(GovernanceCommands.Requests());
        root.Add(GovernanceCommands.Approve());
        root.Add(GovernanceCommands.GovernanceCommand());
        root.Add(ReportCommands.Create());
        root.Add(WebConsole.ConsoleCommand.Create());
        root.Add(SimulateCommand.Create());
        root.Add(BenchCommand.Create());
        return root;
    }

    /// <summary>Splits a comma-separated list option.</summary>
    public static List<string> List(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>Decodes a hex option, naming it when it is not hex.</summary>
    public static byte[] Hex(string? value, string option)
    {
        if (value is null) throw new CliException($"{option} is required");
        var v = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value;
        if (v.Length % 2 != 0 || !v.All(char.IsAsciiHexDigit)) throw new CliException($"{option} must be hex (even number of 0-9a-f digits), got '{value}'");
        return Convert.FromHexString(v);
    }
}
