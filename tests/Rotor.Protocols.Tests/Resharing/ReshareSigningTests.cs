using Rotor.Crypto.Sharing;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Resharing;

/// <summary>After a reshare the new shards sign under the unchanged key; old shards are refused, and forced past the check they do not sign.</summary>
public class ReshareSigningTests
{
    public static TheoryData<Scheme> Schemes => new(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340);

    private static readonly byte[] Message = "rotate, then pay 1 BTC to bob"u8.ToArray();

    private static Identifier Id(Scheme scheme, ulong i) => Identifier.FromUInt64(scheme.Group(), i);

    /// <summary>Refresh 2-of-{1,2,3} and restructure to 3-of-{2,3,4,5}; the overlap {2,3} holds shards of both epochs.</summary>
    private static (KeyShare[] Old, KeyShare[] Refreshed, KeyShare[] Restructured) Reshares(Scheme scheme)
    {
        var (old, _) = TestKeys.Deal(scheme, 2, 3);
        var refreshed = Reshare.RunInProcess([old[0], old[2]], old.Select(s => s.Identifier).ToArray(), 2);
        var restructured = Reshare.RunInProcess([old[1], old[2]], [Id(scheme, 2), Id(scheme, 3), Id(scheme, 4), Id(scheme, 5)], 3);
        return (old, refreshed, restructured);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void AnyTPrimeNewShardsSignUnderTheUnchangedKey(Scheme scheme)
    {
        var (old, refreshed, restructured) = Reshares(scheme);
        var key = old[0].GroupPublicKey;
        foreach (var quorum in new[] { refreshed[..2], refreshed[1..], [refreshed[0], refreshed[2]], restructured[..3], restructured[1..], [restructured[0], restructured[2], restructured[3]] })
            Assert.True(SchemeSignatures.Verify(scheme, key, Message, FrostCoordinator.SignInProcess(quorum, Message)));
        Assert.True(SchemeSignatures.Verify(scheme, key, Message, FrostCoordinator.SignInProcess(restructured, Message)));
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void OldShardsAloneOrMixedWithNewOnesAreRefusedAsStale(Scheme scheme)
    {
        var (old, refreshed, restructured) = Reshares(scheme);
        foreach (var fresh in new[] { refreshed, restructured })
        {
            // Mixed: the newest epoch is signed with and the old shard is named.
            var e = Assert.Throws<ProtocolException>(() => FrostCoordinator.SignInProcess([fresh[0], fresh[2], old[1]], Message));
            Assert.Equal(Fault.StaleShare, e.Fault);
            Assert.Equal([old[1].Identifier], e.Culprits);
            // Alone, against the new epoch's package: their commitments are refused.
            e = Assert.Throws<ProtocolException>(() => SigningPackage.Create(fresh[0].Public, [FrostSigner.Commit(old[1]).Commitments, FrostSigner.Commit(old[2]).Commitments], Message));
            Assert.Equal(Fault.StaleShare, e.Fault);
        }
    }

    /// <summary>Signs through FROST's raw core, past every key-id and epoch check, with the given shards standing in for the signers' own.</summary>
    private static bool ForcedSignatureVerifies(Scheme scheme, KeyShare[] signers, Func<KeyShare, Rotor.Crypto.Groups.Scalar> shard)
    {
        var round1 = signers.Select(FrostSigner.Commit).ToArray();
        var package = SigningPackage.Create(signers[0].Public, round1.Select(r => r.Commitments), Message);
        var ctx = package.Context;
        var z = signers.Select((s, i) =>
        {
            var (d, e) = round1[i].Nonces.Consume();
            return ctx.SignatureShare(ctx.IndexOf(s.Identifier), d, e, shard(s));
        }).ToArray();
        var signature = SchemeSignatures.Encode(scheme, ctx.SignatureR, FrostCore.Aggregate(scheme.Group(), z));
        return SchemeSignatures.Verify(scheme, signers[0].GroupPublicKey, Message, signature);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void OldShardsForcedPastTheEpochCheckDoNotMakeAValidSignature(Scheme scheme)
    {
        var (old, refreshed, restructured) = Reshares(scheme);
        KeyShare Old(KeyShare s) => old.Single(o => o.Identifier == s.Identifier);
        Assert.True(ForcedSignatureVerifies(scheme, refreshed[1..], s => s.SigningShare));   // control: the raw path itself works

        // Mixed with new shards, old shards spoil the signature.
        Assert.False(ForcedSignatureVerifies(scheme, refreshed[1..], s => s.Identifier == Id(scheme, 3) ? Old(s).SigningShare : s.SigningShare));
        Assert.False(ForcedSignatureVerifies(scheme, restructured[..3], s => s.Identifier == Id(scheme, 2) ? Old(s).SigningShare : s.SigningShare));
        Assert.False(ForcedSignatureVerifies(scheme, restructured[..3], s => s.Identifier != Id(scheme, 4) ? Old(s).SigningShare : s.SigningShare));

        // Alone, fewer old shards than the old threshold (3-of-5 lowered to 2-of-3) do not sign either.
        var (old3, _) = TestKeys.Deal(scheme, 3, 5);
        var lowered = Reshare.RunInProcess(old3[..3], old3[..3].Select(s => s.Identifier).ToArray(), 2);
        Assert.False(ForcedSignatureVerifies(scheme, lowered[..2], s => old3.Single(o => o.Identifier == s.Identifier).SigningShare));

        // But t old shards are still a quorum of the same key: resharing cannot change that, which is why the
        // epoch check refuses them and why the services delete old shards once the new epoch is committed.
        Assert.True(ForcedSignatureVerifies(scheme, refreshed[1..], s => Old(s).SigningShare));
    }
}
