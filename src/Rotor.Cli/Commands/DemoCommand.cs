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
/// With <c>--ecdsa</c> (or <see cref="EcdsaByDefault"/>) an ecdsa-secp256k1 wallet goes through the same story: it
/// signs the 32-byte keccak-256 digest of the demo message (what Ethereum signs), its r ‖ s recovers the wallet's key
/// (its Ethereum and Bitcoin P2WPKH addresses), and after the refresh the addresses are the same and the signature new.
/// </summary>
public static class DemoCommand
{
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("Rotor demo: transfer 1.0 to treasury");

    /// <summary>
    /// Whether the demo includes an ecdsa-secp256k1 wallet without <c>--ecdsa</c>. It needs threshold ECDSA in the
    /// nodes and the coordinator: set to true once they have it (then <c>--ecdsa</c> changes nothing).
    /// </summary>
    internal static readonly bool EcdsaByDefault = true;

    /// <summary>What a wallet signs in the demo: the message itself, or for ecdsa-secp256k1 its 32-byte keccak-256 digest (as Ethereum signs a transaction's hash).</summary>
    private static byte[] MessageFor(WalletRecord w) =>
        w.Scheme == Scheme.EcdsaSecp256k1.Name() ? Rotor.Crypto.Encodings.ChainAddresses.Keccak256(Message) : Message;

    public static Command Create()
    {
        var demo = new Command("demo", "Run the whole story on a local cluster and stop it");
        var dir = new Option<string?>("--dir") { Description = "Folder for the cluster's data (default: a new temporary folder)" };
        var console = new Option<bool>("--console") { Description = "At the end, keep the cluster running and serve the operations console on it (sign in with DIR/alice.key or DIR/bob.key) until Ctrl+C" };
        var ecdsa = new Option<bool>("--ecdsa") { Description = "Also an ecdsa-secp256k1 wallet (Ethereum and Bitcoin addresses, r‖s signatures of a 32-byte digest) through the whole story" };
        demo.Add(dir); demo.Add(console); demo.Add(ecdsa);
        demo.SetAction((p, ct) => Output.Run(p.GetValue(RootCommandBuilder.Json), o => Run(o, p.GetValue(dir), p.GetValue(console), ct, EcdsaByDefault || p.GetValue(ecdsa))));
        return demo;
    }

    private static async Task Run(Output o, string? dir, bool withConsole = false, CancellationToken ct = default, bool withEcdsa = false)
    {
        var cluster = new LocalCluster(dir ?? Path.Combine(Path.GetTempPath(), "rotor-demo-" + Guid.NewGuid().ToString("N")[..8]));
        if (File.Exists(Path.Combine(cluster.Dir, "cluster.json")) && cluster.State().Coordinator is { } c && LocalCluster.IsRunning(c.Pid))
            throw new CliException($"a cluster is already running in {cluster.Dir}; stop it (rotor cluster down --dir {cluster.Dir}) or pick another --dir");
        var checks = new List<(string Name, bool Passed)>();
        var completed = false;
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
            await o.Progress("starting a coordinator and nodes cs1, cs2, cs3, cs4", () => cluster.UpAsync(4, null, policy));
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
            string[] schemes = withEcdsa ? ["ed25519", "bip340", "ecdsa-secp256k1"] : ["ed25519", "bip340"];
            foreach (var scheme in schemes)
            {
                var w = (await Approved(new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = quorumName, Scheme = scheme, Count = 1 } },
                    $"distributed key generation ({scheme})", alice)).Wallets.Wallets[0];
                before.Add(w);
                o.Line($"wallet [bold]{w.WalletId}[/] ({scheme}) address {w.Address}");
                if (Records.AddressesOf(w.Scheme, w.PublicKey) is { } chains)
                    o.Line($"  Ethereum (EIP-55) {chains["ethereum"]!.GetValue<string>()}, Bitcoin P2WPKH {chains["bitcoin"]!.GetValue<string>()}");
            }

            var firstSignature = new Dictionary<string, SignReply>();
            foreach (var w in before)
            {
                var s = (await Approved(new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(MessageFor(w)) } },
                    $"signing with {w.WalletId}", alice)).Signature;
                signatures.Add(s);
                firstSignature[w.WalletId] = s;
                checks.Add(($"signature of {w.WalletId} at epoch {s.Epoch} verifies", Verifies(w, s)));
                if (w.Scheme == Scheme.EcdsaSecp256k1.Name())
                {
                    var (rs, v) = Records.Ecdsa(s);
                    o.Line($"  keccak-256 digest {Convert.ToHexStringLower(MessageFor(w))}: r‖s {Convert.ToHexStringLower(rs)[..32]}…, recovery id {(v is { } id ? id.ToString() : "none")}");
                    checks.Add(($"the ECDSA signature of {w.WalletId} recovers its Ethereum address", v is not null));
                }
            }

            // An epoch-bound backup of cs1's shards, sealed to the recipient every node pins (its private key stays offline).
            var recipient = File.ReadAllText(cluster.BackupRecipientPublicFile).Trim();
            async Task<Rotor.Rpc.Operations.BackupRecord> BackUp(string what) =>
                (await Approved(new ActionSpec { Backup = new Rotor.Rpc.Operations.CreateBackupRequest { Node = "cs1", BackupId = Rotor.Rpc.Backups.BackupFile.NewId(), Recipient = recipient } },
                    what, alice)).Backup;
            async Task<bool> Current(Rotor.Rpc.Operations.BackupRecord b, string label)
            {
                var v = await client.Operations.VerifyBackupAsync(new Rotor.Rpc.Operations.VerifyBackupRequest { File = b.File });
                foreach (var x in v.Shards) o.Line($"[grey]{label} {b.Id}, {x.Wallet}: {(x.Current ? "current" : "stale")}{(x.Current ? "" : $" ({x.Explanation})")}[/]");
                return v.Shards.All(x => x.Current);
            }
            var oldBackup = await BackUp("backing up cs1");
            o.Line($"backup {oldBackup.Id} of cs1: {string.Join(", ", oldBackup.Shards.Select(x => $"{x.Wallet}@{x.Epoch}"))}, sealed to {recipient[..16]}…");
            checks.Add(("backup of cs1 is current when made", await Current(oldBackup, "backup")));

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
                var chainsBefore = Records.AddressesOf(w.Scheme, w.PublicKey);
                var chainsAfter = Records.AddressesOf(now.Scheme, now.PublicKey);
                if (chainsBefore is not null)
                    checks.Add(($"Ethereum and Bitcoin addresses of {w.WalletId} unchanged", chainsAfter is not null && JsonNode.DeepEquals(chainsBefore, chainsAfter)));
                var s = (await Approved(new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(MessageFor(w)) } },
                    $"signing with {w.WalletId} after the refresh", alice, bob)).Signature;
                signatures.Add(s);
                checks.Add(($"signature of {w.WalletId} at epoch {s.Epoch} verifies under the same key", s.Epoch == now.Epoch && Verifies(w, s)));
                if (w.Scheme == Scheme.EcdsaSecp256k1.Name())
                    checks.Add(($"the ECDSA signature of {w.WalletId} after the refresh is a new one (fresh nonce) that recovers the same address",
                        Records.Ecdsa(s).RecoveryId is not null && !s.Signature.Equals(firstSignature[w.WalletId].Signature)));
                var walletOut = new JsonObject
                {
                    ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["publicKey"] = w.PublicKey, ["addressBefore"] = w.Address,
                    ["addressAfter"] = now.Address, ["epochBefore"] = w.Epoch, ["epochAfter"] = now.Epoch,
                };
                if (chainsAfter is not null) walletOut["addresses"] = chainsAfter;
                walletsOut.Add(walletOut);
                // The coordinator still knows epoch 0's public data; the nodes have erased its shards (approved or not).
                var old = await RequestFlow.SubmitAsync(client, new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(MessageFor(w)), Epoch = w.Epoch } },
                    [alice, bob], o, $"signing with {w.WalletId}'s old shards");
                if (old.Status == RequestFlow.Failed) o.Line($"[grey]old shard refused (request {old.Id}, approved by alice, bob): {old.Error}[/]");
                checks.Add(($"signing {w.WalletId} with an old (epoch {w.Epoch}) shard is refused", old.Status == RequestFlow.Failed));
                try
                {
                    // Straight to the coordinator's signing API, with no approval: every node refuses.
                    await api.SignAsync(new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(MessageFor(w)) });
                    checks.Add(($"signing {w.WalletId} without approval is refused by the nodes", false));
                }
                catch (RpcException e)
                {
                    o.Line($"[grey]unapproved signature refused: {e.Status.Detail}[/]");
                    checks.Add(($"signing {w.WalletId} without approval is refused by the nodes", true));
                }
            }

            // The backup taken before the refresh is stale: a restore of it is refused. A fresh one is current.
            checks.Add(("backup taken before the refresh is reported stale (restore refuses it)", !await Current(oldBackup, "old backup")));
            var fresh = await BackUp("backing up cs1 again");
            checks.Add(("fresh backup of cs1 is current", await Current(fresh, "fresh backup")));

            // A personnel change: cs3's operator leaves, cs4 joins. The key moves; it is never rebuilt; addresses stay.
            var restructure = (await Approved(new ActionSpec
            {
                Reshare = new Rotor.Rpc.Operations.ReshareSpec { Quorum = quorumName, Reason = "personnel-change", Note = "demo: cs3 leaves, cs4 joins", Members = { "cs1", "cs2", "cs4" } },
            }, "restructuring the quorum to cs1, cs2, cs4", bob)).Reshare;
            o.Line($"restructure {restructure.Id}: members cs1, cs2, cs4 ({restructure.Status})");
            checks.Add(("restructure to cs1, cs2, cs4 committed", restructure.Status == "committed"));
            foreach (var w in before)
            {
                var s = (await Approved(new ActionSpec { Sign = new SignRequest { WalletId = w.WalletId, Message = ByteString.CopyFrom(MessageFor(w)), Signers = { "cs2", "cs4" } } },
                    $"signing with {w.WalletId} by cs2 and cs4", alice, bob)).Signature;
                signatures.Add(s);
                checks.Add(($"cs2 and cs4 sign {w.WalletId} under the same key after the restructure", Verifies(w, s)));
            }
            var cs3 = (await api.ListNodesAsync(new ListNodesRequest())).Nodes.Single(n => n.Name == "cs3");
            var cs3Status = await api.GetQuorumStatusAsync(new QuorumStatusRequest { Name = quorumName });
            checks.Add(("cs3 is no longer a member", !cs3Status.Members.Any(m => m.Name == cs3.Name)));

            // A repair: cs4 loses its shard of the first wallet (deleted from its vault, as a failed disk would); the
            // other members rebuild it for cs4 alone, without a backup and without anyone learning it.
            var lost = before[0].WalletId;
            cluster.StopOne("cs4");
            using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(cluster.NodeDir("cs4"), "cs4-vault.db")};Pooling=False"))
            {
                db.Open();
                using var cmd = db.CreateCommand();
                cmd.CommandText = "DELETE FROM shards WHERE key_id = $k";
                cmd.Parameters.AddWithValue("$k", lost);
                cmd.ExecuteNonQuery();
            }
            await o.Progress("restarting cs4 without its shard", () => cluster.StartNodeAsync("cs4", null));
            o.Line($"cs4 lost its shard of {lost}");
            var repaired = (await Approved(new ActionSpec { Repair = new Rotor.Rpc.Operations.RepairRequest { Node = "cs4", Wallet = lost } }, "repairing cs4", alice)).Repair;
            o.Line($"repair of cs4: {repaired.Wallet} at epoch {repaired.Epoch}");
            var afterRepair = (await Approved(new ActionSpec { Sign = new SignRequest { WalletId = lost, Message = ByteString.CopyFrom(MessageFor(before[0])), Signers = { "cs1", "cs4" } } },
                $"signing with {lost} by cs1 and the repaired cs4", alice, bob)).Signature;
            signatures.Add(afterRepair);
            checks.Add(("repaired cs4 signs with cs1 under the same key", Verifies(before[0], afterRepair)));

            var status = await api.GetQuorumStatusAsync(new QuorumStatusRequest { Name = quorumName });
            var single = status.Wallets.All(w => w.Nodes.All(n => n.PendingEpochs.Count == 0 && n.ActiveEpochs.SequenceEqual([w.Wallet.Epoch])));
            checks.Add(("every node holds exactly the current epoch of every wallet", single));
            completed = true;
        }
        finally
        {
            if (!(withConsole && completed))
                await o.Progress("stopping the cluster", () => Task.FromResult(cluster.Down()));
        }

        var result = new JsonObject
        {
            ["dir"] = cluster.Dir,
            ["nodes"] = nodesOut,
            ["wallets"] = walletsOut,
            ["signatures"] = new JsonArray(signatures.Select(s =>
            {
                var j = new JsonObject
                {
                    ["walletId"] = s.WalletId, ["epoch"] = s.Epoch, ["message"] = Convert.ToHexStringLower(s.Message.Span),
                    ["signers"] = Records.Strings(s.Signers), ["signature"] = Convert.ToHexStringLower(s.Signature.Span),
                };
                if (s.Scheme == Scheme.EcdsaSecp256k1.Name())
                {
                    var (rs, v) = Records.Ecdsa(s);
                    j["signature"] = Convert.ToHexStringLower(rs);
                    j["recoveryId"] = v;
                }
                return (JsonNode)j;
            }).ToArray()),
            ["approvals"] = approvalsOut,
            ["checks"] = new JsonArray(checks.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["passed"] = c.Passed }).ToArray()),
        };
        o.Result(result, () => Summary(walletsOut, signatures, checks));
        if (withConsole)
        {
            try
            {
                await using var server = await WebConsole.ConsoleServer.StartAsync(cluster, System.Net.IPAddress.Loopback, 0, null);
                o.Line($"operations console: [bold]{server.Url}[/] (sign in with {Path.Combine(cluster.Dir, "alice.key")} or bob.key; certificate sha256 {server.CertificateSha256}); Ctrl+C stops it and the cluster");
                if (o.Json) System.Console.Error.WriteLine($"console: {server.Url}");
                try { await Task.Delay(Timeout.Infinite, ct); }
                catch (OperationCanceledException) { }
            }
            finally { cluster.Down(); }
        }
        else
            o.Line($"see what the demo did in the operations console: [bold]rotor cluster up --dir {cluster.Dir} && rotor console --dir {cluster.Dir}[/] (sign in with alice.key or bob.key there), or run [bold]rotor demo --console[/]");
        if (checks.Any(c => !c.Passed)) throw new CliException($"{checks.Count(c => !c.Passed)} check(s) failed");
    }

    /// <summary>
    /// Checks a signature with the scheme's standard verifier, independently of the coordinator (ecdsa-secp256k1:
    /// r ‖ s under the wallet's key, and the signed message is the 32-byte digest the demo meant).
    /// </summary>
    private static bool Verifies(WalletRecord w, SignReply s)
    {
        var scheme = Schemes.Parse(w.Scheme);
        var sig = scheme == Scheme.EcdsaSecp256k1 ? Records.Ecdsa(s).Rs : s.Signature.ToByteArray();
        return s.Message.Span.SequenceEqual(MessageFor(w))
            && SchemeSignatures.Verify(scheme, Convert.FromHexString(w.PublicKey), s.Message.Span, sig);
    }

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
