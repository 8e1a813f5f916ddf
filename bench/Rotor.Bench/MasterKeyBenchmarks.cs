using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Rotor.Node;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Bench;

/// <summary>
/// What the master key provider costs a signature (issue 11: pkcs11 at most 1 ms more than file). A node unwraps its
/// vault root once, when it starts or is unsealed, and keeps the vault key in memory; each signature then reads and
/// decrypts its share from the vault exactly as a file node does. <see cref="SignReadingTheShare"/> measures that
/// (2-of-3 Ed25519: the node's share from its vault, the other signer's from memory); <see cref="Unwrap"/> measures
/// one unwrap through the provider, which is what every signature would pay without the cache. The pkcs11 case makes
/// its own SoftHSM2 token (the softhsm2 package). Run: <c>--filter '*MasterKey*' --job short</c>.
/// </summary>
public class MasterKeyBenchmarks
{
    [Params(MasterKeys.File, MasterKeys.Pkcs11)]
    public string Provider { get; set; } = MasterKeys.File;

    private readonly string dir = Path.Combine(Path.GetTempPath(), "rotor-bench-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly byte[] message = "benchmark message"u8.ToArray();
    private NodeConfig config = null!;
    private ShareVault vault = null!;
    private KeyShare other = null!;

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(dir);
        var choice = new MasterKeyChoice(MasterKeys.File);
        if (Provider == MasterKeys.Pkcs11)
        {
            new SoftHsm(Path.Combine(dir, "hsm"), "bench").Activate();
            SoftHsm.SetEnvironment("ROTOR_BENCH_PIN", SoftHsm.UserPin);
            choice = new MasterKeyChoice(MasterKeys.Pkcs11, new Pkcs11Settings { Library = SoftHsm.Library, Token = "bench", KeyLabel = "bench-key", PinEnv = "ROTOR_BENCH_PIN" });
        }
        var root = RandomNumberGenerator.GetBytes(MasterKeys.RootLength);
        config = MasterKeys.Establish(new NodeConfig { Name = "cs1", Vault = "cs1-vault.db", BaseDir = dir }, choice, root, MasterKeySecrets.None);
        CryptographicOperations.ZeroMemory(root);
        // As at the node's start: unwrap once through the provider, keep the vault (and its key) open.
        var unwrapped = MasterKeys.Unwrap(config, MasterKeySecrets.None);
        vault = ShareVault.Open(config.Resolve(config.Vault), "cs1", unwrapped);
        CryptographicOperations.ZeroMemory(unwrapped);
        var shares = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w1").Shares;
        vault.PutActive([shares[0]]);
        other = shares[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        vault.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    [Benchmark(Baseline = true)]
    public byte[] SignReadingTheShare() => FrostCoordinator.SignInProcess([vault.GetActive("w1")!, other], message);

    [Benchmark]
    public int Unwrap()
    {
        var root = MasterKeys.Unwrap(config, MasterKeySecrets.None);
        CryptographicOperations.ZeroMemory(root);
        return root.Length;
    }
}
