using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Keys.Hd;

namespace Rotor.Coordinator.Tests;

/// <summary>The registry keeps a wallet's chain code; the CLI's derivation from a wallet record is the protocol's.</summary>
public sealed class HdRegistryTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"rotor-hd-{Guid.NewGuid():N}.db");

    public void Dispose() => File.Delete(path);

    [Fact]
    public void The_chain_code_and_internal_key_are_recorded_with_the_wallet_and_absent_for_an_old_one()
    {
        using (var registry = new Registry(path))
        {
            registry.AddNode("cs1", "https://127.0.0.1:1", [1], "aa", "bb");
            registry.CreateQuorum("q", 1, ["cs1"]);
            var epoch = (string id) => new WalletEpoch(id, 0, 1, ["cs1"], new Dictionary<ulong, string> { [1] = "01" }, null);
            registry.AddWallets([(new WalletEntry("new", "bip340", "q", "00", 0, "ab".PadRight(64, '0'), "02".PadRight(66, '1')), epoch("new")),
                                 (new WalletEntry("old", "ed25519", "q", "00", 0), epoch("old"))]);
        }
        using var reopened = new Registry(path);
        var w = reopened.FindWallet("new")!;
        Assert.Equal("ab".PadRight(64, '0'), w.ChainCode);
        Assert.Equal("02".PadRight(66, '1'), w.InternalKey);
        var old = reopened.FindWallet("old")!;
        Assert.Null(old.ChainCode);
        Assert.Null(old.InternalKey);
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    [InlineData(Scheme.EcdsaSecp256k1)]
    public void A_wallet_records_derivation_is_the_protocols_and_a_tampered_internal_key_is_refused(Scheme scheme)
    {
        var pub = DkgRunner.RunInProcess(scheme, "w", 2, 3)[0].Public;
        var (key, _) = Engine.Display(new WalletEntry("w", scheme.Name(), "q", pub.GroupPublicKey.ToHex(), 0));
        var chain = Convert.ToHexStringLower(pub.ChainCode);
        var inner = pub.InternalKey?.ToHex() ?? "";
        foreach (var p in new[] { "m", "m/0/7", "m/3/1/4/1/5" })
        {
            var path = DerivationPath.Parse(p);
            var (child, address) = WalletDerivation.Child("w", scheme.Name(), key, chain, inner, path);
            Assert.Equal(Convert.ToHexStringLower(HdDerivation.ChildPublicKey(pub, path)), child);
            Assert.Equal(Addresses.For(scheme, Convert.FromHexString(child)), address);
            if (scheme == Scheme.EcdsaSecp256k1) Assert.StartsWith("0x", address); // the Ethereum address of the child key
        }
        if (scheme == Scheme.Bip340)
        {
            var other = DkgRunner.RunInProcess(scheme, "w2", 2, 3)[0].Public.InternalKey!.ToHex();
            Assert.Throws<ArgumentException>(() => WalletDerivation.Child("w", scheme.Name(), key, chain, other, DerivationPath.Parse("m/1")));
            Assert.StartsWith("xpub", WalletDerivation.Xpub("w", scheme.Name(), key, chain, inner));
        }
        Assert.Throws<HdUnavailableException>(() => WalletDerivation.Child("w", scheme.Name(), key, "", "", DerivationPath.Parse("m/1")));
        Assert.Equal(key, WalletDerivation.Child("w", scheme.Name(), key, "", "", DerivationPath.Root).PublicKey);
    }
}
