using System.Text.Json.Nodes;
using Rotor.Crypto.Signatures;
using Rotor.Protocols;

namespace Rotor.Cli.Tests;

public class SimulateTests
{
    [Theory]
    [InlineData("ed25519", 32, 64)]
    [InlineData("secp256k1", 33, 65)]
    [InlineData("bip340", 32, 64)]
    public void SignaturesVerifyUnderTheStandardVerifiersInEveryEpoch(string scheme, int keyBytes, int sigBytes)
    {
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", scheme, "--threshold", "2", "--members", "3",
            "--sign", "68656c6c6f", "--sign", "00", "--refresh", "--restructure", "1,2,4,5:3", "--repair", "2");
        Assert.Equal(0, code);
        Assert.Equal(scheme, (string)json["scheme"]!);
        Assert.Equal(2, (int)json["threshold"]!);
        Assert.Equal(3, (int)json["members"]!);
        var key = Convert.FromHexString((string)json["groupPublicKey"]!);
        Assert.Equal(keyBytes, key.Length);

        var all = json["signatures"]!.AsArray().Concat(json["epochs"]!.AsArray().SelectMany(e => e!["signatures"]!.AsArray())).ToArray();
        Assert.Equal(2 * 4, all.Length);
        foreach (var s in all)
        {
            var sig = Convert.FromHexString((string)s!["signature"]!);
            var msg = Convert.FromHexString((string)s["message"]!);
            Assert.Equal(sigBytes, sig.Length);
            Assert.True(StandardVerify(scheme, key, msg, sig), $"{scheme} signature does not verify");
            // and a signature over another message does not
            Assert.False(StandardVerify(scheme, key, [.. msg, 1], sig));
        }

        var epochs = json["epochs"]!.AsArray();
        Assert.Equal(["refresh", "restructure", "repair"], epochs.Select(e => (string)e!["step"]!).ToArray());
        Assert.Equal([1UL, 2UL, 2UL], epochs.Select(e => (ulong)e!["epoch"]!).ToArray());
        Assert.All(epochs, e => Assert.Equal((string)json["groupPublicKey"]!, (string)e!["groupPublicKey"]!));
        Assert.True((bool)epochs[0]!["staleShardsRefused"]!);
        Assert.True((bool)epochs[1]!["staleShardsRefused"]!);
        Assert.Equal([1, 2, 4, 5], epochs[1]!["members"]!.AsArray().Select(m => (int)m!).ToArray());
        Assert.Equal(3, (int)epochs[1]!["threshold"]!);
        Assert.All(epochs[1]!["signatures"]!.AsArray(), s => Assert.Equal(3, s!["signers"]!.AsArray().Count));
        Assert.Equal(2, (int)epochs[2]!["repaired"]!);
        Assert.True((bool)epochs[2]!["staleShardsRefused"]!);  // member 2's epoch-1 shard, mixed in, is refused
    }

    [Fact]
    public void StepsRunInCommandLineOrder()
    {
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", "ed25519", "--threshold", "1", "--members", "1",
            "--restructure", "1,2,3:2", "--refresh", "--restructure", "2,3:1");
        Assert.Equal(0, code);
        var epochs = json["epochs"]!.AsArray();
        Assert.Equal(["restructure", "refresh", "restructure"], epochs.Select(e => (string)e!["step"]!).ToArray());
        Assert.Equal([2, 2, 1], epochs.Select(e => (int)e!["threshold"]!).ToArray());
        Assert.All(epochs, e => Assert.True((bool)e!["staleShardsRefused"]!));
    }

    [Theory]
    [InlineData("--threshold 4 --members 3", "greater than --members")]
    [InlineData("--threshold 0 --members 3", "at least 1")]
    [InlineData("--threshold 2 --members 3 --sign abc", "--sign must be hex")]
    [InlineData("--threshold 2 --members 3 --sign zz", "--sign must be hex")]
    [InlineData("--threshold 2 --members 3 --restructure 1,2:3", "--restructure: threshold")]
    [InlineData("--threshold 2 --members 3 --restructure 1,2", "MEMBERS:THRESHOLD")]
    [InlineData("--threshold 2 --members 3 --repair 9", "member 9 is not a member")]
    [InlineData("--members 3", "--threshold")]
    public void BadArgumentsGetAClearErrorAndANonZeroExit(string args, string expected)
    {
        var (code, json) = RotorProcess.RunJson(["simulate", "--scheme", "ed25519", .. args.Split(' ')]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, (string)json["error"]!);
    }

    [Fact]
    public void UnknownSchemeIsNamed()
    {
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", "rsa", "--threshold", "2", "--members", "3");
        Assert.NotEqual(0, code);
        Assert.Contains("unknown scheme 'rsa'", (string)json["error"]!);
    }

    private static bool StandardVerify(string scheme, byte[] key, byte[] msg, byte[] sig) => scheme switch
    {
        "ed25519" => Ed25519Verifier.Verify(key, msg, sig),
        "bip340" => Bip340.Verify(key, msg, sig),
        _ => Rfc9591Verifier.Verify(Scheme.Secp256k1.Ciphersuite(), key, msg, sig),
    };
}
