using System.Text.Json;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Crypto.Signatures;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Dkg;

/// <summary>ZcashFoundation frost vectors_dkg.json: a 2-of-3 DKG whose polynomials are given; every output must match.</summary>
public class DkgVectorTests
{
    public static TheoryData<string, Scheme> Files => new()
    {
        { "frost/zcash/frost-ed25519.vectors_dkg.json", Scheme.Ed25519 },
        { "frost/zcash/frost-secp256k1.vectors_dkg.json", Scheme.Secp256k1 },
        { "frost/zcash/frost-secp256k1-tr.vectors_dkg.json", Scheme.Bip340 },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void ReproducesTheVectors(string file, Scheme scheme)
    {
        using var doc = Vectors.Json(file);
        var config = doc.RootElement.GetProperty("config");
        var inputs = doc.RootElement.GetProperty("inputs");
        int n = config.GetProperty("MAX_PARTICIPANTS").GetInt32();
        int t = config.GetProperty("MIN_PARTICIPANTS").GetInt32();
        var group = scheme.Group();
        var suite = scheme.Ciphersuite();
        var ids = TestKeys.Ids(group, n);
        var session = SessionId.ForDkg("vector-key", scheme, ids, t, new byte[SessionId.NonceLength]);
        JsonElement P(Identifier id) => inputs.GetProperty(id.ToString());
        Scalar S(JsonElement e) => group.DecodeScalar(Convert.FromHexString(e.GetString()!));

        // Round 1 with the vectors' polynomials. The proof nonce is not in the file; it is k = μ − a₀·c, and
        // k·G = R confirms the challenge preimage (id ‖ C₀ ‖ R under HDKG).
        var round1 = ids.Select(id =>
        {
            var p = P(id);
            Assert.Equal(id.Value, p.GetProperty("identifier").GetInt32());
            var a0 = S(p.GetProperty("signing_key"));
            var poly = new Polynomial([a0, S(p.GetProperty("coefficient"))]);
            var pok = Convert.FromHexString(p.GetProperty("proof_of_knowledge").GetString()!);
            if (scheme == Scheme.Bip340) pok = [0x02, .. pok]; // frost-secp256k1-tr encodes R x-only, with even y
            var r = group.DecodeElement(pok.AsSpan(0, group.ElementLength));
            var mu = group.DecodeScalar(pok.AsSpan(group.ElementLength));
            var k = mu - a0 * ProofOfKnowledge.Challenge(suite, id, group.MulBase(a0), r);
            Assert.Equal(r, group.MulBase(k));

            var (state, package) = DkgParticipant.Start(session, id, poly, k);
            Assert.Equal(p.GetProperty("vss_commitments").EnumerateArray().Select(c => c.GetString()!),
                package.Commitment.Coefficients.Select(c => c.ToHex()));
            Assert.Equal(pok, package.Proof.ToBytes());
            return (state, package);
        }).ToArray();

        // Round 2: inputs[ℓ].signing_shares[i] is the share ℓ receives from i.
        var round2 = ids.Select((id, i) => round1[i].state.ReceiveRound1(round1.Where((_, j) => j != i).Select(r => r.package))).ToArray();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
            foreach (var (recipient, package) in round2[i].Packages)
                Assert.Equal(P(recipient).GetProperty("signing_shares").GetProperty(id.ToString()).GetString(),
                    Convert.ToHexStringLower(package.Share.ToBytes()));

        var round3 = ids.Select((id, i) => round2[i].State.ReceiveRound2(round2.Where((_, j) => j != i).Select(r => r.Packages[id]))).ToArray();
        var keys = ids.Select((id, i) => round3[i].State.Finish(round3.Where((_, j) => j != i).Select(r => r.Confirmation))).ToArray();

        foreach (var key in keys)
        {
            var p = P(key.Identifier);
            Assert.Equal(p.GetProperty("signing_share").GetString(), Convert.ToHexStringLower(key.SigningShare.ToBytes()));
            Assert.Equal(inputs.GetProperty("verifying_key").GetString(), key.GroupPublicKey.ToHex());
            Assert.Equal(0ul, key.Epoch);
            Assert.Equal("vector-key", key.KeyId);
            foreach (var m in ids)
                Assert.Equal(P(m).GetProperty("verifying_share").GetString(), key.Public.VerifyingShare(m).ToHex());
        }
        var groupSecret = ids.Select(id => S(P(id).GetProperty("signing_key"))).Aggregate((a, b) => a + b);
        if (scheme == Scheme.Bip340)
        {
            // The joint key P commits to no script path: Q = ±P + int(hash_TapTweak(x(P)))·G with ±P of even y.
            var p = group.MulBase(groupSecret);
            var tweak = group.ReduceWide(Bip340.TaggedHash("TapTweak", Bip340.XOnly(p)));
            groupSecret = (Bip340.HasEvenY(p) ? groupSecret : -groupSecret) + tweak;
        }
        Assert.Equal(groupSecret, TestKeys.Interpolate(keys.Take(t)));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void VectorPackagesRoundTripThroughTheWireFormat(string file, Scheme scheme)
    {
        using var doc = Vectors.Json(file);
        var inputs = doc.RootElement.GetProperty("inputs");
        var group = scheme.Group();
        var ids = TestKeys.Ids(group, 3);
        var session = SessionId.ForDkg("vector-key", scheme, ids, 2, new byte[SessionId.NonceLength]);
        foreach (var id in ids)
        {
            var p = inputs.GetProperty(id.ToString());
            var poly = new Polynomial(new[] { p.GetProperty("signing_key"), p.GetProperty("coefficient") }
                .Select(e => group.DecodeScalar(Convert.FromHexString(e.GetString()!))).ToArray());
            var (_, package) = DkgParticipant.Start(session, id, poly, group.RandomScalar());
            var back = Round1Package.Decode(group, package.ToBytes());
            Assert.Equal(package.ToBytes(), back.ToBytes());
            Assert.Equal(package.Commitment, back.Commitment);
            Assert.Equal(id, back.Sender);
            Assert.True(session.Matches(back.Session));
        }
    }
}
