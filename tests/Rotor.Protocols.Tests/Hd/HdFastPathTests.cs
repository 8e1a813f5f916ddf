using System.Buffers.Binary;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Signatures;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;
using Scheme = Rotor.Protocols.Scheme;

namespace Rotor.Protocols.Tests.Hd;

/// <summary>
/// The optimised derivation (fixed-base public steps, the caches of tweaks and prefix extended keys, derived packages
/// with lazy verification shares) against a straightforward one written here from the specifications with the
/// generic group operations (constant-time k·G, generic addition, every share of the child package computed): the
/// same child keys, chain codes, tweaks, verification shares and byte-identical signatures, for random paths and
/// every scheme, cached or not, in any order.
/// </summary>
public class HdFastPathTests
{
    public static TheoryData<Scheme> Schemes => new(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340);

    /// <summary>BIP-32 CKDpub / Edwards steps, the plain way.</summary>
    private static (Scalar Sum, Element Key, byte[] Chain) Straightforward(Scheme scheme, Element root, byte[] chain, IEnumerable<uint> path)
    {
        var g = root.Group;
        var sum = g.Zero;
        var key = root;
        bool edwards = scheme == Scheme.Ed25519;
        foreach (var index in path)
        {
            var data = key.Encoding.ToArray().Concat(edwards ? new byte[] { 0 } : []).Concat(new byte[4]).ToArray();
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(data.Length - 4), index);
            var i = HMACSHA512.HashData(chain, data);
            var t = edwards ? g.ReduceWide(i[..32].Reverse().ToArray()) : g.DecodeScalar(i[..32]);
            key = key + g.MulBase(t);
            chain = i[32..];
            sum += t;
        }
        return (sum, key, chain);
    }

    /// <summary>The tweak the plain way (bip340: BIP-32 on the internal key, then BIP-341 on the child).</summary>
    private static (bool Negate, Scalar Offset, Element Child, byte[] Chain) StraightforwardTweak(PublicKeyPackage root, DerivationPath path)
    {
        var g = root.Group;
        if (root.Scheme != Scheme.Bip340)
        {
            var (d, k, c) = Straightforward(root.Scheme, root.GroupPublicKey, root.ChainCode.ToArray(), path.Indexes);
            return (false, d, k, c);
        }
        Scalar Tap(Element p) => g.ReduceWide(Bip340.TaggedHash("TapTweak", p.Encoding[1..].ToArray()));
        var internalKey = root.InternalKey!;
        var t = Tap(internalKey);
        var (delta, pc, cc) = Straightforward(Scheme.Bip340, internalKey, root.ChainCode.ToArray(), path.Indexes);
        var tc = Tap(pc);
        bool negate = pc.Encoding[0] == 0x03;
        var offset = negate ? t - delta + tc : delta - t + tc;
        return (negate, offset, (negate ? -pc : pc) + g.MulBase(tc), cc);
    }

    private static DerivationPath RandomPath(Random rng) =>
        DerivationPath.FromIndexes(Enumerable.Range(0, rng.Next(1, 6)).Select(_ => rng.Next(3) == 0 ? (uint)rng.Next(0, 4) : (uint)rng.Next(0, int.MaxValue)));

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Cached_and_uncached_tweaks_equal_the_straightforward_derivation_for_random_paths(Scheme scheme)
    {
        var pub = DkgRunner.RunInProcess(scheme, "hd-fast", 2, 3)[0].Public;
        var rng = new Random(0x5eed + (int)scheme);
        // short random indexes make paths share prefixes, so that prefix hits are exercised too
        var paths = Enumerable.Range(0, 30).Select(_ => RandomPath(rng)).ToList();
        paths.AddRange(paths.Take(10).Select(p => DerivationPath.FromIndexes(p.Indexes.Take(Math.Max(1, p.Depth - 1)))));
        HdDerivation.ClearCache();
        for (int round = 0; round < 2; round++)       // round 0 fills the caches, round 1 reads them
            foreach (var path in paths)
            {
                var (negate, offset, child, chain) = StraightforwardTweak(pub, path);
                foreach (var tw in new[] { HdDerivation.Tweak(pub, path), HdDerivation.Tweak(pub, path, useCache: false),
                                           HdDerivation.Tweak(scheme, pub.KeyId, pub.GroupPublicKey, pub.ChainCode.ToArray(), pub.InternalKey, path) })
                {
                    Assert.Equal(Convert.ToHexString(child.Encoding), Convert.ToHexString(tw.ChildKey.Encoding));
                    Assert.Equal(negate, tw.Negate);
                    Assert.True(offset == tw.Offset, $"{scheme} {path}: offset");
                    Assert.Equal(Convert.ToHexString(chain), Convert.ToHexString(tw.ChainCode!));
                    Assert.Equal(Convert.ToHexString(SchemeKeys.EncodePublicKey(scheme, child)), Convert.ToHexString(tw.EncodedChildKey));
                }
            }
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Derived_packages_and_shares_equal_the_eagerly_built_child_sharing(Scheme scheme)
    {
        var shares = DkgRunner.RunInProcess(scheme, "hd-package", 3, 5);
        var pub = shares[0].Public;
        var rng = new Random(77);
        for (int k = 0; k < 4; k++)
        {
            var path = RandomPath(rng);
            var (negate, offset, child, _) = StraightforwardTweak(pub, path);
            var g = pub.Group;
            var shift = g.MulBase(offset);
            // every verification share the plain way; the public constructor checks that they interpolate to the child key
            var eager = new PublicKeyPackage(pub.KeyId, scheme, pub.Epoch, pub.Threshold,
                pub.Members.ToDictionary(m => m, m => (negate ? -pub.VerifyingShare(m) : pub.VerifyingShare(m)) + shift), child);
            var lazy = HdDerivation.DerivePackage(pub, path);
            // one member first (what a coordinator checking one signer asks), then all of them
            var first = pub.Members[rng.Next(pub.Members.Count)];
            Assert.Equal(eager.VerifyingShare(first).ToHex(), lazy.VerifyingShare(first).ToHex());
            foreach (var m in pub.Members) Assert.Equal(eager.VerifyingShare(m).ToHex(), lazy.VerifyingShares[m].ToHex());
            Assert.Equal(eager.GroupPublicKey.ToHex(), lazy.GroupPublicKey.ToHex());
            Assert.Equal(pub.Members, lazy.Members);
            Assert.Equal(path, lazy.DerivedPath);
            Assert.NotEqual(Convert.ToHexString(pub.Digest), Convert.ToHexString(lazy.Digest));
            // each derived share matches its eagerly computed verification share (KeyShare.Create checks s′·G = Y′)
            foreach (var s in shares)
            {
                var d = HdDerivation.DeriveShare(s, path);
                Assert.True(KeyShare.Create(eager, s.Identifier, d.SigningShare).SigningShare == d.SigningShare);
                Assert.Equal(eager.VerifyingShare(s.Identifier).ToHex(), d.VerifyingShare.ToHex());
            }
            Assert.Throws<ArgumentException>(() => lazy.VerifyingShare(Rotor.Crypto.Sharing.Identifier.FromUInt64(g, 99)));
        }
    }

    /// <summary>FROST with fixed nonce randomness, so that two runs over equal shares give equal bytes.</summary>
    private static byte[] Sign(IReadOnlyList<KeyShare> signers, PublicKeyPackage coordinatorView, byte[] message, int seed)
    {
        var rng = new Random(seed);
        var round1 = signers.Select(s =>
        {
            var r = new byte[64];
            rng.NextBytes(r);
            return FrostSigner.Commit(s, r[..32], r[32..]);
        }).ToArray();
        var package = SigningPackage.Create(coordinatorView, round1.Select(r => r.Commitments), message);
        var z = signers.Select((s, i) => FrostSigner.Sign(package, round1[i].Nonces, s)).ToArray();
        foreach (var share in z) FrostCoordinator.VerifySignatureShare(package, share, coordinatorView);
        return FrostCoordinator.Aggregate(package, z, coordinatorView);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Signatures_with_optimised_derived_shares_are_byte_identical_to_the_straightforward_ones(Scheme scheme)
    {
        var shares = DkgRunner.RunInProcess(scheme, "hd-sig", 2, 3);
        var pub = shares[0].Public;
        var rng = new Random(4242 + (int)scheme);
        int[][] subsets = [[0, 1], [1, 2], [0, 2]];
        for (int k = 0; k < 4; k++)
        {
            var path = RandomPath(rng);
            var message = SHA256.HashData(BitConverter.GetBytes(k));
            var (negate, offset, child, _) = StraightforwardTweak(pub, path);
            var shift = pub.Group.MulBase(offset);
            var eager = new PublicKeyPackage(pub.KeyId, scheme, pub.Epoch, pub.Threshold,
                pub.Members.ToDictionary(m => m, m => (negate ? -pub.VerifyingShare(m) : pub.VerifyingShare(m)) + shift), child);
            var plain = shares.Select(s => KeyShare.Create(eager, s.Identifier, (negate ? -s.SigningShare : s.SigningShare) + offset)).ToArray();
            if (k % 2 == 0) HdDerivation.ClearCache();
            foreach (var subset in subsets)
            {
                int seed = rng.Next();
                var expected = Sign(subset.Select(i => plain[i]).ToArray(), eager, message, seed);
                var fast = Sign(subset.Select(i => HdDerivation.DeriveShare(shares[i], path)).ToArray(), HdDerivation.DerivePackage(pub, path), message, seed);
                Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(fast));
                Assert.True(SchemeSignatures.Verify(scheme, child, message, fast));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void The_cache_keeps_roots_apart_and_still_refuses_bad_root_data(Scheme scheme)
    {
        var a = DkgRunner.RunInProcess(scheme, "hd-a", 2, 3)[0].Public;
        var b = DkgRunner.RunInProcess(scheme, "hd-b", 2, 3)[0].Public;
        var path = DerivationPath.Parse("m/0/7");
        var ta = HdDerivation.Tweak(a, path);
        var tb = HdDerivation.Tweak(b, path);
        Assert.NotEqual(ta.ChildKey.ToHex(), tb.ChildKey.ToHex());
        // same group key, another chain code: another child (the chain code is part of the cache key)
        var otherChain = a.ChainCode.ToArray();
        otherChain[0] ^= 1;
        var tc = HdDerivation.Tweak(scheme, a.KeyId, a.GroupPublicKey, otherChain, a.InternalKey, path);
        Assert.NotEqual(ta.ChildKey.ToHex(), tc.ChildKey.ToHex());
        Assert.Equal(StraightforwardTweak(a.WithHdRoot(otherChain, a.InternalKey), path).Child.ToHex(), tc.ChildKey.ToHex());
        if (scheme == Scheme.Bip340)
        {
            // a's group key with b's internal key is refused although a's root is cached for this path
            Assert.Throws<ArgumentException>(() => HdDerivation.Tweak(scheme, a.KeyId, a.GroupPublicKey, a.ChainCode.ToArray(), b.InternalKey, path));
        }
        // a cached tweak's chain code cannot be changed through the tweak
        ta.ChainCode![0] ^= 1;
        Assert.Equal(Convert.ToHexString(HdDerivation.Tweak(a, path, useCache: false).ChainCode!), Convert.ToHexString(HdDerivation.Tweak(a, path).ChainCode!));
    }

    [Fact]
    public void The_cache_is_bounded_and_keeps_what_is_in_use()
    {
        var cache = new TwoGenerationCache<int, string>(4);
        for (int i = 0; i < 100; i++)
        {
            cache.Add(i, i.ToString());
            Assert.True(cache.TryGet(0, out _), "entry 0 is read every time, so it stays");
            Assert.InRange(cache.Count, 1, 8);
        }
        Assert.True(cache.TryGet(99, out var v) && v == "99");
        Assert.False(cache.TryGet(50, out _));
        cache.Clear();
        Assert.False(cache.TryGet(0, out _));
        Assert.Equal(0, cache.Count);
    }
}
