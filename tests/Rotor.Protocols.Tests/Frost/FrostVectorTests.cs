using System.Text.Json;
using Rotor.Crypto.Sharing;
using Rotor.Crypto.Signatures;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Frost;

/// <summary>
/// RFC 9591 appendix E and ZcashFoundation frost vectors, reproduced byte for byte with the vectors' nonce
/// randomness: nonces, commitments, binding-factor inputs and factors, signature shares, final signature.
/// </summary>
public class FrostVectorTests
{
    [Theory]
    [InlineData("frost/cfrg-poc/frost-ed25519-sha512.json", Scheme.Ed25519)]
    [InlineData("frost/zcash/frost-ed25519.vectors.json", Scheme.Ed25519)]
    [InlineData("frost/zcash/frost-ed25519.vectors-big-identifier.json", Scheme.Ed25519)]
    [InlineData("frost/cfrg-poc/frost-secp256k1-sha256.json", Scheme.Secp256k1)]
    [InlineData("frost/zcash/frost-secp256k1.vectors.json", Scheme.Secp256k1)]
    [InlineData("frost/zcash/frost-secp256k1.vectors-big-identifier.json", Scheme.Secp256k1)]
    [InlineData("frost/zcash/frost-secp256k1-tr.vectors.json", Scheme.Bip340)]
    [InlineData("frost/zcash/frost-secp256k1-tr.vectors-big-identifier.json", Scheme.Bip340)]
    public void ReproducesEveryIntermediateValue(string file, Scheme scheme)
    {
        using var doc = Vectors.Json(file);
        var v = Load(doc.RootElement, scheme);
        var suite = scheme.Ciphersuite();

        var round1 = new Dictionary<Identifier, (SigningNonces Nonces, SigningCommitments Commitments)>();
        foreach (var o in doc.RootElement.GetProperty("round_one_outputs").GetProperty("outputs").EnumerateArray())
        {
            var share = v.Shares[Id(v, o)];
            var hr = Hex(o, "hiding_nonce_randomness");
            var br = Hex(o, "binding_nonce_randomness");
            Assert.Equal(Hex(o, "hiding_nonce"), FrostCore.NonceGenerate(suite, hr, share.SigningShare).ToBytes());
            Assert.Equal(Hex(o, "binding_nonce"), FrostCore.NonceGenerate(suite, br, share.SigningShare).ToBytes());
            var r = FrostSigner.Commit(share, hr, br);
            Assert.Equal(Hex(o, "hiding_nonce_commitment"), r.Commitments.Hiding.ToBytes());
            Assert.Equal(Hex(o, "binding_nonce_commitment"), r.Commitments.Binding.ToBytes());
            round1.Add(share.Identifier, r);
        }
        Assert.Equal(v.Signers, round1.Keys.Order());

        var package = SigningPackage.Create(v.Public, round1.Values.Select(r => r.Commitments), v.Message);
        var ctx = package.Context;
        var raw = package.Commitments.Select(c => new Commitment(c.Identifier, c.Hiding, c.Binding)).ToArray();
        var prefix = FrostCore.BindingFactorPrefix(suite, ctx.GroupKey, raw, v.Message);
        foreach (var o in doc.RootElement.GetProperty("round_one_outputs").GetProperty("outputs").EnumerateArray())
        {
            var id = Id(v, o);
            int i = ctx.IndexOf(id);
            Assert.Equal(Hex(o, "binding_factor_input"), prefix.Concat(id.ToBytes()).ToArray());
            Assert.Equal(Hex(o, "binding_factor"), ctx.BindingFactors[i].ToBytes());
        }

        var shares = new List<SignatureShare>();
        foreach (var o in doc.RootElement.GetProperty("round_two_outputs").GetProperty("outputs").EnumerateArray())
        {
            var id = Id(v, o);
            var z = FrostSigner.Sign(package, round1[id].Nonces, v.Shares[id]);
            Assert.Equal(Hex(o, "sig_share"), z.Share.ToBytes());
            FrostCoordinator.VerifySignatureShare(package, z, v.Public);
            shares.Add(z);
        }

        var sig = FrostCoordinator.Aggregate(package, shares, v.Public);
        Assert.Equal(Hex(doc.RootElement.GetProperty("final_output"), "sig"), sig);
        Assert.True(SchemeSignatures.Verify(scheme, v.Public.GroupPublicKey, v.Message, sig));
        var encodedKey = SchemeKeys.EncodePublicKey(scheme, v.Public.GroupPublicKey);
        Assert.True(scheme switch
        {
            Scheme.Ed25519 => Ed25519Verifier.Verify(encodedKey, v.Message, sig),
            Scheme.Secp256k1 => Rfc9591Verifier.Verify(suite, encodedKey, v.Message, sig),
            _ => Bip340.Verify(encodedKey, v.Message, sig),
        });
        sig[^1] ^= 1;
        Assert.False(SchemeSignatures.Verify(scheme, v.Public.GroupPublicKey, v.Message, sig));
    }

    internal sealed record Vector(PublicKeyPackage Public, Dictionary<Identifier, KeyShare> Shares, Identifier[] Signers, byte[] Message);

    /// <summary>Builds the key package and the key shares of a vector file (key id "vector", epoch 0).</summary>
    internal static Vector Load(JsonElement root, Scheme scheme)
    {
        var g = scheme.Group();
        var inputs = root.GetProperty("inputs");
        int t = int.Parse(root.GetProperty("config").GetProperty("MIN_PARTICIPANTS").GetString()!);
        var groupKey = g.DecodeElement(Hex(inputs, inputs.TryGetProperty("group_public_key", out _) ? "group_public_key" : "verifying_key_key"));
        var secrets = inputs.GetProperty("participant_shares").EnumerateArray().ToDictionary(
            s => Identifier.FromUInt64(g, s.GetProperty("identifier").GetUInt64()),
            s => g.DecodeScalar(Hex(s, "participant_share")));
        var pub = new PublicKeyPackage("vector", scheme, 0, t, secrets.ToDictionary(p => p.Key, p => g.MulBase(p.Value)), groupKey);
        var signers = inputs.GetProperty("participant_list").EnumerateArray().Select(e => Identifier.FromUInt64(g, e.GetUInt64())).ToArray();
        return new Vector(pub, secrets.ToDictionary(p => p.Key, p => KeyShare.Create(pub, p.Key, p.Value)), signers, Hex(inputs, "message"));
    }

    private static Identifier Id(Vector v, JsonElement o) => Identifier.FromUInt64(v.Public.Group, o.GetProperty("identifier").GetUInt64());

    private static byte[] Hex(JsonElement e, string name) => Convert.FromHexString(e.GetProperty(name).GetString()!);
}
