using BenchmarkDotNet.Attributes;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;

namespace Rotor.Bench;

/// <summary>
/// HD wallets (issue 13). Targets: deriving a child key ≤ 50 µs; signing with a derived key ≤ 5 % over the root key.
/// <list type="bullet">
/// <item><see cref="DeriveChildKey"/>: one child key from the root's package with nothing cached (every CKDpub step of
/// the path; bip340 also the two BIP-341 tweaks), what `rotor wallet address` costs for a path never derived before.</item>
/// <item><see cref="DeriveNextAddress"/>: the next address under a parent already derived (the path with a new last
/// index each call): one step, the deposit-address case.</item>
/// <item><see cref="SignRoot"/> and <see cref="SignDerived"/>: FROST 2-of-3 in process, same two signers, root key
/// against the child key at the path: each signer derives its child share (as a node's signing session does) and the
/// coordinator the child package; the path's tweak is cached after the first signing, as in a running node.</item>
/// <item><see cref="DeriveForSigning"/>: what <see cref="SignDerived"/> adds to <see cref="SignRoot"/>, alone.</item>
/// <item><see cref="SignDerivedFirstTime"/>: the same with the caches emptied before each signing (the first signing
/// at a path since the process started).</item>
/// </list>
/// </summary>
public class HdBenchmarks
{
    [ParamsSource(typeof(Quorums), nameof(Quorums.Schemes))]
    public Scheme Scheme { get; set; }

    [Params("m/0/7", "m/44/0/0/1/5")]
    public string Path { get; set; } = "";

    private KeyShare[] all = [];
    private KeyShare[] signers = [];
    private DerivationPath path = DerivationPath.Root;
    private uint[] parent = [];
    private uint next;
    private readonly byte[] message = "benchmark message"u8.ToArray();

    [GlobalSetup]
    public void Setup()
    {
        all = DkgRunner.RunInProcess(Scheme, "bench-hd", 2, 3);
        signers = all.Take(2).ToArray();
        path = DerivationPath.Parse(Path);
        parent = path.Indexes.Take(path.Depth - 1).ToArray();
        _ = HdDerivation.ChildPublicKey(all[0].Public, path); // fixed-base tables built, parent cached
    }

    /// <summary>The child public key at the path from the root package, computed afresh (nothing cached).</summary>
    [Benchmark] public byte[] DeriveChildKey() => HdDerivation.ChildPublicKey(all[0].Public, path, useCache: false);

    /// <summary>The child public key at parent/i for a new i every call, the parent's extended key cached.</summary>
    [Benchmark] public byte[] DeriveNextAddress() =>
        HdDerivation.ChildPublicKey(all[0].Public, DerivationPath.FromIndexes([.. parent, next++ % DerivationPath.HardenedOffset]));

    /// <summary>Signing with the root key (the baseline).</summary>
    [Benchmark(Baseline = true)] public byte[] SignRoot() => FrostCoordinator.SignInProcess(signers, message);

    /// <summary>Signing with the child key: each signer derives its child share, then the same FROST run.</summary>
    [Benchmark] public byte[] SignDerived() => FrostCoordinator.SignInProcess(signers.Select(s => HdDerivation.DeriveShare(s, path)).ToArray(), message);

    /// <summary>
    /// Exactly what a signing at the path adds to a signing with the root, measured alone (the difference of the two
    /// signings is far below their scatter on a shared machine): each signer's child share and the coordinator's child
    /// package, the path used before (cached), plus the verification shares of the signers (which the coordinator
    /// computes only to blame a bad share).
    /// </summary>
    [Benchmark] public object DeriveForSigning()
    {
        var shares = signers.Select(s => HdDerivation.DeriveShare(s, path)).ToArray();
        var package = HdDerivation.DerivePackage(all[0].Public, path);
        foreach (var s in shares) _ = package.VerifyingShare(s.Identifier);
        return package;
    }

    /// <summary><see cref="SignDerived"/> with the derivation caches emptied first.</summary>
    [Benchmark] public byte[] SignDerivedFirstTime()
    {
        HdDerivation.ClearCache();
        return FrostCoordinator.SignInProcess(signers.Select(s => HdDerivation.DeriveShare(s, path)).ToArray(), message);
    }
}

/// <summary>
/// `Rotor.Bench hd-cpu`: the operations of <see cref="HdBenchmarks"/> timed by the process's CPU time instead of the
/// wall clock (one thread does the work), which stays close to the idle machine's wall-clock figure when other work
/// shares the cores; on an idle machine the two agree. Prints per-operation microseconds. Arguments: a scale factor
/// for the iteration counts (default 1), and <c>derive</c> to time only the two derivations (for profiling).
/// </summary>
public static class HdCpuTimer
{
    public static int Run(string[] args)
    {
        int scale = args.Length > 0 && int.TryParse(args[0], out var s) ? s : 1;
        bool deriveOnly = args.Contains("derive");
        if (args.Contains("micro")) { HdFieldMicro.Run(); return 0; }
        Console.WriteLine($"load: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{"scheme",-10} {"path",-14} {"operation",-22} {"CPU µs/op",12} {"wall µs/op",12}");
        foreach (var scheme in Quorums.Schemes())
            foreach (var p in new[] { "m/0/7", "m/44/0/0/1/5" })
            {
                var b = new HdBenchmarks { Scheme = scheme, Path = p };
                b.Setup();
                Time(scheme, p, "DeriveChildKey", 1000 * scale, () => b.DeriveChildKey());
                Time(scheme, p, "DeriveNextAddress", 1000 * scale, () => b.DeriveNextAddress());
                if (deriveOnly) continue;
                Time(scheme, p, "DeriveForSigning", 10000 * scale, () => b.DeriveForSigning());
                Time(scheme, p, "SignRoot", 200 * scale, () => b.SignRoot());
                Time(scheme, p, "SignDerived", 200 * scale, () => b.SignDerived());
                Time(scheme, p, "SignDerivedFirstTime", 200 * scale, () => b.SignDerivedFirstTime());
            }
        Console.WriteLine($"load: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static void Time(Scheme scheme, string path, string name, int n, Func<object> op)
    {
        for (int i = 0; i < Math.Max(10, n / 10); i++) op();
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var wall = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < n; i++) op();
        wall.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalMicroseconds / n;
        Console.WriteLine($"{scheme,-10} {path,-14} {name,-22} {cpu,12:F1} {wall.Elapsed.TotalMicroseconds / n,12:F1}");
    }
}

/// <summary>`Rotor.Bench hd-cpu micro`: the secp256k1 fixed-base field operations alone, CPU time per call (profiling aid).</summary>
public static class HdFieldMicro
{
    public static void Run()
    {
        var rng = new Random(1);
        var v = new Rotor.Crypto.Groups.UInt256[64];
        for (int i = 0; i < v.Length; i++)
        {
            var b = new byte[32];
            rng.NextBytes(b);
            b[0] &= 0x7F;
            v[i] = Rotor.Crypto.Groups.UInt256.FromBigEndian(b);
        }
        var g = Rotor.Crypto.Groups.Secp256k1.Secp256k1Group.Instance;
        var k = g.RandomScalar();
        var p = g.AddMulBaseVartime(g.Generator, k);
        Time("Mul", 2_000_000, i => { var r = Rotor.Crypto.Groups.Secp256k1.Secp256k1FixedBase.Mul(v[i & 63], v[(i + 1) & 63]); v[i & 63] = r; });
        Time("Sqr", 2_000_000, i => { var r = Rotor.Crypto.Groups.Secp256k1.Secp256k1FixedBase.Sqr(v[i & 63]); v[i & 63] = r; });
        Time("Sub", 2_000_000, i => { var r = Rotor.Crypto.Groups.Secp256k1.Secp256k1FixedBase.Sub(v[i & 63], v[(i + 1) & 63]); v[(i + 2) & 63] = r; });
        Time("Inverse", 50_000, i => { var r = Rotor.Crypto.Groups.Secp256k1.Secp256k1FixedBase.Inverse(v[i & 63]); v[i & 63] = r; });
        var pm = Rotor.Crypto.Groups.Secp256k1.Secp256k1FixedBase.P;
        Time("binary Euclid inverse", 50_000, i => { var r = Rotor.Crypto.Groups.VartimeInverse.ModInverse(v[i & 63], pm); v[i & 63] = r; });
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var table = Rotor.Crypto.Groups.Secp256k1.Secp256k1FixedBase.BuildTable(Org.BouncyCastle.Crypto.EC.CustomNamedCurves.GetByName("secp256k1").G);
        Console.WriteLine($"table build: {table.Length / 2} points, {table.Length * 32 / 1e6:F2} MB, CPU {(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms, wall {wall.Elapsed.TotalMilliseconds:F0} ms");
        var key = new byte[32];
        var data = new byte[37];
        var mac = new byte[64];
        Time("HMAC-SHA512", 200_000, i => { data[36] = (byte)i; System.Security.Cryptography.HMACSHA512.HashData(key, data, mac); });
        var blk = new byte[128 + 64];
        Time("SHA512 (192 B)", 200_000, i => { blk[0] = (byte)i; System.Security.Cryptography.SHA512.HashData(blk, mac); });
        var hm = new Org.BouncyCastle.Crypto.Macs.HMac(new Org.BouncyCastle.Crypto.Digests.Sha512Digest());
        Time("BC HMac SHA512", 200_000, i => { data[36] = (byte)i; hm.Init(new Org.BouncyCastle.Crypto.Parameters.KeyParameter(key)); hm.BlockUpdate(data, 0, 37); hm.DoFinal(mac, 0); });
        var ih = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA512);
        var pad = new byte[128];
        Time("HMAC via reused SHA512", 200_000, i =>
        {
            data[36] = (byte)i;
            ih.AppendData(pad); ih.AppendData(data); ih.GetHashAndReset(mac);
            ih.AppendData(pad); ih.AppendData(mac); ih.GetHashAndReset(mac);
        });
        var hmacObj = new System.Security.Cryptography.HMACSHA512(key);
        Time("HMACSHA512 instance, rekeyed", 200_000, i => { data[36] = (byte)i; hmacObj.Key = key; hmacObj.TryComputeHash(data, mac, out _); });
        Time("HMAC-SHA512 libsodium", 200_000, i => { data[36] = (byte)i; Rotor.Crypto.Hashing.HmacSha512.Compute(key, data, mac); });
        uint idx = 0;
        Time("DeriveChild", 20_000, i => HdDerivation.DeriveChild(Scheme.Secp256k1, p, key, idx++ & 0x7FFFFFFF));
        Time("AddMulBaseVartime", 20_000, i => { p = g.AddMulBaseVartime(p, k); });
    }

    private static void Time(string name, int n, Action<int> op)
    {
        for (int i = 0; i < n / 10; i++) op(i);
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        for (int i = 0; i < n; i++) op(i);
        process.Refresh();
        Console.WriteLine($"{name,-20} {(process.TotalProcessorTime - cpu0).TotalNanoseconds / n,10:F1} ns");
    }
}
