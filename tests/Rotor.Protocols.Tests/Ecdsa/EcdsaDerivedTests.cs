using System.Security.Cryptography;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Keys.Hd;
using Xunit;

namespace Rotor.Protocols.Tests.Ecdsa;

/// <summary>
/// HD signing with the root epoch's OT material (what the nodes do for `sign --path`): the share is tweaked in memory
/// (EcdsaKeyShare.Derive), the OT material stays the root's, and the signature verifies under the BIP-32 child key.
/// </summary>
public class EcdsaDerivedTests
{
    private static EcdsaSignature SignDerived(IReadOnlyList<EcdsaKeyShare> signers, DerivationPath path, byte[] digest)
    {
        var derived = signers.Select(s => s.Derive(path)).ToArray();
        var package = HdDerivation.DerivePackage(signers[0].Public, path);
        var session = new EcdsaSignSession(package, derived.Select(d => d.Identifier).ToArray(), digest);
        var states = new EcdsaSigner[derived.Length];
        var r1 = new List<EcdsaSignRound1>();
        for (int i = 0; i < derived.Length; i++)
        {
            var (st, msgs) = EcdsaSigner.Start(derived[i], session);
            states[i] = st;
            r1.AddRange(msgs);
        }
        return EcdsaPresignTests.Finish(session, states, r1);
    }

    [Fact]
    public void A_derived_key_signs_with_the_root_OT_material_and_verifies_under_the_child_key()
    {
        var keys = EcdsaRunner.Keygen("hd-ecdsa-root", 2, 3);
        var digest = SHA256.HashData("derived"u8);
        foreach (var path in new[] { "m/0/7", "m/1/2/3" }.Select(DerivationPath.Parse))
        foreach (var pair in new[] { new[] { 0, 1 }, new[] { 1, 2 } })
        {
            var sig = SignDerived(pair.Select(i => keys[i]).ToArray(), path, digest);
            var child = HdDerivation.Tweak(keys[0].Public, path).ChildKey;
            Assert.True(EcdsaSignature.Verify(child, digest, sig.ToBytes()));
            Assert.False(EcdsaSignature.Verify(keys[0].Public.GroupPublicKey, digest, sig.ToBytes()));
        }
    }

    [Fact]
    public void A_derived_share_is_refused_for_a_signing_of_the_root_package()
    {
        var keys = EcdsaRunner.Keygen("hd-ecdsa-mix", 2, 2);
        var session = new EcdsaSignSession(keys[0].Public, keys.Select(k => k.Identifier).ToArray(), new byte[32]);
        var e = Assert.Throws<ProtocolException>(() => EcdsaSigner.Start(keys[0].Derive(DerivationPath.Parse("m/3")), session));
        Assert.Equal(Fault.StaleShare, e.Fault);
    }
}
