using System.Security.Cryptography;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Keys.Hd;
using Xunit;

namespace Rotor.Protocols.Tests.Ecdsa;

/// <summary>
/// Round 1 ahead of the message (EcdsaSigner.Presign, then Bind): the presign is made with the root key and no
/// message or path; the message and the path (a derived key) are bound before round 2; a presign signs once, for one
/// message, and every misuse is refused by name.
/// </summary>
public class EcdsaPresignTests
{
    private static readonly Lazy<IReadOnlyList<EcdsaKeyShare>> Keys = new(() => EcdsaRunner.Keygen("ecdsa-presign", 2, 3));

    private static (EcdsaPresignSession Presign, EcdsaSigner[] Signers, List<EcdsaSignRound1> Round1) Presign(IReadOnlyList<EcdsaKeyShare> keys)
    {
        var presign = new EcdsaPresignSession(keys[0].Public, keys.Select(k => k.Identifier).ToArray());
        var signers = new EcdsaSigner[keys.Count];
        var r1 = new List<EcdsaSignRound1>();
        for (int i = 0; i < keys.Count; i++)
        {
            var (s, msgs) = EcdsaSigner.Presign(keys[i], presign);
            signers[i] = s;
            r1.AddRange(msgs);
        }
        return (presign, signers, r1);
    }

    /// <summary>Rounds 2 and 3 of signers whose round 1 is <paramref name="r1"/>, and the combined signature.</summary>
    internal static EcdsaSignature Finish(EcdsaSignSession session, IReadOnlyList<EcdsaSigner> signers, IReadOnlyList<EcdsaSignRound1> r1)
    {
        var r2 = signers.SelectMany(s => s.Round2(r1.Where(m => m.Recipient == s.Identifier))).ToList();
        var shares = signers.Select(s => s.Round3(r2.Where(m => m.Recipient == s.Identifier))).ToList();
        return EcdsaSignatures.Combine(session, shares);
    }

    [Theory]
    [InlineData("m")]
    [InlineData("m/0/7")]
    public void A_presign_made_without_message_or_path_signs_the_message_and_path_bound_later(string pathText)
    {
        var keys = new[] { Keys.Value[0], Keys.Value[2] };
        var (presign, signers, r1) = Presign(keys);
        Assert.All(r1, m => Assert.Equal(presign.Digest, m.Session));
        var path = DerivationPath.Parse(pathText);
        var package = HdDerivation.DerivePackage(keys[0].Public, path);
        var digest = SHA256.HashData("bound after round 1"u8);
        var session = new EcdsaSignSession(presign, package, digest);
        for (int i = 0; i < keys.Length; i++) signers[i].Bind(keys[i].Derive(path), session);
        var sig = Finish(session, signers, r1);
        Assert.True(EcdsaSignature.Verify(package.GroupPublicKey, digest, sig.ToBytes()));
        Assert.True(EcdsaSignature.IsLowS(sig.S));
    }

    [Fact]
    public void One_presign_bound_to_two_messages_is_refused_at_round_2_naming_the_sender()
    {
        var keys = new[] { Keys.Value[0], Keys.Value[1] };
        // each signer makes round 2 for its own message; signer 1's round-2 message is then of another signing
        var (presign2, signers2, r1b) = Presign(keys);
        signers2[0].Bind(keys[0], new EcdsaSignSession(presign2, keys[0].Public, SHA256.HashData("pay Alice"u8)));
        signers2[1].Bind(keys[1], new EcdsaSignSession(presign2, keys[0].Public, SHA256.HashData("pay Mallory"u8)));
        var r2First = signers2[0].Round2(r1b.Where(m => m.Recipient == keys[0].Identifier));
        _ = signers2[1].Round2(r1b.Where(m => m.Recipient == keys[1].Identifier));
        var wrong = Assert.Throws<ProtocolException>(() => signers2[1].Round3(r2First.Where(m => m.Recipient == keys[1].Identifier)));
        Assert.Equal(Fault.WrongSession, wrong.Fault);
        Assert.Equal([keys[0].Identifier], wrong.Culprits);
        Assert.True(signers2[1].IsAborted);
    }

    [Fact]
    public void A_presign_takes_one_message_only_and_a_second_bind_wipes_it()
    {
        var keys = new[] { Keys.Value[1], Keys.Value[2] };
        var (presign, signers, r1) = Presign(keys);
        var session = new EcdsaSignSession(presign, keys[0].Public, new byte[32]);
        signers[0].Bind(keys[0], session);
        var again = Assert.Throws<ProtocolException>(() => signers[0].Bind(keys[0], new EcdsaSignSession(presign, keys[0].Public, SHA256.HashData("another"u8))));
        Assert.Equal(Fault.InvalidUsage, again.Fault);
        Assert.True(signers[0].IsAborted);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => signers[0].Round2(r1.Where(m => m.Recipient == keys[0].Identifier))).Fault);
    }

    [Fact]
    public void Round_2_without_a_bound_message_is_refused()
    {
        var keys = new[] { Keys.Value[0], Keys.Value[1] };
        var (_, signers, r1) = Presign(keys);
        var e = Assert.Throws<ProtocolException>(() => signers[0].Round2(r1.Where(m => m.Recipient == keys[0].Identifier)));
        Assert.Equal(Fault.InvalidUsage, e.Fault);
        Assert.Contains("no message", e.Message);
    }

    [Fact]
    public void A_bind_of_another_presign_or_another_members_share_is_refused()
    {
        var keys = new[] { Keys.Value[0], Keys.Value[1] };
        var (_, signers, _) = Presign(keys);
        var (otherPresign, _, _) = Presign(keys);
        var foreign = Assert.Throws<ProtocolException>(() => signers[0].Bind(keys[0], new EcdsaSignSession(otherPresign, keys[0].Public, new byte[32])));
        Assert.Equal(Fault.WrongSession, foreign.Fault);

        var (presign, fresh, _) = Presign(keys);
        var session = new EcdsaSignSession(presign, keys[0].Public, new byte[32]);
        var stranger = Assert.Throws<ProtocolException>(() => fresh[0].Bind(keys[1], session));
        Assert.Equal(Fault.StaleShare, stranger.Fault);
        // a derived share for the root package, or the root share for a derived package
        var (presign3, third, _) = Presign(keys);
        var rootSession = new EcdsaSignSession(presign3, keys[0].Public, new byte[32]);
        Assert.Equal(Fault.StaleShare, Assert.Throws<ProtocolException>(() => third[0].Bind(keys[0].Derive(DerivationPath.Parse("m/1")), rootSession)).Fault);
    }

    [Fact]
    public void A_presign_is_bound_to_its_key_epoch_and_signers()
    {
        var keys = Keys.Value;
        var presign = new EcdsaPresignSession(keys[0].Public, [keys[0].Identifier, keys[1].Identifier]);
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => EcdsaSigner.Presign(keys[2], presign)).Fault);
        var other = EcdsaRunner.Keygen("ecdsa-presign-other", 2, 2);
        Assert.Equal(Fault.StaleShare, Assert.Throws<ProtocolException>(() => EcdsaSigner.Presign(other[0], presign)).Fault);
        // a package of another key cannot be bound to it
        Assert.Throws<ArgumentException>(() => new EcdsaSignSession(presign, other[0].Public, new byte[32]));
    }
}
