using System.Diagnostics;
using System.Globalization;
using Rotor.Protocols.Ecdsa;

namespace Rotor.Bench;

/// <summary>
/// A quick stopwatch run of threshold ECDSA (DKLs23) with the method of the JavaScript comparisons
/// (bench/dkls-wasm/dkls.mjs, bench/noble/frost.mjs): one or two warm-up runs, then as many runs as fit in about a
/// second (at least 3, or 1 when a run takes over 5 s), and the median; beside it the mean processor time of a run
/// (every thread, so on the 2 cores it can exceed the wall-clock time; on a loaded machine it is the steadier
/// figure, as a process waiting for a core spends no processor time). Every party's work in one process, as
/// <see cref="EcdsaBenchmarks"/> does (which gives BenchmarkDotNet's statistics for the same operations):
/// <code>
/// dotnet run -c Release --project bench/Rotor.Bench -- ecdsa [--op keygen,sign,refresh,setup] [--quorum 2-of-3,3-of-5,7-of-10] [--threads 1]
/// </code>
/// </summary>
public static class EcdsaRunnerBench
{
    public static int Run(string[] args)
    {
        string[] Arg(string name, string dflt)
        {
            int i = Array.IndexOf(args, "--" + name);
            return (i >= 0 && i + 1 < args.Length ? args[i + 1] : dflt).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }
        var ops = Arg("op", "keygen,sign,refresh");
        // --threads 1: every party's work one after another on one thread (the total work, comparable with a
        // single-threaded implementation); by default the parties of each round run in parallel on every core.
        EcdsaRunner.Sequential = Arg("threads", "all")[0] == "1";
        var quorums = Arg("quorum", "2-of-3,3-of-5,7-of-10").Select(Quorums.Parse).ToArray();
        var digest = System.Security.Cryptography.SHA256.HashData("benchmark transaction"u8);
        Console.WriteLine($"Rotor threshold ECDSA (DKLs23), .NET {Environment.Version}, {Environment.ProcessorCount} cores, {(EcdsaRunner.Sequential ? "one thread" : "parties in parallel")}, load average {Load()}");
        foreach (var (t, n) in quorums)
        {
            var keys = EcdsaRunner.Keygen("bench-ecdsa", t, n);
            var signers = keys.Take(Math.Max(2, t)).ToArray();
            var members = keys.Select(k => k.Identifier).ToArray();
            foreach (var op in ops)
            {
                Action f = op switch
                {
                    "keygen" => () => EcdsaRunner.Keygen("bench-ecdsa", t, n),
                    "sign" => () => EcdsaRunner.Sign(signers, digest),
                    "refresh" => () => EcdsaRunner.Reshare(keys.Take(t).ToArray(), members, t),
                    "setup" => () => EcdsaRunner.Setup(keys.Select(k => k.Share).ToArray()),
                    _ => throw new ArgumentException($"unknown op '{op}' (keygen, sign, refresh, setup)"),
                };
                var (median, runs, cpu) = Measure(f);
                Console.WriteLine($"| rotor | {op} | {t}-of-{n} | {Format(median)} | cpu {Format(cpu)} | {runs} runs | load {Load()} |");
            }
        }
        return 0;
    }

    /// <summary>Median wall-clock time, runs, and the mean processor time (all threads) per run.</summary>
    private static (double Median, int Runs, double CpuMean) Measure(Action f)
    {
        var w0 = Stopwatch.GetTimestamp();
        f();
        if (Stopwatch.GetElapsedTime(w0).TotalMilliseconds < 1000) f();
        var times = new List<double>();
        var proc = System.Diagnostics.Process.GetCurrentProcess();
        proc.Refresh();
        var cpu0 = proc.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        do
        {
            var t0 = Stopwatch.GetTimestamp();
            f();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        } while ((times.Count < 3 && times[0] < 5000) || (Stopwatch.GetElapsedTime(start).TotalMilliseconds < 1000 && times.Count < 1000));
        proc.Refresh();
        var cpu = (proc.TotalProcessorTime - cpu0).TotalMilliseconds / times.Count;
        times.Sort();
        return (times[times.Count / 2], times.Count, cpu);
    }

    private static string Format(double ms) => ms >= 1000
        ? (ms / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s"
        : ms.ToString(ms < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " ms";

    internal static string Load()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }
}

/// <summary>Microbenchmarks of the primitives threshold ECDSA spends its time in (<c>-- ecdsa-micro</c>; for profiling).</summary>
public static class EcdsaMicro
{
    private static long finishTicks, finishRuns;

    public static int Run()
    {
        var g = Rotor.Crypto.Groups.Secp256k1.Secp256k1Group.Instance;
        var k = g.RandomScalar();
        var k2 = g.RandomScalar();
        var p = g.MulBase(g.RandomScalar());
        var data100 = new byte[100];
        var out64 = new byte[64];
        var out192 = new byte[192];
        var wide = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
        void T(string name, int n, Action a)
        {
            a();
            var t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++) a();
            Console.WriteLine($"{name,-40} {Stopwatch.GetElapsedTime(t0).TotalMicroseconds / n,10:0.000} us   load {EcdsaRunnerBench.Load()}");
        }
        T("MulBase (ct)", 2000, () => g.MulBase(k));
        T("Mul (ct)", 1000, () => g.Mul(p, k));
        T("MulVartime", 1000, () => g.MulVartime(p, k));
        T("Add+Encoding", 2000, () => _ = (p + p).Encoding);
        T("SHA512.HashData 100B", 100000, () => System.Security.Cryptography.SHA512.HashData(data100, out64));
        T("SHA256.HashData 100B", 100000, () => System.Security.Cryptography.SHA256.HashData(data100, out64.AsSpan(0, 32)));
        if (System.Security.Cryptography.Shake256.IsSupported)
            T("Shake256.HashData 100B->192B", 100000, () => System.Security.Cryptography.Shake256.HashData(data100, out192));
        T("BouncyCastle SHAKE256 100B->192B", 100000, () => { var d = new Org.BouncyCastle.Crypto.Digests.ShakeDigest(256); d.BlockUpdate(data100); d.OutputFinal(out192); });
        T("ReduceWide 64", 100000, () => g.ReduceWide(wide));
        T("Scalar mul", 1000000, () => k = k * k2);
        T("Scalar add", 1000000, () => k = k + k2);
        var factor = g.Prepare(k2);
        T("ScalarFactor.Times", 1000000, () => k = factor.Times(k));
        // one multiplication (random VOLE) between two members, by its parts
        var keys = Rotor.Protocols.Ecdsa.EcdsaRunner.Keygen("micro", 2, 2);
        var bobSide = keys[0].Pair(keys[1].Identifier);
        var aliceSide = keys[1].Pair(keys[0].Identifier);
        var session = new byte[64];
        var inputs = new[] { g.RandomScalar(), g.RandomScalar() };
        (Rotor.Protocols.Ecdsa.RvoleReceiver, Rotor.Protocols.Ecdsa.KosMessage) started = default;
        (Rotor.Crypto.Groups.Scalar[], Rotor.Protocols.Ecdsa.RvoleMessage) responded = default;
        T("multiplication: Bob's start", 300, () => started = Rotor.Protocols.Ecdsa.RvoleReceiver.Start(bobSide, session, g));
        T("multiplication: Alice's reply", 300, () => responded = Rotor.Protocols.Ecdsa.Rvole.Respond(aliceSide, session, started.Item2!, inputs, session));
        T("multiplication: Bob's finish", 300, () =>
        {
            var (bob, kos) = Rotor.Protocols.Ecdsa.RvoleReceiver.Start(bobSide, session, g);
            var (_, reply) = Rotor.Protocols.Ecdsa.Rvole.Respond(aliceSide, session, kos, inputs, session);
            var t0 = Stopwatch.GetTimestamp();
            bob.Finish(reply, session);
            finishTicks += Stopwatch.GetTimestamp() - t0;
            finishRuns++;
        });
        Console.WriteLine($"{"  of which Finish alone",-40} {finishTicks * 1e6 / Stopwatch.Frequency / finishRuns,10:0.000} us");
        var row = new Rotor.Protocols.Ecdsa.Gf128(1, 2);
        var outRow = new Rotor.Crypto.Groups.Scalar[4];
        T("one row's four scalars (Keccak + reduction)", 100000, () => Rotor.Protocols.Ecdsa.OtHash.RowScalars(g, session, 7, row, outRow));
        return 0;
    }
}
