using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Crypto.Signatures;

namespace Rotor.Crypto.Tests.Signatures;

/// <summary>Test-only single-party BIP-340 signer, written from the BIP's default signing algorithm.</summary>
internal static class Bip340ReferenceSigner
{
    public static byte[] PublicKey(ReadOnlySpan<byte> secretKey) =>
        Bip340.XOnly(Secp256k1Group.Instance.MulBase(Secp256k1Group.Instance.DecodeNonZeroScalar(secretKey)));

    public static byte[] Sign(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> auxRand)
    {
        var g = Secp256k1Group.Instance;
        var d0 = g.DecodeNonZeroScalar(secretKey);
        var p = g.MulBase(d0);
        var d = Bip340.HasEvenY(p) ? d0 : -d0;
        var px = Bip340.XOnly(p);
        var t = d.ToBytes();
        var aux = Bip340.TaggedHash("BIP0340/aux", auxRand);
        for (int i = 0; i < t.Length; i++) t[i] ^= aux[i];
        var k0 = g.ReduceWide(Bip340.TaggedHash("BIP0340/nonce", [.. t, .. px, .. message]));
        Assert.False(k0.IsZero);
        var r = g.MulBase(k0);
        var k = Bip340.HasEvenY(r) ? k0 : -k0;
        var rx = Bip340.XOnly(r);
        var e = Bip340.Challenge(rx, px, message);
        byte[] sig = [.. rx, .. (k + e * d).ToBytes()];
        Assert.True(Bip340.Verify(px, message, sig));
        return sig;
    }
}
