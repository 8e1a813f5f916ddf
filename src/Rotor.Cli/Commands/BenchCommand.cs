using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Operations;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Coordinator;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// <c>rotor bench</c>: end-to-end figures over gRPC with a coordinator and three node processes on this machine —
/// signing latency (median, p99), single-wallet refresh latency, a batch of Ed25519 wallets refreshed in one
/// event, and each node's peak resident memory.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure signing and reshare end to end over gRPC on a local 2-of-3 cluster");
        var dir = new Option<string?>("--dir") { Description = "Folder for the cluster (default: a new temporary folder)" };
        var signs = new Option<int>("--signs") { Description = "Signatures to time", DefaultValueFactory = _ => 200 };
        var refreshes = new Option<int>("--refreshes") { Description = "Single-wallet refreshes to time", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { Description = "Ed25519 wallets in the batch refresh (0: skip)", DefaultValueFactory = _ => 10_000 };
        var scheme = new Option<string>("--scheme") { Description = "Scheme of the wallet whose signing and refresh are timed: ed25519 (default), secp256k1, bip340 or ecdsa-secp256k1 (the batch is Ed25519)", DefaultValueFactory = _ => "ed25519" };
        scheme.AcceptOnlyFromAmong("ed25519", "secp256k1", "bip340", "ecdsa-secp256k1");
        bench.Add(dir); bench.Add(signs); bench.Add(refreshes); bench.Add(batch); bench.Add(scheme);
        bench.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
            Run(o, p.GetValue(dir), p.GetValue(signs), p.GetValue(refreshes), p.GetValue(batch), p.GetValue(scheme)!)));
        return bench;
    }

    private static async Task Run(Output o, string? dir, int signs, int refreshes, int batch, string scheme)
    {
        if (signs < 1 || refreshes < 1 || batch < 0) throw new CliException("--signs and --refreshes must be at least 1, --batch at least 0");
        var cluster = new LocalCluster(dir ?? Path.Combine(Path.GetTempPath(), "rotor-bench-" + Guid.NewGuid().ToString("N")[..8]));
        var result = new JsonObject { ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}", ["scheme"] = scheme, ["loadAverageAtStart"] = LoadAverage() };
        try
        {
            await o.Progress("starting a coordinator and three nodes", () => cluster.UpAsync(3));
            using var client = cluster.Connect();
            var api = client.Coordinator;
            // Every action is approved as operators would approve it, with the cluster's local operator key: key
            // generation and refreshes through the request desk (submit, then approve), signatures the way a custody
            // platform's transaction engine signs, with an approval it makes itself and sends in the same call.
            var seed = OperatorKeyFile.ReadSeed(cluster.OperatorKeyPath, () => null);
            async Task<ActionResult> Approved(ActionSpec spec)
            {
                var r = await client.Requests.SubmitAsync(spec);
                var a = OperatorKeys.Approve(seed, r.Description.Span);
                r = await client.Requests.ApproveAsync(new ApproveRequest { Id = r.Id, Key = ByteString.CopyFrom(a.Key), Signature = ByteString.CopyFrom(a.Signature) });
                return r.Status == RequestFlow.Done ? r.Result : throw new CliException($"bench request {r.Id} ({r.Action}) {r.Status}: {r.Error}");
            }
            var q = new CreateQuorumRequest { Name = "bench-" + Guid.NewGuid().ToString("N")[..6], Threshold = 2 };
            q.Members.AddRange(["cs1", "cs2", "cs3"]);
            await api.CreateQuorumAsync(q);
            var wallet = (await Approved(new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = q.Name, Scheme = scheme, Count = 1 } })).Wallets.Wallets[0];

            var message = new byte[32]; // a 32-byte digest: what ecdsa-secp256k1 signs, and a transaction-sized message for the others
            Task<SignReply> Sign() => api.SignAsync(new SignRequest
            {
                WalletId = wallet.WalletId, Message = ByteString.CopyFrom(message),
                Authorization = DirectApproval.Sign([seed], q.Name, wallet.Scheme, wallet.WalletId, message, TimeSpan.FromMinutes(5)),
            }).ResponseAsync;
            Task<ActionResult> Refresh(string reason) => Approved(new ActionSpec { Reshare = new ReshareSpec { Quorum = q.Name, Reason = "compliance", Note = reason } });
            // Warm-up before anything is timed: JIT tiers, connection pools and the processes' caches settle.
            await o.Progress("warming up", async () =>
            {
                for (int i = 0; i < WarmUpSignatures; i++) await Sign();
                for (int i = 0; i < WarmUpRefreshes; i++) await Refresh("bench warm-up");
            });
            var signing = await o.Progress($"timing {signs} signatures", () => Time(signs, Sign));
            result["signing"] = Stats(signing);

            var refreshing = await o.Progress($"timing {refreshes} single-wallet refreshes", () => Time(refreshes, () => Refresh("bench")));
            result["singleWalletRefresh"] = Stats(refreshing);

            if (batch > 0)
            {
                var b = new CreateQuorumRequest { Name = q.Name + "-batch", Threshold = 2 };
                b.Members.AddRange(["cs1", "cs2", "cs3"]);
                await api.CreateQuorumAsync(b);
                var keygen = Stopwatch.StartNew();
                await o.Progress($"distributed key generation of {batch} Ed25519 wallets", async () =>
                    await Approved(new ActionSpec { CreateWallets = new CreateWalletsRequest { Quorum = b.Name, Scheme = "ed25519", Count = (uint)batch } }));
                keygen.Stop();
                var reshare = Stopwatch.StartNew();
                var r = (await o.Progress($"refreshing {batch} wallets in one event", async () =>
                    await Approved(new ActionSpec { Reshare = new ReshareSpec { Quorum = b.Name, Reason = "compliance", Note = "bench batch" } }))).Reshare;
                reshare.Stop();
                result["batch"] = new JsonObject
                {
                    ["wallets"] = batch, ["keygenSeconds"] = Math.Round(keygen.Elapsed.TotalSeconds, 2),
                    ["refreshSeconds"] = Math.Round(reshare.Elapsed.TotalSeconds, 2), ["status"] = r.Status,
                };
            }
            result["loadAverageAtEnd"] = LoadAverage();
            result["nodePeakMemoryMiB"] = new JsonObject(cluster.State().Nodes.OrderBy(n => n.Name)
                .Select(n => KeyValuePair.Create(n.Name, (JsonNode?)PeakMiB(n.Pid))));
        }
        finally
        {
            cluster.Down();
        }
        o.Result(result, () =>
        {
            var t = new Table().AddColumns("measure", "result");
            t.AddRow($"signing (2-of-3, {scheme})", Describe(result["signing"]!));
            t.AddRow($"single-wallet refresh ({scheme})", Describe(result["singleWalletRefresh"]!));
            if (result["batch"] is JsonObject b)
                t.AddRow($"batch of {b["wallets"]} Ed25519 wallets", $"keygen {b["keygenSeconds"]} s, refresh in one event {b["refreshSeconds"]} s ({b["status"]})");
            t.AddRow("load average (1, 5, 15 min) at start, at end", $"{result["loadAverageAtStart"]}; {result["loadAverageAtEnd"]}");
            t.AddRow("node peak memory (VmHWM)", string.Join(", ", result["nodePeakMemoryMiB"]!.AsObject().Select(kv => $"{kv.Key} {kv.Value} MiB")));
            AnsiConsole.Write(t);
        });
    }

    /// <summary>Signatures and single-wallet refreshes made before timing.</summary>
    private const int WarmUpSignatures = 50, WarmUpRefreshes = 3;

    /// <summary>The machine's load averages (1, 5, 15 min) from /proc/loadavg; null where it is not available.</summary>
    private static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;

    private static async Task<double[]> Time(int count, Func<Task> call)
    {
        var ms = new double[count];
        for (int i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            await call();
            ms[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(ms);
        return ms;
    }

    private static JsonObject Stats(double[] sorted) => new()
    {
        ["count"] = sorted.Length,
        ["medianMs"] = Math.Round(Percentile(sorted, 0.5), 2),
        ["p99Ms"] = Math.Round(Percentile(sorted, 0.99), 2),
        ["minMs"] = Math.Round(sorted[0], 2),
        ["maxMs"] = Math.Round(sorted[^1], 2),
    };

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string Describe(JsonNode s) => $"median {s["medianMs"]} ms, p99 {s["p99Ms"]} ms (n = {s["count"]})";

    /// <summary>A process's peak resident set (VmHWM in /proc), MiB; null where /proc is not available.</summary>
    private static double? PeakMiB(int pid)
    {
        var path = $"/proc/{pid}/status";
        if (!File.Exists(path)) return null;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : Math.Round(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0, 1);
    }
}
