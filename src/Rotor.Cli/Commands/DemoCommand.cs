using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Requests;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Rpc.Coordinator;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// <c>rotor demo</c>: a coordinator and three nodes as separate processes pinning two operators (alice and bob: one
/// approval for every action, both for a signature), a 2-of-3 quorum, an Ed25519 and a BIP-340 wallet, a signature
/// with each (alice's approval alone leaves it awaiting; bob's runs it), a refresh with a recorded reason,
/// signatures again, the keys and addresses unchanged, a signature with an old shard refused and one without
/// approval refused by the nodes; then everything is stopped. Every step says who approved what.
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
        var approvalsOut = new JsonArray();
        var nodesOut = new JsonArray();
        try
        {
            o.Line($"data in [bold]{cluster.Dir}[/]");
            Directory.CreateDirectory(cluster.Dir);
            var alice = Path.Combine(cluster.Dir, "alice.key");
            var bob = Path.Combine(cluster.Dir, "bob.key");
            string Key(string file) => File.Exists(file) ? OperatorKeyFile.PublicKey(file) : OperatorKeyFile.Create(file);
            var policy = new GovernancePolicy
            {
                Approvers = [new Approver("alice", Key(alice)), new Approver("bob", Key(bob))],
                Approvals = Actions.Classes.ToDictionary(c => c, c => c == ActionClass.Sign ? 2 : 1),
            }.Validated();
            o.Line($"operators: alice {policy.Approvers[0].Key[..16]}…, bob {policy.Approvers[1].Key[..16]}… (keys in {cluster.Dir}); every node pins them: one approval per action, both for a signature");
            await o.Progress("starting a coordinator and nodes cs1, cs2, cs3", () => cluster.UpAsync(3, null, policy));
            using var client = cluster.Connect();
            var api = client.Coordinator;

            // Every action is a request the operators approve; the nodes check the approvals themselves.
            async Task<ActionResult> Approved(ActionSpec spec, string what, params string[] keys)
            {
                var r = await RequestFlow.SubmitAsync(client, spec, keys, o, what);
                if (r.Status == RequestFlow.Awaiting)
                {
                    o.Line($"[yellow]request {r.Id} ({r.Action}) awaits approval: {r.Approvals.Count} of {r.ApprovalsNeeded} ({string.Join(", ", r.Approvals.Select(a => a.Approver))})[/]");
                    r = await RequestFlow.ApproveAsync(client, r, bob, o, what);
                }
                if (r.Status != RequestFlow.Done) throw new CliException($"request {r.Id} ({r.Action}) {r.Status}: {r.Error}");
                RequestFlow.PrintApproved(o, r);
                approvalsOut.Add(new JsonObject { ["requestId"] = r.Id, ["action"] = r.Action, ["approvedBy"] = Records.Strings(r.Approvals.Select(a => a.Approver)) });
                return r.Result;
            }
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
                var w = (await Approved(new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = quorumName, Scheme = scheme, Count = 1 } },
                    $"distributed key generation ({scheme})", alice)).Wallets.Wallets[0];
                before.Add(w);
                o.Line($"wallet [bold]{w.WalletId}[/] ({scheme}) address {w.Address}");
            }

            foreach (var w in before)
            {
                var s = (await Approved(new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message) } },
                    $"signing with {w.WalletId}", alice)).Signature;
                signatures.Add(s);
                checks.Add(($"signature of {w.WalletId} at epoch {s.Epoch} verifies", Verifies(w, s)));
            }

            var reshare = (await Approved(new ActionSpec { Reshare = new Rotor.Rpc.Operations.ReshareSpec { Quorum = quorumName, Reason = "security-policy", Note = "demo: scheduled refresh" } },
                "refreshing the quorum", bob)).Reshare;
            o.Line($"refresh {reshare.Id} (event {reshare.EventId}): epoch {reshare.Wallets.Min(x => x.OldEpoch)} -> {reshare.Wallets.Max(x => x.NewEpoch)} ({reshare.Status})");
            checks.Add(("refresh committed", reshare.Status == "committed"));

            var after = (await api.ListWalletsAsync(new ListWalletsRequest { Quorum = quorumName })).Wallets.ToDictionary(w => w.WalletId);
            foreach (var w in before)
            {
                var now = after[w.WalletId];
                checks.Add(($"public key of {w.WalletId} unchanged", now.PublicKey == w.PublicKey));
                checks.Add(($"address of {w.WalletId} unchanged", now.Address == w.Address));
                var s = (await Approved(new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message) } },
                    $"signing with {w.WalletId} after the refresh", alice, bob)).Signature;
                signatures.Add(s);
                checks.Add(($"signature of {w.WalletId} at epoch {s.Epoch} verifies under the same key", s.Epoch == now.Epoch && Verifies(w, s)));
                walletsOut.Add(new JsonObject
                {
                    ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["publicKey"] = w.PublicKey, ["addressBefore"] = w.Address,
                    ["addressAfter"] = now.Address, ["epochBefore"] = w.Epoch, ["epochAfter"] = now.Epoch,
                });
                // The coordinator still knows epoch 0's public data; the nodes have erased its shards (approved or not).
                var old = await RequestFlow.SubmitAsync(client, new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message), Epoch = w.Epoch } },
                    [alice, bob], o, $"signing with {w.WalletId}'s old shards");
                if (old.Status == RequestFlow.Failed) o.Line($"[grey]old shard refused (request {old.Id}, approved by alice, bob): {old.Error}[/]");
                checks.Add(($"signing {w.WalletId} with an old (epoch {w.Epoch}) shard is refused", old.Status == RequestFlow.Failed));
                try
                {
                    // Straight to the coordinator's signing API, with no approval: every node refuses.
                    await api.SignAsync(new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(Message) });
                    checks.Add(($"signing {w.WalletId} without approval is refused by the nodes", false));
                }
                catch (RpcException e)
                {
                    o.Line($"[grey]unapproved signature refused: {e.Status.Detail}[/]");
                    checks.Add(($"signing {w.WalletId} without approval is refused by the nodes", true));
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
            ["approvals"] = approvalsOut,
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
