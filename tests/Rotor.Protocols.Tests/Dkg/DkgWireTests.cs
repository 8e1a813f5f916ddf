using Rotor.Crypto.Groups;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Sessions;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Dkg;

public class DkgWireTests
{
    public static TheoryData<Scheme> Schemes => new() { Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340 };

    private static (Round1Package[] Round1, Round2Package Share, Confirmation Confirmation, Group Group) OneRun(Scheme scheme)
    {
        var g = scheme.Group();
        var ids = TestKeys.Ids(g, 3);
        var session = SessionId.ForDkg("wire-key", scheme, ids, 2);
        var r1 = ids.Select(m => DkgParticipant.Start(session, m)).ToArray();
        var r2 = r1.Select((r, i) => r.State.ReceiveRound1(r1.Where((_, j) => j != i).Select(o => o.Package))).ToArray();
        var r3 = r2[0].State.ReceiveRound2(r2.Skip(1).Select(o => o.Packages[ids[0]]));
        return (r1.Select(r => r.Package).ToArray(), r2[1].Packages[ids[0]], r3.Confirmation, g);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void EveryPackageRoundTrips(Scheme scheme)
    {
        var (round1, share, confirmation, g) = OneRun(scheme);
        foreach (var p in round1) Assert.Equal(p.ToBytes(), Round1Package.Decode(g, p.ToBytes()).ToBytes());
        var s = Round2Package.Decode(g, share.ToBytes());
        Assert.Equal((share.Sender, share.Recipient, share.Share), (s.Sender, s.Recipient, s.Share));
        Assert.Equal(share.Session.ToArray(), s.Session.ToArray());
        var c = Confirmation.Decode(g, confirmation.ToBytes());
        Assert.Equal(confirmation.ToBytes(), c.ToBytes());
        Assert.Equal(3, c.Digests.Count);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void MalformedSharesAndConfirmationsAreBlamedOnTheirSender(Scheme scheme)
    {
        var (_, share, confirmation, g) = OneRun(scheme);
        int h = Wire.HeaderLength(g);
        var badShares = new[]
        {
            share.ToBytes()[..^1],
            [.. share.ToBytes(), 7],
            Patch(share.ToBytes(), h + g.ScalarLength, Enumerable.Repeat((byte)0xff, g.ScalarLength).ToArray()), // share ≥ order
            Patch(share.ToBytes(), h, new byte[g.ScalarLength]),                                                   // recipient 0
            Patch(share.ToBytes(), 0, [(byte)WireType.DkgConfirmation]),                                          // another message type
        };
        foreach (var b in badShares)
        {
            var e = Assert.Throws<ProtocolException>(() => Round2Package.Decode(g, b));
            Assert.Equal(Fault.MalformedMessage, e.Fault);
            Assert.Equal([share.Sender], e.Culprits);
        }
        var badConfirmations = new[]
        {
            confirmation.ToBytes()[..^1],
            [.. confirmation.ToBytes(), 0],
            Patch(confirmation.ToBytes(), h, [0, 4]), // claims 4 digests, carries 3
        };
        foreach (var b in badConfirmations)
        {
            var e = Assert.Throws<ProtocolException>(() => Confirmation.Decode(g, b));
            Assert.Equal(Fault.MalformedMessage, e.Fault);
            Assert.Equal([confirmation.Sender], e.Culprits);
        }
        Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => Confirmation.Decode(g, new byte[10])).Fault);
    }

    [Fact]
    public void SecretsDoNotAppearInToString()
    {
        var (_, share, _, _) = OneRun(Scheme.Ed25519);
        var hex = Convert.ToHexStringLower(share.Share.ToBytes());
        Assert.DoesNotContain(hex, share.ToString(), StringComparison.OrdinalIgnoreCase);
        var g = Scheme.Ed25519.Group();
        var session = SessionId.ForDkg("wire-key", Scheme.Ed25519, TestKeys.Ids(g, 2), 2);
        var (state, _) = DkgParticipant.Start(session, TestKeys.Ids(g, 2)[0]);
        Assert.DoesNotContain("Scalar", state.ToString());
    }

    private static byte[] Patch(byte[] b, int at, byte[] with)
    {
        with.CopyTo(b, at);
        return b;
    }
}
