using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Rotor.Cli.Commands;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Ecdsa;
using Rotor.Rpc.Coordinator;

namespace Rotor.Cli.Tests;

/// <summary>
/// <c>rotor simulate --scheme ecdsa-secp256k1</c> checked by the chains' own libraries: every r ‖ s verifies with
/// .NET's ECDsa (OpenSSL, secP256k1) and NBitcoin, NBitcoin derives the same P2WPKH address, Nethereum recovers the
/// shown Ethereum address from (digest, r, s, v = 27 + recoveryId); the key and addresses are those of every epoch.
/// Digests of any other length than 32 bytes are refused by name. And the sign command's rendering of ECDSA replies.
/// </summary>
public class EcdsaCliTests
{
    private static void ChainsAccept(byte[] key, string ethereum, string bitcoin, JsonNode s)
    {
        var digest = Convert.FromHexString((string)s["message"]!);
        var rs = Convert.FromHexString((string)s["signature"]!);
        var v = (int)s["recoveryId"]!;
        Assert.Equal(32, digest.Length);
        Assert.Equal(64, rs.Length);
        Assert.InRange(v, 0, 1);
        Assert.True((bool)s["verified"]!);

        var pub = new NBitcoin.PubKey(key);
        using (var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.CreateFromFriendlyName("secP256k1"),
            Q = new ECPoint { X = pub.Decompress().ToBytes()[1..33], Y = pub.Decompress().ToBytes()[33..] },
        }))
        {
            Assert.True(ecdsa.VerifyHash(digest, rs));
            var other = (byte[])digest.Clone();
            other[31] ^= 1;
            Assert.False(ecdsa.VerifyHash(other, rs));
        }

        var nb = new NBitcoin.Crypto.ECDSASignature(Der(rs));
        Assert.True(nb.IsLowS);
        Assert.True(pub.Verify(new NBitcoin.uint256(digest), nb));
        Assert.Equal(bitcoin, pub.GetAddress(NBitcoin.ScriptPubKeyType.Segwit, NBitcoin.Network.Main).ToString());

        var eth = Nethereum.Signer.EthECDSASignatureFactory.FromComponents(rs[..32], rs[32..], (byte)(27 + v));
        Assert.Equal(ethereum, Nethereum.Signer.EthECKey.RecoverFromSignature(eth, digest).GetPublicAddress());
    }

    /// <summary>DER of r ‖ s, written here (not Rotor's ToDer) so NBitcoin reads what the CLI printed.</summary>
    private static byte[] Der(byte[] rs)
    {
        static byte[] Int(byte[] v)
        {
            var body = v.SkipWhile(b => b == 0).ToArray();
            if (body.Length == 0 || body[0] >= 0x80) body = [0, .. body];
            return [0x02, (byte)body.Length, .. body];
        }
        byte[] r = Int(rs[..32]), s = Int(rs[32..]);
        return [0x30, (byte)(r.Length + s.Length), .. r, .. s];
    }

    public static TheoryData<int, int> Sizes()
    {
        var data = new TheoryData<int, int> { { 5, 7 } };
        int n = Random.Shared.Next(2, 7);
        data.Add(Random.Shared.Next(1, n + 1), n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Simulated_signatures_verify_with_NBitcoin_Nethereum_and_dotnet_in_every_epoch(int t, int n)
    {
        var digest1 = Convert.ToHexStringLower(Nethereum.Util.Sha3Keccack.Current.CalculateHash(System.Text.Encoding.UTF8.GetBytes("transfer 1 ETH")));
        var digest2 = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var newMembers = string.Join(",", Enumerable.Range(2, n)); // member 1 out, member n+1 in
        var newThreshold = Math.Max(1, Math.Min(n - 1, t + 1));    // raised where the repair after it still has enough helpers
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", "ecdsa-secp256k1", "--threshold", t.ToString(), "--members", n.ToString(),
            "--sign", digest1, "--sign", digest2, "--refresh", "--restructure", $"{newMembers}:{newThreshold}", "--repair", "2");
        Assert.Equal(0, code);
        Assert.Equal("ecdsa-secp256k1", (string)json["scheme"]!);
        var key = Convert.FromHexString((string)json["groupPublicKey"]!);
        Assert.Equal(33, key.Length);
        Assert.Equal((string)json["groupPublicKey"]!, (string)json["publicKey"]!);
        var ethereum = (string)json["addresses"]!["ethereum"]!;
        var bitcoin = (string)json["addresses"]!["bitcoin"]!;
        Assert.Equal(ethereum, (string)json["address"]!);  // Ethereum is the primary address
        Assert.Equal(new Nethereum.Signer.EthECKey(new NBitcoin.PubKey(key).Decompress().ToBytes(), false).GetPublicAddress(), ethereum);

        var epochs = json["epochs"]!.AsArray();
        Assert.Equal(3, epochs.Count);
        Assert.All(epochs, e => Assert.Equal((string)json["groupPublicKey"]!, (string)e!["groupPublicKey"]!));
        Assert.True((bool)epochs[0]!["staleShardsRefused"]!);
        Assert.True((bool)epochs[1]!["staleShardsRefused"]!);
        Assert.True((bool)epochs[2]!["staleShardsRefused"]!);
        var all = json["signatures"]!.AsArray().Select(s => (Signature: s, Threshold: t))
            .Concat(epochs.SelectMany(e => e!["signatures"]!.AsArray().Select(s => (Signature: s, Threshold: (int)e["threshold"]!)))).ToArray();
        Assert.Equal(2 * 4, all.Length);
        foreach (var (s, threshold) in all)
        {
            ChainsAccept(key, ethereum, bitcoin, s!);
            Assert.Equal(Math.Max(2, threshold), s!["signers"]!.AsArray().Count);
        }
    }

    [Fact]
    public void Simulate_with_a_path_signs_under_the_child_key_and_shows_its_addresses()
    {
        var digest = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", "ecdsa-secp256k1", "--threshold", "2", "--members", "3",
            "--sign", digest, "--refresh", "--path", "m/0/7");
        Assert.Equal(0, code);
        var child = Convert.FromHexString((string)json["publicKey"]!);
        Assert.NotEqual((string)json["groupPublicKey"]!, (string)json["publicKey"]!);
        Assert.Equal((string)json["publicKey"]!, (string)json["epochs"]![0]!["publicKey"]!);
        var ethereum = (string)json["addresses"]!["ethereum"]!;
        var bitcoin = (string)json["addresses"]!["bitcoin"]!;
        Assert.Equal(ethereum, (string)json["address"]!);
        foreach (var s in json["signatures"]!.AsArray().Concat(json["epochs"]![0]!["signatures"]!.AsArray()))
            ChainsAccept(child, ethereum, bitcoin, s!);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void Digests_of_another_length_are_refused_naming_the_length(int length)
    {
        var hex = length == 0 ? "" : Convert.ToHexStringLower(new byte[length]);
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", "ecdsa-secp256k1", "--threshold", "2", "--members", "3", "--sign", hex);
        Assert.NotEqual(0, code);
        var error = (string)json["error"]!;
        Assert.Contains("32-byte digest", error);
        Assert.Contains($"got {length} byte", error);
    }

    [Fact]
    public void One_member_is_refused_for_ecdsa()
    {
        var (code, json) = RotorProcess.RunJson("simulate", "--scheme", "ecdsa-secp256k1", "--threshold", "1", "--members", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("at least 2 members", (string)json["error"]!);
    }

    [Fact]
    public void Sign_replies_of_ecdsa_wallets_show_r_s_and_the_recovery_id()
    {
        var keys = EcdsaRunner.Setup(DkgRunner.RunInProcess(Scheme.EcdsaSecp256k1, "render", 2, 2));
        var pk = Convert.ToHexStringLower(keys[0].Public.GroupPublicKey.ToBytes());
        var digest = RandomNumberGenerator.GetBytes(32);
        var sig = EcdsaRunner.Sign(keys, digest);
        SignReply Reply(byte[] signature, string key, int? recoveryId = null)
        {
            var r = new SignReply
            {
                WalletId = "w", Scheme = "ecdsa-secp256k1", Epoch = 0, Message = ByteString.CopyFrom(digest),
                Signature = ByteString.CopyFrom(signature), PublicKey = key,
            };
            if (recoveryId is { } v) r.RecoveryId = (uint)v;
            return r;
        }

        var json = Records.Signature(Reply(sig.ToBytes(), pk));
        Assert.Equal(Convert.ToHexStringLower(sig.ToBytes()), (string)json["signature"]!);
        Assert.Equal(sig.RecoveryId, (int)json["recoveryId"]!);
        Assert.StartsWith("0x", (string)json["addresses"]!["ethereum"]!);
        Assert.StartsWith("bc1q", (string)json["addresses"]!["bitcoin"]!);

        // the service's recovery_id, when it agrees, is the one shown
        Assert.Equal(sig.RecoveryId, (int)Records.Signature(Reply(sig.ToBytes(), pk, sig.RecoveryId))["recoveryId"]!);
        // a recovery_id that disagrees, another key, or another digest: no recovery id is claimed
        Assert.Null(Records.Signature(Reply(sig.ToBytes(), pk, 1 - sig.RecoveryId))["recoveryId"]);
        var other = Convert.ToHexStringLower(EcdsaRunner.Setup(DkgRunner.RunInProcess(Scheme.EcdsaSecp256k1, "other", 2, 2))[0].Public.GroupPublicKey.ToBytes());
        Assert.Null(Records.Signature(Reply(sig.ToBytes(), other))["recoveryId"]);
        var tampered = Reply(sig.ToBytes(), pk);
        tampered.Message = ByteString.CopyFrom(SHA256.HashData(digest));
        Assert.Null(Records.Signature(tampered)["recoveryId"]);

        // FROST schemes are unchanged: no recoveryId, no addresses
        var frost = Records.Signature(new SignReply { Scheme = "ed25519", Signature = ByteString.CopyFrom(new byte[64]), Message = ByteString.CopyFrom(digest) });
        Assert.False(frost.ContainsKey("recoveryId"));
        Assert.False(frost.ContainsKey("addresses"));
    }
}
