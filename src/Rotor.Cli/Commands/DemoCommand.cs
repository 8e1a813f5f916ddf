using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Cli.Cluster;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Rpc.Coordinator;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// <c>rotor demo</c>: a coordinator and three nodes as separate processes, a 2-of-3 quorum, an Ed25519 and a
/// BIP-340 wallet, a signature with each, a refresh with a recorded reason, signatures again, the keys and
/// addresses unchanged, a signature with an old shard refused; then everything is stopped.
/// </summary>
public static class DemoCommand
{
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("Rotor demo: transfer 1.0 to treasury");

    public static Command Create()
    {
        var demo = new Command("demo", "Run the whole story on a local cluster and stop it");
        var dir = new Option<string?>("--dir") { Description = "Folder for the cluster's data (default: a new temporary folder)" };
        demo.Add(dir);
        demo.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o => Run(o, p.GetValue(dir))));
        return demo;
    }

    private static async Task Run(Output o, string? dir)
    {
        var cluster = new LocalCluster(dir ?? Path.Combine(Path.GetTempPath(), "rotor-demo-" + Guid.NewGuid().ToString("N")[..8]));
        if (File.Exists(Path.Combine(cluster.Dir, "cluster.json")) && cluster.State().Coordinator is { } c && LocalCluster.IsRunning(c.Pid))
            throw new CliException($"a cluster is already running in {cluster.Dir}; stop it (rotor cluster down --dir {cluster.Dir}) or pick another --dir");
        var checks = new List<(string Name, bool Passed)>();
        var signatures = new List<SignReply>();
        var walletsOut = new JsonArray();
        var nodesOut = new JsonArray();
        try
        {
            o.Line($"data in [bold]{cluster.Dir}[/]");
            await o.Progress("starting a coordinator and nodes cs1, cs2, cs3", () => cluster.UpAsync(3));
            using var client = cluster.Connect();
            var api = client.Coordinator;
            foreach (var n in (await api.ListNodesAsync(new ListNodesRequest())).Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
            {
                var masterKey = n.MasterKey.Length > 0 ? n.MasterKey : cluster.MasterKeyOf(n.Name) ?? "unknown";
                nodesOut.Add(new JsonObject { ["name"] = n.Name, ["masterKey"] = masterKey, ["sealed"] = n.Sealed });
            }
            foreach (var g in nodesOut.GroupBy(n => n!["masterKey"]!.GetValue<string>()))
                o.Line($"master key of {string.Join(", ", g.Select(n => n!["name"]!.GetValue<string>()))}: [bold]{g.Key}[/]{(g.Key == "file" ? " (a key file beside the vault: local development only; production nodes use pkcs11 or passphrase)" : "")}");
            var quorumName = "demo-" + Guid.NewGuid().ToString("N")[..6];
            var q = new CreateQuorumRequest { Name = quorumName, Threshold = 2 };
            q.Members.AddRange(["cs1", "cs2", "cs3"]);
            await api.CreateQuorumAsync(q);
            o.Line($"quorum [bold]{quorumName}[/]: 2-of-3 (cs1, cs2, cs3)");

            var before = new List<WalletRecord>();
            foreach (var scheme in new[] { "ed25519", "bip340" })
            {
                var w = (await o.Progress($"distributed key generation ({scheme})", async () =>
                    await api.CreateWalletsAsync(new CreateWalletsRequest { Quorum = quorumName, Scheme = scheme, Count = 1 }))).Wallets[0];
                before.Add(w);
                o.Line($"wallet [bold]{w.WalletId}[/] ({scheme}) address {w.Address}");
            }

            foreach (var w in before)
            {
                var s = await o.Progress($"signing with {w.WalletId}", async () => await api.SignAsync(new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message) }));
                signatures.Add(s);
                checks.Add(($"signature of {w.WalletId} at epoch {s.Epoch} verifies", Verifies(w, s)));
            }

            var reshare = await o.Progress("refreshing the quorum", async () =>
                await api.ReshareAsync(new ReshareRequest { Quorum = quorumName, Reason = "demo: scheduled refresh" }));
            o.Line($"refresh {reshare.EventId}: epoch {reshare.OldEpoch} -> {reshare.NewEpoch} ({reshare.Status})");
            checks.Add(("refresh committed", reshare.Status == "committed"));

            var after = (await api.ListWalletsAsync(new ListWalletsRequest { Quorum = quorumName })).Wallets.ToDictionary(w => w.WalletId);
            foreach (var w in before)
            {
                var now = after[w.WalletId];
                checks.Add(($"public key of {w.WalletId} unchanged", now.PublicKey == w.PublicKey));
                checks.Add(($"address of {w.WalletId} unchanged", now.Address == w.Address));
                var s = await o.Progress($"signing with {w.WalletId} after the refresh", async () => await api.SignAsync(new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message) }));
                signatures.Add(s);
                checks.Add(($"signature of {w.WalletId} at epoch {s.Epoch} verifies under the same key", s.Epoch == now.Epoch && Verifies(w, s)));
                walletsOut.Add(new JsonObject
                {
                    ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["publicKey"] = w.PublicKey, ["addressBefore"] = w.Address,
                    ["addressAfter"] = now.Address, ["epochBefore"] = w.Epoch, ["epochAfter"] = now.Epoch,
                });
                try
                {
                    // The coordinator still knows epoch 0's public data; the nodes have erased its shards.
                    await api.SignAsync(new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message), Epoch = w.Epoch });
                    checks.Add(($"signing {w.WalletId} with an old (epoch {w.Epoch}) shard is refused", false));
                }
                catch (RpcException e)
                {
                    o.Line($"[grey]old shard refused: {e.Status.Detail}[/]");
                    checks.Add(($"signing {w.WalletId} with an old (epoch {w.Epoch}) shard is refused", true));
                }
            }

            var status = await api.GetQuorumStatusAsync(new QuorumStatusRequest { Name = quorumName });
            var single = status.Wallets.All(w => w.Nodes.All(n => n.PendingEpochs.Count == 0 && n.ActiveEpochs.SequenceEqual([w.Wallet.Epoch])));
            checks.Add(("every node holds exactly the current epoch of every wallet", single));
        }
        finally
        {
            await o.Progress("stopping the cluster", () => Task.FromResult(cluster.Down()));
        }

        var result = new JsonObject
        {
            ["dir"] = cluster.Dir,
            ["nodes"] = nodesOut,
            ["wallets"] = walletsOut,
            ["signatures"] = new JsonArray(signatures.Select(s => (JsonNode)new JsonObject
            {
                ["walletId"] = s.WalletId, ["epoch"] = s.Epoch, ["message"] = Convert.ToHexStringLower(s.Message.Span),
                ["signers"] = Records.Strings(s.Signers), ["signature"] = Convert.ToHexStringLower(s.Signature.Span),
            }).ToArray()),
            ["checks"] = new JsonArray(checks.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["passed"] = c.Passed }).ToArray()),
        };
        o.Result(result, () => Summary(walletsOut, signatures, checks));
        if (checks.Any(c => !c.Passed)) throw new CliException($"{checks.Count(c => !c.Passed)} check(s) failed");
    }

    /// <summary>Checks a signature with the scheme's standard verifier, independently of the coordinator.</summary>
    private static bool Verifies(WalletRecord w, SignReply s) =>
        SchemeSignatures.Verify(Schemes.Parse(w.Scheme), Convert.FromHexString(w.PublicKey), s.Message.Span, s.Signature.Span);

    private static void Summary(JsonArray wallets, List<SignReply> signatures, List<(string Name, bool Passed)> checks)
    {
        var wt = new Table().Title("wallets").AddColumns("wallet", "scheme", "epoch", "address (before = after)");
        foreach (var w in wallets)
            wt.AddRow(w!["walletId"]!.ToString(), w["scheme"]!.ToString(), $"{w["epochBefore"]} -> {w["epochAfter"]}",
                w["addressBefore"]!.ToString() == w["addressAfter"]!.ToString() ? w["addressAfter"]!.ToString() : "[red]changed[/]");
        AnsiConsole.Write(wt);
        var st = new Table().Title("signatures").AddColumns("wallet", "epoch", "signers", "signature");
        foreach (var s in signatures)
            st.AddRow(s.WalletId, s.Epoch.ToString(), string.Join(",", s.Signers), Convert.ToHexStringLower(s.Signature.Span)[..32] + "…");
        AnsiConsole.Write(st);
        foreach (var (name, passed) in checks) AnsiConsole.MarkupLine($"{(passed ? "[green]✔[/]" : "[red]✘[/]")} {Markup.Escape(name)}");
    }
}
