using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Simulation;
using Rotor.Protocols;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor simulate</c>: the protocols in one process, no network.</summary>
public static class SimulateCommand
{
    public static Command Create()
    {
        var scheme = new Option<string>("--scheme") { Description = "ed25519, secp256k1, bip340 or ecdsa-secp256k1", Required = true };
        var threshold = new Option<int>("--threshold") { Description = "Signers needed (T)", Required = true };
        var members = new Option<int>("--members") { Description = "Members of the quorum (N)", Required = true };
        var sign = new Option<string[]>("--sign") { Description = "Message to sign (hex), after the DKG and after every step; repeatable (ecdsa-secp256k1: the chain's 32-byte digest, 64 hex characters)", AllowMultipleArgumentsPerToken = false };
        var refresh = new Option<bool>("--refresh") { Description = "Step: refresh every shard (same members, same threshold)" };
        var restructure = new Option<string[]>("--restructure") { Description = "Step: move the key to MEMBERS:THRESHOLD, e.g. 1,2,4,5:3; repeatable" };
        var repair = new Option<string[]>("--repair") { Description = "Step: MEMBER loses its shard and t others rebuild it; repeatable" };
        var path = new Option<string?>("--path") { Description = "Sign for the key derived along this non-hardened path (m/0/7) and show it is the same in every epoch" };
        var command = new Command("simulate", "Run DKG, signing and resharing among simulated members in one process, with no network")
        {
            scheme, threshold, members, sign, refresh, restructure, repair, path,
        };
        command.SetAction(parse => Output.Run(parse.GetValue(RootCommandBuilder.Json), output =>
        {
            if (!Schemes.TryParse(parse.GetValue(scheme), out var s))
                throw new CliException($"--scheme: unknown scheme '{parse.GetValue(scheme)}' (expected ed25519, secp256k1, bip340 or ecdsa-secp256k1)");
            var messages = (parse.GetValue(sign) ?? []).Select(h => RootCommandBuilder.Hex(h, "--sign")).ToArray();
            var steps = StepsInOrder(parse);
            var derivation = parse.GetValue(path) is { } pt ? WalletCommands.ParsePath(pt) : null;
            SimulationResult result;
            try
            {
                result = Simulator.Run(s, parse.GetValue(threshold), parse.GetValue(members), messages, steps,
                    progress: output.Json ? null : m => output.Line($"[grey]{m}[/]"), path: derivation);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }
            output.Result(ToJson(result), () => Render(result));
            return Task.CompletedTask;
        }));
        return command;
    }

    /// <summary>The steps in the order they stand on the command line (options of different names are not ordered by the parser).</summary>
    private static List<SimulationStep> StepsInOrder(ParseResult parse)
    {
        var steps = new List<SimulationStep>();
        var tokens = parse.Tokens;
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Type != System.CommandLine.Parsing.TokenType.Option) continue;
            string? Next() => i + 1 < tokens.Count && tokens[i + 1].Type == System.CommandLine.Parsing.TokenType.Argument ? tokens[++i].Value : null;
            switch (t.Value)
            {
                case "--refresh":
                    steps.Add(new SimulationStep.Refresh());
                    break;
                case "--restructure":
                    var spec = Next() ?? throw new CliException("--restructure needs MEMBERS:THRESHOLD, e.g. 1,2,4,5:3");
                    try { steps.Add(SimulationStep.ParseRestructure(spec)); }
                    catch (ArgumentException e) { throw new CliException(e.Message); }
                    break;
                case "--repair":
                    var m = Next();
                    if (!ulong.TryParse(m, out var member) || member == 0) throw new CliException($"--repair needs a positive member number, got '{m}'");
                    steps.Add(new SimulationStep.Repair(member));
                    break;
            }
        }
        return steps;
    }

    private static JsonArray Signatures(IEnumerable<SimulatedSignature> sigs) => new(sigs.Select(g =>
    {
        var o = new JsonObject
        {
            ["message"] = g.Message,
            ["signers"] = new JsonArray(g.Signers.Select(x => (JsonNode)x).ToArray()),
            ["signature"] = g.Signature,
            ["verified"] = g.Verified,
        };
        if (g.RecoveryId is { } v) o["recoveryId"] = v; // ecdsa-secp256k1: signature is r ‖ s (64 bytes)
        return (JsonNode)o;
    }).ToArray());

    /// <summary>The addresses by chain (ecdsa-secp256k1: ethereum, bitcoin) as a JSON object, or null.</summary>
    internal static JsonObject? AddressesJson(IReadOnlyDictionary<string, string>? addresses) =>
        addresses is null ? null : new JsonObject(addresses.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value)));

    private static JsonObject ToJson(SimulationResult r) => new()
    {
        ["scheme"] = r.Scheme.Name(),
        ["threshold"] = r.Threshold,
        ["members"] = r.Members,
        ["groupPublicKey"] = r.GroupPublicKey,
        ["signatures"] = Signatures(r.Signatures),
        ["path"] = r.Path,
        ["publicKey"] = r.ChildPublicKey ?? r.GroupPublicKey,
        ["address"] = Addresses.For(r.Scheme, Convert.FromHexString(r.ChildPublicKey ?? r.GroupPublicKey)),
        ["addresses"] = AddressesJson(r.Addresses),
        ["epochs"] = new JsonArray(r.Epochs.Select(e => (JsonNode)new JsonObject
        {
            ["step"] = e.Step,
            ["epoch"] = e.Epoch,
            ["members"] = new JsonArray(e.Members.Select(x => (JsonNode)x).ToArray()),
            ["threshold"] = e.Threshold,
            ["groupPublicKey"] = e.GroupPublicKey,
            ["signatures"] = Signatures(e.Signatures),
            ["staleShardsRefused"] = e.StaleShardsRefused,
            ["repaired"] = e.Repaired,
            ["publicKey"] = e.ChildPublicKey ?? e.GroupPublicKey,
        }).ToArray()),
    };

    private static void Render(SimulationResult r)
    {
        AnsiConsole.MarkupLine($"[bold]{r.Scheme.Name()}[/] {r.Threshold}-of-{r.Members}, group public key [green]{r.GroupPublicKey}[/]");
        if (r.Path is not null) AnsiConsole.MarkupLine($"signing for path {r.Path}: key [green]{r.ChildPublicKey}[/], address {r.ChildAddress}");
        foreach (var (chain, address) in r.Addresses ?? new Dictionary<string, string>())
            AnsiConsole.MarkupLine($"{chain} address{(r.Path is null ? "" : $" at {r.Path}")}: [green]{address}[/]");
        var table = new Table().AddColumns("step", "epoch", "members", "t", "signatures", "old shards refused");
        table.AddRow("dkg", "0", string.Join(",", Enumerable.Range(1, r.Members)), r.Threshold.ToString(), Describe(r.Signatures), "-");
        foreach (var e in r.Epochs)
            table.AddRow(e.Step + (e.Repaired is { } m ? $" {m}" : ""), e.Epoch.ToString(), string.Join(",", e.Members), e.Threshold.ToString(),
                Describe(e.Signatures), e.StaleShardsRefused switch { true => "[green]yes[/]", false => "[red]NO[/]", null => "-" });
        AnsiConsole.Write(table);
        foreach (var g in r.Signatures.Concat(r.Epochs.SelectMany(e => e.Signatures)))
            AnsiConsole.MarkupLine($"  [grey]{g.Message}[/] by {string.Join(",", g.Signers)}: {g.Signature}{(g.RecoveryId is { } v ? $" (recovery id {v})" : "")}");
        AnsiConsole.MarkupLine((r.Path is null ? "The group public key is the same in every epoch" : $"The group public key and the key at {r.Path} are the same in every epoch")
            + (r.Addresses is null ? "." : ", and so are its addresses."));
    }

    private static string Describe(IReadOnlyList<SimulatedSignature> sigs) =>
        sigs.Count == 0 ? "-" : $"{sigs.Count(s => s.Verified)}/{sigs.Count} verify";
}
