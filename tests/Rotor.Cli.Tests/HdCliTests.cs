using Rotor.Protocols;
using Rotor.Protocols.Frost;

namespace Rotor.Cli.Tests;

/// <summary>Derivation paths on the command line: simulate --path signs under the child key in every epoch; bad paths are refused by name.</summary>
public class HdCliTests
{
    [Theory]
    [InlineData("ed25519")]
    [InlineData("secp256k1")]
    [InlineData("bip340")]
    public void Simulate_with_a_path_signs_under_the_child_key_in_every_epoch(string scheme)
    {
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", scheme, "--threshold", "2", "--members", "3",
            "--sign", "68656c6c6f", "--path", "m/0/7", "--refresh", "--restructure", "1,2,4:2", "--repair", "4");
        Assert.Equal(0, code);
        Assert.Equal("m/0/7", (string)json["path"]!);
        var child = Convert.FromHexString((string)json["publicKey"]!);
        Assert.NotEqual((string)json["groupPublicKey"]!, (string)json["publicKey"]!);
        Assert.Equal(SchemeKeys.PublicKeyLength(Schemes.Parse(scheme)), child.Length);
        var epochs = json["epochs"]!.AsArray();
        Assert.Equal(3, epochs.Count);
        Assert.All(epochs, e => Assert.Equal((string)json["publicKey"]!, (string)e!["publicKey"]!));
        var all = json["signatures"]!.AsArray().Concat(epochs.SelectMany(e => e!["signatures"]!.AsArray())).ToArray();
        Assert.Equal(4, all.Length);
        foreach (var s in all)
            Assert.True(SchemeSignatures.Verify(Schemes.Parse(scheme), child, Convert.FromHexString((string)s!["message"]!), Convert.FromHexString((string)s["signature"]!)));
    }

    [Theory]
    [InlineData("m/0'/1", "hardened")]
    [InlineData("m/0/2147483648", "2^31")]
    [InlineData("m/1/x", "not a decimal index")]
    [InlineData("1/2", "must start with 'm'")]
    public void Bad_paths_are_refused_by_every_command(string path, string why)
    {
        Assert.Contains(why, BadInputTests.Refused("simulate", "--scheme", "ed25519", "--threshold", "2", "--members", "3", "--path", path));
        Assert.Contains(why, BadInputTests.Refused("wallet", "address", "--wallet", "w", "--path", path));
        Assert.Contains(why, BadInputTests.Refused("sign", "--wallet", "w", "--message", "00", "--path", path));
    }

    [Fact]
    public void A_path_deeper_than_255_steps_is_refused()
    {
        var deep = "m" + string.Concat(Enumerable.Repeat("/3", 256));
        Assert.Contains("at most 255", BadInputTests.Refused("wallet", "address", "--wallet", "w", "--path", deep));
    }
}
