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
        var scheme = new Option<string>("--scheme") { Description = "ed25519, secp256k1, bip340 or ecdsa-secp256k1 (threshold ECDSA: Ethereum and Bitcoin P2WPKH)", Required = true };
        scheme.AcceptOnlyFromAmong("ed25519", "secp256k1", "bip340", "ecdsa-secp256k1");
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

        var address = new Command("address", "The key and address derived from a wallet along a non-hardened path (BIP-32 style; e.g. m/0/7)");
        var adir = RootCommandBuilder.Dir();
        var awallet = new Option<string>("--wallet") { Description = "Wallet id", Required = true };
        var apath = new Option<string>("--path") { Description = "Derivation path: m or m/i/j/... with every index below 2^31 (no hardened steps), at most 255 steps", Required = true };
        address.Add(adir); address.Add(awallet); address.Add(apath);
        address.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var path = ParsePath(p.GetValue(apath));
            using var client = LocalCluster.From(p.GetValue(adir)).Connect();
            var w = await FindAsync(client, p.GetValue(awallet)!);
            var (key, addr) = Derive(() => Rotor.Coordinator.WalletDerivation.Child(w.WalletId, w.Scheme, w.PublicKey, w.ChainCode, w.InternalKey, path));
            var byChain = Records.AddressesOf(w.Scheme, key); // ecdsa-secp256k1: { ethereum, bitcoin } of the child key
            o.Result(new JsonObject
            {
                ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["path"] = path.ToString(), ["publicKey"] = key, ["address"] = addr, ["epoch"] = w.Epoch,
                ["addresses"] = byChain,
            }, () =>
            {
                o.Line($"wallet [bold]{w.WalletId}[/] ({w.Scheme}) path {path}");
                Output.Token("public key ", key);
                Output.Token("address    ", addr);
                if (byChain is not null)
                    foreach (var (chain, a) in byChain) Output.Token($"{chain,-11}", (string)a!);
            });
        }));

        var xpub = new Command("xpub", "The wallet's root extended public key (BIP-32 xpub; bip340: of the internal key; ed25519: key and chain code)");
        var xdir = RootCommandBuilder.Dir();
        var xwallet = new Option<string>("--wallet") { Description = "Wallet id", Required = true };
        xpub.Add(xdir); xpub.Add(xwallet);
        xpub.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(xdir)).Connect();
            var w = await FindAsync(client, p.GetValue(xwallet)!);
            var x = Derive(() => Rotor.Coordinator.WalletDerivation.Xpub(w.WalletId, w.Scheme, w.PublicKey, w.ChainCode, w.InternalKey));
            o.Result(new JsonObject
            {
                ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["xpub"] = x, ["chainCode"] = w.ChainCode, ["publicKey"] = w.PublicKey,
                ["internalKey"] = w.InternalKey.Length > 0 ? w.InternalKey : null,
            }, () =>
            {
                o.Line($"wallet [bold]{w.WalletId}[/] ({w.Scheme})");
                if (x is not null) Output.Token("xpub ", x);
                else o.Line($"ed25519 has no standard xpub serialisation: derive with the Edwards derivation from the key and chain code");
                Output.Token("chain code ", w.ChainCode);
            });
        }));

        wallet.Add(create);
        wallet.Add(listCmd);
        wallet.Add(address);
        wallet.Add(xpub);
        return wallet;
    }

    /// <summary>A derivation path from --path, or a clear error.</summary>
    internal static Rotor.Protocols.Keys.Hd.DerivationPath ParsePath(string? text)
    {
        try { return Rotor.Protocols.Keys.Hd.DerivationPath.Parse(text); }
        catch (ArgumentException e) { throw new CliException($"--path: {e.Message}"); }
    }

    private static T Derive<T>(Func<T> derive)
    {
        try { return derive(); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
    }

    private static async Task<WalletRecord> FindAsync(ClusterClient client, string id)
    {
        var list = await client.Coordinator.ListWalletsAsync(new ListWalletsRequest());
        return list.Wallets.FirstOrDefault(w => w.WalletId == id) ?? throw new CliException($"no wallet '{id}'");
    }

    private static void Print(IEnumerable<WalletRecord> wallets)
    {
        var table = new Table().AddColumns("wallet", "scheme", "quorum", "epoch", "address");
        foreach (var w in wallets) table.AddRow(w.WalletId, w.Scheme, w.Quorum, w.Epoch.ToString(), w.Address);
        AnsiConsole.Write(table);
    }
}
