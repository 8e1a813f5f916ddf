using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Coordinator;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor wallet create|list</c>.</summary>
public static class WalletCommands
{
    public static Command Create()
    {
        var wallet = new Command("wallet", "Wallets: threshold keys made by DKG");

        var create = new Command("create", "Create a wallet by distributed key generation in a quorum");
        var dir = RootCommandBuilder.Dir();
        var quorum = new Option<string>("--quorum") { Description = "Quorum name", Required = true };
        var scheme = new Option<string>("--scheme") { Description = "ed25519, secp256k1 or bip340", Required = true };
        scheme.AcceptOnlyFromAmong("ed25519", "secp256k1", "bip340");
        var count = new Option<int>("--count") { Description = "Create this many wallets in one DKG session (the result is a list)", DefaultValueFactory = _ => 1 };
        var approveWith = RequestFlow.ApproveWith();
        create.Add(dir); create.Add(quorum); create.Add(scheme); create.Add(count); create.Add(approveWith);
        create.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var cluster = LocalCluster.From(p.GetValue(dir));
            using var client = cluster.Connect();
            var n = p.GetValue(count);
            if (n < 1) throw new CliException($"--count {n} must be at least 1");
            var spec = new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = p.GetValue(quorum)!, Scheme = p.GetValue(scheme)!, Count = (uint)n } };
            var r = await RequestFlow.SubmitAsync(client, spec, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, "running distributed key generation");
            if (RequestFlow.Outcome(r, o) is not { } outcome) return;
            var list = outcome.Wallets;
            var result = n == 1 ? Records.Wallet(list.Wallets[0]) : new JsonObject { ["wallets"] = new JsonArray(list.Wallets.Select(w => (JsonNode)Records.Wallet(w)).ToArray()) };
            o.Result(RequestFlow.Stamp(result, r), () =>
            {
                RequestFlow.PrintApproved(o, r);
                Print(list.Wallets.Take(20));
            });
        }));

        var listCmd = new Command("list", "List wallets");
        var ldir = RootCommandBuilder.Dir();
        var lquorum = new Option<string?>("--quorum") { Description = "Only this quorum's wallets" };
        listCmd.Add(ldir); listCmd.Add(lquorum);
        listCmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(ldir)).Connect();
            var list = await client.Coordinator.ListWalletsAsync(new ListWalletsRequest { Quorum = p.GetValue(lquorum) ?? "" });
            o.Result(new JsonObject { ["wallets"] = new JsonArray(list.Wallets.Select(w => (JsonNode)Records.Wallet(w)).ToArray()) }, () => Print(list.Wallets));
        }));

        wallet.Add(create);
        wallet.Add(listCmd);
        return wallet;
    }

    private static void Print(IEnumerable<WalletRecord> wallets)
    {
        var table = new Table().AddColumns("wallet", "scheme", "quorum", "epoch", "address");
        foreach (var w in wallets) table.AddRow(w.WalletId, w.Scheme, w.Quorum, w.Epoch.ToString(), w.Address);
        AnsiConsole.Write(table);
    }
}
