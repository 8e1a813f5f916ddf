using System.Security.Cryptography;
using NBitcoin;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Resharing;
using Rotor.TestSupport;
using Scheme = Rotor.Protocols.Scheme;

namespace Rotor.Protocols.Tests.Hd;

public class HdDerivationTests
{
    private static readonly Scheme[] AllSchemes = [Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340];

    // ------------------------------------------------------------------ BIP-32 vectors (public, non-hardened steps)

    /// <summary>BIP-32 test vectors 1 and 2: every step that CKDpub can take (parent xpub → non-hardened child xpub).</summary>
    [Theory]
    [InlineData("xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB", 0u,
        "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH")]
    [InlineData("xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a", 1u,
        "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon")]
    [InlineData("xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL", 2u,
        "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt")]
    [InlineData("xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw", 1u,
        "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ")]
    public void Bip32_vectors_public_derivation_steps(string parentXpub, uint index, string childXpub)
    {
        var g = Scheme.Secp256k1.Group();
        var parent = Base58Check.Decode(parentXpub)!;
        var child = Base58Check.Decode(childXpub)!;
        Assert.NotNull(parent);
        var (_, key, chain) = HdDerivation.DeriveChild(Scheme.Secp256k1, g.DecodeElement(parent.AsSpan(45, 33)), parent.AsSpan(13, 32), index);
        Assert.Equal(Convert.ToHexString(child.AsSpan(13, 32)), Convert.ToHexString(chain));
        Assert.Equal(Convert.ToHexString(child.AsSpan(45, 33)), Convert.ToHexString(key.Encoding));
        // the root serialisation round-trips byte for byte
        if (parent[4] == 0) Assert.Equal(parentXpub, ExtendedPublicKey.Serialize(0, 0, 0, parent.AsSpan(13, 32), g.DecodeElement(parent.AsSpan(45, 33))));
    }

    // ------------------------------------------------------------------ Edwards (LFDT-Lockness/hd-wallet) vectors

    /// <summary>The non-hardened vectors of LFDT-Lockness/hd-wallet tests/edwards_test_vector.rs (keys as there: secret big-endian).</summary>
    [Theory]
    [InlineData(new uint[] { 0 }, "0542fcce4962a2e1785bc9d183e6d80f754d7ad70251b7d9239b434bc6b117d4", "4fefbecb1d4a584b289e457ffe868d87b27ab421f66e32a078616552a837c7e2")]
    [InlineData(new uint[] { 1 }, "0a25f8ffae098918dff9b24afbe8dae365015f14b4b559f5097684747a62ec97", "0dc358776f744c4d6c282dbca128d123a0ac38fd7cda5cf87805b82c70a0e2cd")]
    [InlineData(new uint[] { 2 }, "0b68998b58f5b96ec64b754d421339869a439c6249b843e78610c675d51f01f9", "d634d478dfb41b9bc8cc6653febd00f89bf5bf8c6f665dbdf541a203abef0882")]
    [InlineData(new uint[] { 1245290303, 456055179, 1419108629, 261968456 }, "089f32db21f3027a39ee9a6bebae1ffa0bd07527120f5fe943a7d6363bd90ff6", "4671c7c639c8421d16488a59618bc4d06dbae56741df740eea6be993eb99f734")]
    [InlineData(new uint[] { 1478344788, 731157828, 912233245, 1553129543 }, "04fe0f016a5b070f49f5b8f76de8862f5520661461b7914463d9ecd81a893f90", "d983da0a4f2a368bbc5ada8af0c5a003adea602c2e7ad1feca60c73401dc606e")]
    public void Edwards_vectors(uint[] path, string childSecretBe, string childPublic)
    {
        var g = Scheme.Ed25519.Group();
        var rootSecret = g.DecodeScalar(Convert.FromHexString("09ba1ad29fabe87a0cf23fec142db2adfb8f9e7089928000dcba5714e08236ec").Reverse().ToArray());
        var rootPublic = g.DecodeElement(Convert.FromHexString("6fa093b0e855f5fdb40d77f6efe9b67b709092a71d73f35de6afc70cac40d57a"));
        Assert.Equal(rootPublic, g.MulBase(rootSecret));
        var chain = Convert.FromHexString("64ae4b48b206ef11f75059af10d209546586baf8418222c6f4b989b75d008ddd");
        var (tweak, child, _) = HdDerivation.DerivePublic(Scheme.Ed25519, rootPublic, chain, DerivationPath.FromIndexes(path));
        Assert.Equal(childPublic, child.ToHex());
        Assert.Equal(childSecretBe, Convert.ToHexStringLower((rootSecret + tweak).ToBytes().Reverse().ToArray()));
    }

    // ------------------------------------------------------------------ NBitcoin agreement

    /// <summary>Rotor's child keys equal NBitcoin's ExtPubKey derivation from the xpub Rotor prints, for random paths up to depth 5.</summary>
    [Theory]
    [InlineData(Scheme.Secp256k1)]
    [InlineData(Scheme.Bip340)]
    public void Derived_keys_equal_NBitcoin_derivation_from_the_printed_xpub(Scheme scheme)
    {
        var pub = DkgRunner.RunInProcess(scheme, "nbitcoin", 2, 3)[0].Public;
        var xpub = ExtendedPublicKey.Root(pub);
        var ext = ExtPubKey.Parse(xpub, Network.Main);
        var rng = new Random(1234);
        for (int k = 0; k < 25; k++)
        {
            var indexes = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => (uint)rng.Next(0, int.MaxValue)).ToArray();
            var path = DerivationPath.FromIndexes(indexes);
            var theirs = ext.Derive(new KeyPath(indexes)).PubKey;
            var mine = HdDerivation.ChildPublicKey(pub, path);
            if (scheme == Scheme.Secp256k1) Assert.Equal(Convert.ToHexString(theirs.ToBytes()), Convert.ToHexString(mine));
            else
            {
                // BIP-86 style: the child is the internal key, its BIP-341 key-path-only tweak is the output key
                var output = theirs.GetTaprootFullPubKey().OutputKey.ToBytes();
                Assert.Equal(Convert.ToHexString(output), Convert.ToHexString(mine));
                Assert.Equal(theirs.GetAddress(ScriptPubKeyType.TaprootBIP86, Network.Main).ToString(),
                    new TaprootPubKey(mine).GetAddress(Network.Main).ToString());
            }
        }
        // the root xpub names the key: for secp256k1 the group key; for bip340 the internal key whose tweak is the group key
        if (scheme == Scheme.Secp256k1) Assert.Equal(Convert.ToHexString(pub.GroupPublicKey.ToBytes()), Convert.ToHexString(ext.PubKey.ToBytes()));
        else Assert.Equal(Convert.ToHexString(SchemeKeys.EncodePublicKey(scheme, pub.GroupPublicKey)), Convert.ToHexString(ext.PubKey.GetTaprootFullPubKey().OutputKey.ToBytes()));
    }

    // ------------------------------------------------------------------ signing under derived keys

    public static TheoryData<Scheme> Schemes => new(AllSchemes);

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Signatures_under_derived_keys_verify_for_several_paths_and_signer_subsets(Scheme scheme)
    {
        var shares = DkgRunner.RunInProcess(scheme, "hd-sign", 3, 5);
        var pub = shares[0].Public;
        Assert.True(pub.HasChainCode);
        int[][] subsets = [[0, 1, 2], [1, 3, 4], [0, 2, 3, 4], [0, 1, 2, 3, 4]];
        string[] paths = ["m", "m/0", "m/0/7", "m/44/0/1/5/9", "m/2147483647"];
        var message = SHA256.HashData("hd wallet"u8);
        foreach (var p in paths)
        {
            var path = DerivationPath.Parse(p);
            var childKey = HdDerivation.ChildPublicKey(pub, path);
            // the tweak on shares is the tweak on the key: the interpolated child secret is the child key's
            var derived = shares.Select(s => HdDerivation.DeriveShare(s, path)).ToArray();
            Assert.Equal(Convert.ToHexString(childKey), Convert.ToHexString(SchemeKeys.EncodePublicKey(scheme, scheme.Group().MulBase(TestKeys.Interpolate(derived.Take(3))))));
            foreach (var subset in subsets)
            {
                var sig = FrostCoordinator.SignInProcess(subset.Select(i => derived[i]).ToArray(), message);
                Assert.True(SchemeSignatures.Verify(scheme, childKey, message, sig), $"{scheme} {p} signers {string.Join(",", subset)}");
                if (scheme == Scheme.Bip340)
                    Assert.True(new TaprootPubKey(childKey).VerifySignature(new uint256(message), NBitcoin.Crypto.SchnorrSignature.Parse(Convert.ToHexStringLower(sig))));
                if (!path.IsRoot) Assert.False(SchemeSignatures.Verify(scheme, pub.GroupPublicKey, message, sig));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void A_share_derived_for_one_path_cannot_sign_for_another(Scheme scheme)
    {
        var shares = DkgRunner.RunInProcess(scheme, "hd-mix", 2, 3);
        var a = HdDerivation.DeriveShare(shares[0], DerivationPath.Parse("m/0/7"));
        var b = HdDerivation.DeriveShare(shares[1], DerivationPath.Parse("m/0/8"));
        var ex = Assert.Throws<ProtocolException>(() => FrostCoordinator.SignInProcess([a, b], new byte[32]));
        Assert.NotNull(ex);
    }

    // ------------------------------------------------------------------ reshares keep every child

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Child_keys_are_the_same_after_refresh_restructure_and_repair(Scheme scheme)
    {
        var shares = DkgRunner.RunInProcess(scheme, "hd-reshare", 2, 3);
        var paths = new[] { "m", "m/0", "m/0/7", "m/1/2/3/4/5" }.Select(DerivationPath.Parse).ToArray();
        string Children(PublicKeyPackage p) => string.Join(",", paths.Select(x => Convert.ToHexString(HdDerivation.ChildPublicKey(p, x))));
        var before = Children(shares[0].Public);
        var chain = shares[0].Public.ChainCode.ToArray();

        var refreshed = Reshare.RunInProcess(shares.Take(2).ToArray(), shares.Select(s => s.Identifier).ToArray(), 2);
        Assert.Equal(before, Children(refreshed[0].Public));
        var g = scheme.Group();
        var five = TestKeys.Ids(g, 5);
        var restructured = Reshare.RunInProcess(refreshed.Skip(1).ToArray(), five, 3);
        Assert.Equal(before, Children(restructured[4].Public));
        var repaired = ShareRepair.RunInProcess(restructured.Take(3).ToArray(), five[4]);
        Assert.Equal(before, Children(repaired.Public));
        Assert.Equal(chain, repaired.Public.ChainCode.ToArray());
        Assert.Equal(restructured[0].Epoch, repaired.Epoch);

        // and the new shares sign for the children
        var path = paths[2];
        var msg = new byte[32];
        var sig = FrostCoordinator.SignInProcess([HdDerivation.DeriveShare(restructured[1], path), HdDerivation.DeriveShare(restructured[3], path), HdDerivation.DeriveShare(repaired, path)], msg);
        Assert.True(SchemeSignatures.Verify(scheme, HdDerivation.ChildPublicKey(shares[0].Public, path), msg, sig));
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void The_chain_code_survives_the_storage_form_and_is_bound_into_the_package_digest(Scheme scheme)
    {
        var share = DkgRunner.RunInProcess(scheme, "hd-store", 2, 3)[0];
        var back = share.ToData().Validate();
        Assert.Equal(share.Public.ChainCode.ToArray(), back.Public.ChainCode.ToArray());
        Assert.Equal(share.Public.Digest, back.Public.Digest);
        var data = share.ToData();
        data.ChainCode[0] ^= 1;
        var altered = data.Validate();
        Assert.NotEqual(share.Public.Digest, altered.Public.Digest);
        data.ChainCode = new byte[31];
        Assert.Throws<ArgumentException>(() => data.Validate());
        if (scheme == Scheme.Bip340)
        {
            var d2 = share.ToData();
            d2.InternalKey = scheme.Group().MulBase(scheme.Group().RandomScalar()).ToBytes();
            Assert.Throws<ArgumentException>(() => d2.Validate());
            d2.InternalKey = [];
            Assert.Throws<ArgumentException>(() => d2.Validate());
        }
    }

    [Fact]
    public void Every_dkg_gives_a_different_chain_code_and_all_members_agree_on_it()
    {
        var a = DkgRunner.RunInProcess(Scheme.Ed25519, "hd-a", 2, 3);
        var b = DkgRunner.RunInProcess(Scheme.Ed25519, "hd-a", 2, 3);
        Assert.All(a, s => Assert.Equal(a[0].Public.ChainCode.ToArray(), s.Public.ChainCode.ToArray()));
        Assert.NotEqual(a[0].Public.ChainCode.ToArray(), b[0].Public.ChainCode.ToArray());
    }

    [Fact]
    public void A_key_without_chain_code_only_signs_at_the_root()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Secp256k1, 2, 3);
        Assert.False(shares[0].Public.HasChainCode);
        Assert.Same(shares[0], HdDerivation.DeriveShare(shares[0], DerivationPath.Root));
        var ex = Assert.Throws<HdUnavailableException>(() => HdDerivation.DeriveShare(shares[0], DerivationPath.Parse("m/0")));
        Assert.Contains("no chain code", ex.Message);
        Assert.Throws<HdUnavailableException>(() => ExtendedPublicKey.Root(shares[0].Public));
    }

    // ------------------------------------------------------------------ bad paths

    [Theory]
    [InlineData("m/0'/1", "hardened")]
    [InlineData("m/0h", "hardened")]
    [InlineData("m/2147483648", "2^31")]
    [InlineData("m/99999999999999999999999", "2^31")]
    [InlineData("0/1", "start with 'm'")]
    [InlineData("m//1", "not a decimal")]
    [InlineData("m/-1", "not a decimal")]
    [InlineData("m/1/", "not a decimal")]
    [InlineData("m/ 1", "not a decimal")]
    [InlineData("", "empty")]
    public void Bad_paths_are_refused_by_name(string text, string why)
    {
        var ex = Assert.Throws<ArgumentException>(() => DerivationPath.Parse(text));
        Assert.Contains(why, ex.Message);
    }

    [Fact]
    public void Paths_deeper_than_the_limit_are_refused()
    {
        Assert.Equal(255, DerivationPath.Parse("m" + string.Concat(Enumerable.Repeat("/1", 255))).Depth);
        var ex = Assert.Throws<ArgumentException>(() => DerivationPath.Parse("m" + string.Concat(Enumerable.Repeat("/1", 256))));
        Assert.Contains("at most 255", ex.Message);
        Assert.Throws<ArgumentException>(() => DerivationPath.FromIndexes(Enumerable.Repeat(1u, 256)));
        Assert.Throws<ArgumentException>(() => DerivationPath.FromIndexes([0x8000_0000u]));
        Assert.Equal("m/0/7", DerivationPath.Parse("m/0/7").ToString());
    }
}

/// <summary>
/// Threshold ECDSA with a derived key: the tweak is added to every member's share (HdDerivation.DeriveShare), the
/// ECDSA protocol runs unchanged on the child shares, and the signature verifies under the BIP-32 child key (Rotor's
/// verifier and NBitcoin's). Here the OT setup is run for the child shares; wiring the tweak into signing with the
/// root's OT material is the ECDSA services' part.
/// </summary>
public class HdEcdsaTests
{
    [Fact]
    public void Ecdsa_signatures_under_a_derived_key_verify_with_standard_verifiers()
    {
        var shares = DkgRunner.RunInProcess(Scheme.Secp256k1, "hd-ecdsa", 2, 3);
        var path = DerivationPath.Parse("m/0/7");
        var child = HdDerivation.DeriveShare(shares[0], path).GroupPublicKey;
        var ecdsa = Rotor.Protocols.Ecdsa.EcdsaRunner.Setup(shares.Select(s => HdDerivation.DeriveShare(s, path)).ToArray());
        var digest = SHA256.HashData("ecdsa under m/0/7"u8);
        foreach (var signers in new[] { new[] { 0, 1 }, new[] { 1, 2 } })
        {
            var sig = Rotor.Protocols.Ecdsa.EcdsaRunner.Sign(signers.Select(i => ecdsa[i]).ToArray(), digest);
            Assert.True(Rotor.Protocols.Ecdsa.EcdsaSignature.Verify(child, digest, sig.ToBytes()));
            var xpubChild = ExtPubKey.Parse(ExtendedPublicKey.Root(shares[0].Public), Network.Main).Derive(new KeyPath("0/7")).PubKey;
            Assert.True(xpubChild.Verify(new uint256(digest), new NBitcoin.Crypto.ECDSASignature(sig.ToDer())));
        }
    }
}
