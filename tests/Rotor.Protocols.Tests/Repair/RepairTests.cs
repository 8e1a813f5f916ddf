using FsCheck;
using FsCheck.Fluent;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Resharing;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Repair;

public class RepairTests
{
    // ------------------------------------------------------------ ZcashFoundation/frost vectors

    [Theory]
    [InlineData("ed25519", Scheme.Ed25519)]
    [InlineData("secp256k1", Scheme.Secp256k1)]
    [InlineData("secp256k1-tr", Scheme.Bip340)]
    public void StepsTwoAndThreeReproduceTheFrostRepairVectors(string suite, Scheme scheme)
    {
        var g = scheme.Group();
        using var doc = Vectors.Json($"frost/zcash/frost-{suite}.repair-share.json");
        Scalar S(string section, string name) => g.DecodeScalar(Convert.FromHexString(doc.RootElement.GetProperty(section).GetProperty(name).GetString()!));

        var deltas = new[] { "random_scalar_1", "random_scalar_2", "random_scalar_3" }.Select(n => S("scalar_generation", n));
        Assert.Equal(S("scalar_generation", "random_scalar_sum"), RepairSteps.Sigma(g, deltas));
        var sigmas = new[] { "sigma_1", "sigma_2", "sigma_3", "sigma_4" }.Select(n => S("sigma_generation", n));
        Assert.Equal(S("sigma_generation", "sigma_sum"), RepairSteps.Share(g, sigmas));
    }

    [Theory]
    [InlineData(Scheme.Ed25519)]
    [InlineData(Scheme.Secp256k1)]
    public void StepOneSplitsTheWeightedShareIntoRandomPieces(Scheme scheme)
    {
        var (shares, _) = TestKeys.Deal(scheme, 3, 5);
        var g = scheme.Group();
        var helpers = new[] { shares[0].Identifier, shares[3].Identifier, shares[4].Identifier };
        var zeta = Lagrange.Coefficient(helpers[1], helpers, shares[1].Identifier.Scalar);
        var a = RepairSteps.Deltas(zeta, shares[3].SigningShare, 3);
        var b = RepairSteps.Deltas(zeta, shares[3].SigningShare, 3);
        Assert.Equal(zeta * shares[3].SigningShare, a.Aggregate(g.Zero, (x, y) => x + y));
        Assert.Equal(zeta * shares[3].SigningShare, b.Aggregate(g.Zero, (x, y) => x + y));
        Assert.NotEqual(a[0], b[0]);
    }

    // ------------------------------------------------------------ whole repairs

    public sealed record Params(Scheme Scheme, int T, int N, int Seed)
    {
        public override string ToString() => $"{Scheme} {T}-of-{N} seed {Seed}";
    }

    private static Arbitrary<Params> Repairs() =>
        (from scheme in Gen.Elements(Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340)
         from n in Gen.Choose(2, 10)
         from t in Gen.Choose(1, n - 1)
         from seed in Gen.Choose(0, int.MaxValue)
         select new Params(scheme, t, n, seed)).ToArbitrary();

    [FsCheck.Xunit.Property(MaxTest = 30)]
    public Property AnyTOtherMembersRebuildALostShareExactly() => Prop.ForAll(Repairs(), p =>
    {
        var rnd = new Random(p.Seed);
        var (shares, _) = TestKeys.Deal(p.Scheme, p.T, p.N);
        var lost = shares[rnd.Next(p.N)];
        var helpers = shares.Where(s => s != lost).OrderBy(_ => rnd.Next()).Take(p.T + rnd.Next(p.N - p.T)).ToArray();
        var back = ShareRepair.RunInProcess(helpers, lost.Identifier);
        Assert.Equal(lost.SigningShare, back.SigningShare);
        Assert.Equal(lost.Identifier, back.Identifier);
        Assert.Equal(lost.Epoch, back.Epoch);
        Assert.Same(lost.Public, back.Public);
        return true;
    });

    [Fact]
    public void AMemberWithAStaleShareGetsItsCurrentEpochShareBack()
    {
        var (old, secret) = TestKeys.Deal(Scheme.Bip340, 2, 3);
        var ids = old.Select(s => s.Identifier).ToArray();
        var epoch1 = Reshare.RunInProcess(old.Take(2).ToArray(), ids, 2);
        // Member 3 missed the commit and still holds its epoch-0 share.
        var back = ShareRepair.RunInProcess(epoch1.Take(2).ToArray(), ids[2]);
        Assert.Equal(1UL, back.Epoch);
        Assert.Equal(epoch1[2].SigningShare, back.SigningShare);
        Assert.NotEqual(old[2].SigningShare, back.SigningShare);
        Assert.Equal(secret, TestKeys.Interpolate([epoch1[0], back]));
        // Its stale share cannot help anyone.
        var e = Assert.Throws<ProtocolException>(() => ShareRepair.RunInProcess([epoch1[1], old[2]], ids[0]));
        Assert.Equal(Fault.StaleShare, e.Fault);
    }

    [Fact]
    public void HelpersMustBeAtLeastTOtherMembers()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 3, 5);
        var current = shares[0].Public;
        var session = SessionId.ForRepair(current);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => RepairPlan.Create(session, current, shares[0].Identifier, [shares[1].Identifier, shares[2].Identifier])).Fault);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => RepairPlan.Create(session, current, shares[0].Identifier, [shares[0].Identifier, shares[1].Identifier, shares[2].Identifier])).Fault);
        var reshare = SessionId.ForReshare(current, current.Members, 3);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => RepairPlan.Create(reshare, current, shares[0].Identifier, current.Members.Skip(1).ToArray())).Fault);
    }
}
