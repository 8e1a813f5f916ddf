using System.Security.Cryptography;
using Rotor.Crypto.Encodings;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Frost;

namespace Rotor.Protocols.Tests.Ecdsa;

/// <summary>
/// ECDSA wallets checked by the chains' own libraries, independent of Rotor's code: .NET's ECDsa (OpenSSL) verifies
/// r ‖ s; NBitcoin verifies the DER form and derives the same P2WPKH address; Nethereum recovers the wallet's
/// Ethereum address from (digest, r, s, v = 27 + recovery id). Over random (t, n) up to 5-of-7, through refresh,
/// restructure (members added and removed, threshold raised and lowered) and repair, each with the pairwise OT
/// setup redone: the public key and both addresses never change, and every epoch's old key shares are refused.
/// </summary>
public class EcdsaChainTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static Identifier Id(ulong i) => Identifier.FromUInt64(G, i);

    /// <summary>What the chains' libraries say about a signature of <paramref name="digest"/> by the key.</summary>
    private static void ChainsAccept(Element key, byte[] digest, EcdsaSignature sig, string ethereum, string bitcoin)
    {
        var rs = sig.ToBytes();
        Assert.True(EcdsaSignature.IsLowS(sig.S));
        Assert.True(EcdsaCheck.DotNetVerifies(key, digest, rs));
        Assert.True(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, key, digest, rs));

        var pub = new NBitcoin.PubKey(key.ToBytes());
        Assert.True(pub.Verify(new NBitcoin.uint256(digest), new NBitcoin.Crypto.ECDSASignature(sig.ToDer())));
        Assert.True(NBitcoin.Crypto.ECDSASignature.FromDER(sig.ToDer()).IsLowS);
        Assert.Equal(bitcoin, pub.GetAddress(NBitcoin.ScriptPubKeyType.Segwit, NBitcoin.Network.Main).ToString());

        var ethSig = Nethereum.Signer.EthECDSASignatureFactory.FromComponents(sig.R, sig.S, (byte)(27 + sig.RecoveryId));
        Assert.Equal(ethereum, Nethereum.Signer.EthECKey.RecoverFromSignature(ethSig, digest).GetPublicAddress());
        Assert.Equal(key, EcdsaRecovery.Recover(digest, rs, sig.RecoveryId));
        Assert.Equal(sig.RecoveryId, EcdsaRecovery.RecoveryId(key, digest, rs));

        // the other recovery id gives another address: v is not a constant that happens to work
        var wrong = Nethereum.Signer.EthECDSASignatureFactory.FromComponents(sig.R, sig.S, (byte)(28 - sig.RecoveryId));
        Assert.NotEqual(ethereum, Nethereum.Signer.EthECKey.RecoverFromSignature(wrong, digest).GetPublicAddress());
        // and another digest does not verify anywhere
        var other = (byte[])digest.Clone();
        other[31] ^= 1;
        Assert.False(EcdsaCheck.DotNetVerifies(key, other, rs));
        Assert.False(pub.Verify(new NBitcoin.uint256(other), new NBitcoin.Crypto.ECDSASignature(sig.ToDer())));
        Assert.Null(EcdsaRecovery.RecoveryId(key, other, rs));
    }

    private static EcdsaKeyShare[] Pick(IReadOnlyList<EcdsaKeyShare> keys, int count) =>
        keys.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).Take(count).ToArray();

    private static void SignAndCheck(EcdsaKeyShare[] keys, string ethereum, string bitcoin, string what)
    {
        var key = keys[0].Public.GroupPublicKey;
        var signers = Pick(keys, Math.Max(2, keys[0].Public.Threshold));
        var digest = ChainAddresses.Keccak256(System.Text.Encoding.UTF8.GetBytes($"{what}: {Convert.ToHexString(RandomNumberGenerator.GetBytes(8))}"));
        ChainsAccept(key, digest, EcdsaRunner.Sign(signers, digest), ethereum, bitcoin);
    }

    /// <summary>One old share among new ones: refused by name (StaleShare), or, for a member no longer in the epoch, as not a member.</summary>
    private static void OldSharesRefused(EcdsaKeyShare[] older, EcdsaKeyShare[] newer)
    {
        foreach (var stale in older)
        {
            var fresh = Pick(newer.Where(k => k.Identifier != stale.Identifier).ToArray(), Math.Max(2, newer[0].Public.Threshold) - 1);
            var digest = SHA256.HashData("stale"u8);
            if (newer[0].Public.IsMember(stale.Identifier))
            {
                var e = Assert.Throws<ProtocolException>(() => EcdsaRunner.Sign([.. fresh, stale], digest));
                Assert.Equal(Fault.StaleShare, e.Fault);
                Assert.Contains(stale.Identifier, e.Culprits);
            }
            else
            {
                var e = Assert.Throws<ArgumentException>(() => EcdsaRunner.Sign([.. fresh, stale], digest));
                Assert.Contains($"signer {stale.Identifier} is not a member", e.Message);
            }
        }
    }

    public static TheoryData<int, int> Sizes()
    {
        // (2, 2) and (5, 7) always; two more drawn at random with 2 ≤ t ≤ n ≤ 7
        var data = new TheoryData<int, int> { { 2, 2 }, { 5, 7 } };
        for (int i = 0; i < 2; i++)
        {
            int n = Random.Shared.Next(2, 8);
            data.Add(Random.Shared.Next(2, n + 1), n);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Signatures_and_addresses_hold_through_refresh_restructure_and_repair(int t, int n)
    {
        var keyId = $"chain-{t}-of-{n}";
        var epoch0 = EcdsaRunner.Setup(DkgRunner.RunInProcess(Scheme.EcdsaSecp256k1, keyId, t, n));
        Assert.Equal(Scheme.EcdsaSecp256k1, epoch0[0].Share.Scheme);
        var key = epoch0[0].Public.GroupPublicKey;
        var compressed = SchemeKeys.EncodePublicKey(Scheme.EcdsaSecp256k1, key);
        var ethereum = Addresses.For(Scheme.EcdsaSecp256k1, compressed);
        var bitcoin = Addresses.ByChain(Scheme.EcdsaSecp256k1, compressed)!["bitcoin"];
        Assert.StartsWith("0x", ethereum);
        Assert.StartsWith("bc1q", bitcoin);
        SignAndCheck(epoch0, ethereum, bitcoin, "dkg");

        void Same(EcdsaKeyShare[] keys)
        {
            Assert.All(keys, k => Assert.Equal(key, k.Public.GroupPublicKey));
            var c = SchemeKeys.EncodePublicKey(Scheme.EcdsaSecp256k1, keys[0].Public.GroupPublicKey);
            Assert.Equal(ethereum, Addresses.For(Scheme.EcdsaSecp256k1, c));
            Assert.Equal(bitcoin, Addresses.ByChain(Scheme.EcdsaSecp256k1, c)!["bitcoin"]);
        }

        // refresh: same members, same threshold, every share and every pair's OT material new
        var members = epoch0[0].Share.Members.ToArray();
        var epoch1 = EcdsaRunner.Reshare(Pick(epoch0, t), members, t);
        Same(epoch1);
        SignAndCheck(epoch1, ethereum, bitcoin, "refresh");
        OldSharesRefused(epoch0, epoch1);

        // restructure: member 1 out, members n+1 and n+2 in, threshold raised by one
        var grown = members.Skip(1).Append(Id((ulong)n + 1)).Append(Id((ulong)n + 2)).ToArray();
        var epoch2 = EcdsaRunner.Reshare(Pick(epoch1, t), grown, t + 1);
        Same(epoch2);
        Assert.Equal(t + 1, epoch2[0].Public.Threshold);
        SignAndCheck(epoch2, ethereum, bitcoin, "restructure up");
        OldSharesRefused(epoch1, epoch2);

        // restructure: down to t members... with the threshold lowered to max(2, t − 1)
        var shrunk = grown.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).Take(Math.Max(2, t)).ToArray();
        var lowered = Math.Max(2, t - 1);
        var epoch3 = EcdsaRunner.Reshare(Pick(epoch2, t + 1), shrunk, lowered);
        Same(epoch3);
        Assert.Equal(lowered, epoch3[0].Public.Threshold);
        SignAndCheck(epoch3, ethereum, bitcoin, "restructure down");
        OldSharesRefused(epoch2, epoch3);

        // repair one member from the others (needs threshold others): it and its pairs are new, the key is not
        if (epoch3.Length - 1 >= lowered)
        {
            var target = epoch3[RandomNumberGenerator.GetInt32(epoch3.Length)].Identifier;
            var repaired = EcdsaRunner.Repair(epoch3.Where(k => k.Identifier != target).OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).ToArray(), target);
            Same(repaired);
            var fixedShare = repaired.Single(k => k.Identifier == target);
            ChainsAccept(key, SHA256.HashData("after repair"u8),
                EcdsaRunner.Sign([fixedShare, .. Pick(repaired.Where(k => k.Identifier != target).ToArray(), Math.Max(2, lowered) - 1)], SHA256.HashData("after repair"u8)),
                ethereum, bitcoin);
            // the lost share's old pair material is useless with the repaired member's new pairs
            var old = epoch3.Single(k => k.Identifier == target);
            var peer = repaired.First(k => k.Identifier != target);
            Assert.ThrowsAny<ProtocolException>(() => EcdsaRunner.Sign([peer, old, .. Pick(repaired.Where(k => k.Identifier != target && k.Identifier != peer.Identifier).ToArray(), Math.Max(0, lowered - 2))], SHA256.HashData("old pairs"u8)));
        }
    }

    [Fact]
    public void Derived_keys_have_the_addresses_NBitcoin_and_Nethereum_derive()
    {
        var pub = DkgRunner.RunInProcess(Scheme.EcdsaSecp256k1, "hd-addresses", 2, 3)[0].Public;
        var xpub = NBitcoin.ExtPubKey.Parse(Rotor.Protocols.Keys.Hd.ExtendedPublicKey.Root(pub), NBitcoin.Network.Main);
        foreach (var (path, keyPath) in new[] { ("m/0/7", "0/7"), ("m/1/2/3", "1/2/3") })
        {
            var child = Rotor.Protocols.Keys.Hd.HdDerivation.ChildPublicKey(pub, Rotor.Protocols.Keys.Hd.DerivationPath.Parse(path));
            var nb = xpub.Derive(new NBitcoin.KeyPath(keyPath)).PubKey;
            Assert.Equal(nb.ToBytes(), child);
            Assert.Equal(nb.GetAddress(NBitcoin.ScriptPubKeyType.Segwit, NBitcoin.Network.Main).ToString(), Addresses.ByChain(Scheme.EcdsaSecp256k1, child)!["bitcoin"]);
            Assert.Equal(new Nethereum.Signer.EthECKey(nb.Decompress().ToBytes(), false).GetPublicAddress(), Addresses.For(Scheme.EcdsaSecp256k1, child));
        }
    }

    [Fact]
    public void Frost_lookups_refuse_an_ecdsa_key_by_name()
    {
        var e = Assert.Throws<ProtocolException>(() => Scheme.EcdsaSecp256k1.Ciphersuite());
        Assert.Equal(Fault.InvalidUsage, e.Fault);
        Assert.Contains("ecdsa-secp256k1", e.Message);
        var shares = DkgRunner.RunInProcess(Scheme.EcdsaSecp256k1, "no-frost", 2, 2);
        var f = Assert.Throws<ProtocolException>(() => FrostCoordinator.SignInProcess(shares, new byte[32]));
        Assert.Contains("not FROST", f.Message);
        Assert.Equal(64, SchemeSignatures.Length(Scheme.EcdsaSecp256k1));
        Assert.Equal(33, SchemeKeys.PublicKeyLength(Scheme.EcdsaSecp256k1));
        Assert.True(Schemes.TryParse("ECDSA-secp256k1", out var s) && s == Scheme.EcdsaSecp256k1);
        Assert.Equal("ecdsa-secp256k1", Scheme.EcdsaSecp256k1.Name());
    }

    [Fact]
    public void Ecdsa_verification_by_scheme_refuses_other_digest_lengths_and_bad_keys()
    {
        var keys = EcdsaRunner.Setup(DkgRunner.RunInProcess(Scheme.EcdsaSecp256k1, "lengths", 2, 2));
        var key = SchemeKeys.EncodePublicKey(Scheme.EcdsaSecp256k1, keys[0].Public.GroupPublicKey);
        var digest = SHA256.HashData("x"u8);
        var sig = EcdsaRunner.Sign(keys, digest).ToBytes();
        Assert.True(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, key, digest, sig));
        Assert.False(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, key, digest[..31], sig));
        Assert.False(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, key, [.. digest, 0], sig));
        Assert.False(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, key, digest, sig[..63]));
        Assert.False(SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, new byte[33], digest, sig));
        Assert.Throws<ArgumentException>(() => EcdsaRunner.Sign(keys, digest[..31]));
    }
}
