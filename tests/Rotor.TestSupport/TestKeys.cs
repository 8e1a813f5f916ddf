using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;

namespace Rotor.TestSupport;

/// <summary>
/// Test-only key material. Production code never holds or computes a group secret; these helpers do,
/// so that tests can check that protocols preserve it.
/// </summary>
public static class TestKeys
{
    public static Identifier[] Ids(Group g, int n) => Enumerable.Range(1, n).Select(i => Identifier.FromUInt64(g, (ulong)i)).ToArray();

    /// <summary>A trusted-dealer split of a random secret into n shares with threshold t.</summary>
    public static (KeyShare[] Shares, Scalar Secret) Deal(Scheme scheme, int t, int n, string keyId = "test-key", ulong epoch = 0)
    {
        var g = scheme.Group();
        var secret = g.RandomScalar();
        var poly = Polynomial.Random(secret, t - 1);
        var ids = Ids(g, n);
        var pub = new PublicKeyPackage(keyId, scheme, epoch, t,
            ids.ToDictionary(i => i, i => g.MulBase(poly.Evaluate(i))), g.MulBase(secret));
        return (ids.Select(i => KeyShare.Create(pub, i, poly.Evaluate(i))).ToArray(), secret);
    }

    /// <summary>Lagrange-interpolates the secret at 0 from the given shares (test-only).</summary>
    public static Scalar Interpolate(IReadOnlyList<(Identifier Id, Scalar Share)> shares)
    {
        var ids = shares.Select(s => s.Id).ToArray();
        var acc = ids[0].Group.Zero;
        foreach (var (id, share) in shares) acc += Lagrange.AtZero(id, ids) * share;
        return acc;
    }

    public static Scalar Interpolate(IEnumerable<KeyShare> shares) =>
        Interpolate(shares.Select(s => (s.Identifier, s.SigningShare)).ToArray());
}
