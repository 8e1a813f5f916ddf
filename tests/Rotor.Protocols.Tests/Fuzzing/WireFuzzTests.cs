using FsCheck;
using FsCheck.Fluent;
using Rotor.Crypto;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Resharing;
using Rotor.Protocols.Sessions;
using Rotor.Protocols.Tests.Resharing;
using Rotor.TestSupport;

namespace Rotor.Protocols.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of every binary decoder of the protocols (DKG, reshare and repair wire messages, signed reshare
/// confirmations) and of the node-to-node envelope: valid encodings of every scheme (the corpus, built here) with a
/// bit flipped, truncated, extended, a byte replaced, a count field set huge, bytes inserted or a range duplicated.
/// Each must decode to a value that re-encodes to exactly the input, or be refused with the project's own exception
/// (<see cref="ProtocolException"/>, <see cref="RotorCryptoException"/>), never IndexOutOfRange, NullReference,
/// OutOfMemory or an overflow, and never allocate by a count it has not checked. A short run here (a few hundred
/// cases per decoder); ROTOR_FUZZ_CASES raises it for a long run (docs/architecture.md, "Fuzzing").
/// </summary>
public class WireFuzzTests
{
    internal static int Cases => int.TryParse(Environment.GetEnvironmentVariable("ROTOR_FUZZ_CASES"), out var n) && n > 0 ? n : 150;

    /// <summary>Checks a property over <see cref="Cases"/> mutations; a failure throws with the shrunk counterexample.</summary>
    internal static void Run(Property property) =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true), property);

    private static readonly Scheme[] AllSchemes = [Scheme.Ed25519, Scheme.Secp256k1, Scheme.Bip340];

    /// <summary>A seed index and a mutation.</summary>
    internal static Arbitrary<(int Seed, Mutation Mutation)> Mutations(int seeds) =>
        (from seed in Gen.Choose(0, seeds - 1)
         from kind in Gen.Choose(0, Mutation.Kinds - 1)
         from position in Gen.Choose(0, int.MaxValue)
         from value in Gen.Choose(0, 255)
         from extra in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()
         select (seed, new Mutation(kind, position, value, extra))).ToArbitrary();

    /// <summary>One decoder over its corpus: decode the mutated bytes; a success must re-encode to them exactly.</summary>
    private static Property Fuzz(IReadOnlyList<(Scheme Scheme, byte[] Bytes)> corpus, Func<Scheme, byte[], byte[]> decodeThenEncode) =>
        Prop.ForAll(Mutations(corpus.Count), c =>
        {
            var (scheme, valid) = corpus[c.Seed];
            var mutated = c.Mutation.Apply(valid);
            try
            {
                var again = decodeThenEncode(scheme, mutated);
                return again.AsSpan().SequenceEqual(mutated);
            }
            catch (ProtocolException) { return true; }
            catch (RotorCryptoException) { return true; }
        });

    // ------------------------------------------------------------------ the corpus

    private static readonly byte[] Digest = Enumerable.Range(0, 64).Select(i => (byte)(i * 7)).ToArray();

    private static IEnumerable<(Scheme, byte[])> Each(Func<Scheme, IEnumerable<byte[]>> make) =>
        AllSchemes.SelectMany(s => make(s).Select(b => (s, b))).ToList();

    private static readonly Lazy<Dictionary<Scheme, (byte[][] R1, byte[] R2, byte[] Confirmation)>> Dkg = new(() => AllSchemes.ToDictionary(s => s, s =>
    {
        var g = s.Group();
        var ids = TestKeys.Ids(g, 3);
        var session = SessionId.ForDkg("fuzz-key", s, ids, 2);
        var r1 = ids.Select(m => DkgParticipant.Start(session, m)).ToArray();
        var r2 = r1.Select((r, i) => r.State.ReceiveRound1(r1.Where((_, j) => j != i).Select(o => o.Package))).ToArray();
        var r3 = r2[0].State.ReceiveRound2(r2.Skip(1).Select(o => o.Packages[ids[0]]));
        return (r1.Select(r => r.Package.ToBytes()).ToArray(), r2[1].Packages[ids[0]].ToBytes(), r3.Confirmation.ToBytes());
    }));

    private static readonly Lazy<Dictionary<Scheme, ReshareHarness>> Reshares = new(() =>
        AllSchemes.ToDictionary(s => s, s => ReshareHarness.Refresh(s, 2, 3).Run));

    // ------------------------------------------------------------------ the decoders

    [Fact]
    public void The_corpus_decodes_and_re_encodes_unchanged()
    {
        foreach (var s in AllSchemes)
        {
            var g = s.Group();
            foreach (var b in Dkg.Value[s].R1) Assert.Equal(b, Round1Package.Decode(g, b, threshold: 2).ToBytes());
            var run = Reshares.Value[s];
            foreach (var d in run.Dealings) Assert.Equal(d.Commitment.ToBytes(), ReshareCommitment.Decode(s, d.Commitment.ToBytes(), threshold: 2).ToBytes());
        }
    }

    [Fact]
    public void Dkg_round1_packages() => Run(Fuzz(Each(s => Dkg.Value[s].R1).ToList(), (s, b) => Round1Package.Decode(s.Group(), b, threshold: 2).ToBytes()).Label("round 1").And(
        Fuzz(Each(s => Dkg.Value[s].R1).ToList(), (s, b) => Round1Package.Decode(s.Group(), b).ToBytes()).Label("round 1, threshold unknown")));

    [Fact]
    public void Dkg_round2_packages_and_confirmations() => Run(
        Fuzz(Each(s => [Dkg.Value[s].R2]).ToList(), (s, b) => Round2Package.Decode(s.Group(), b).ToBytes()).Label("round 2").And(
        Fuzz(Each(s => [Dkg.Value[s].Confirmation]).ToList(), (s, b) => Confirmation.Decode(s.Group(), b).ToBytes()).Label("confirmation")));

    [Fact]
    public void Reshare_commitments_and_sub_shares() => Run(
        Fuzz(Each(s => Reshares.Value[s].Dealings.Select(d => d.Commitment.ToBytes())).ToList(), (s, b) => ReshareCommitment.Decode(s, b, threshold: 2).ToBytes()).Label("commitment").And(
        Fuzz(Each(s => Reshares.Value[s].Dealings.SelectMany(d => d.SubShares.Select(x => x.ToBytes()))).ToList(), (s, b) => ReshareSubShare.Decode(s, b).ToBytes()).Label("sub-share")));

    [Fact]
    public void Reshare_confirmations_plain_and_signed() => Run(
        Fuzz(Each(s => [Reshares.Value[s].ReceiveAll()[0].Confirmation.ToBytes()]).ToList(), (s, b) => ReshareConfirmation.Decode(s, b).ToBytes()).Label("confirmation").And(
        Fuzz(Each(s => [Reshares.Value[s].ReceiveAll()[0].Confirmation.Sign(Identity).ToBytes()]).ToList(), (s, b) => SignedReshareConfirmation.Decode(s, b).ToBytes()).Label("signed")));

    [Fact]
    public void Repair_messages() => Run(Repair_messagesProperty());

    private static Property Repair_messagesProperty()
    {
        var ids = AllSchemes.ToDictionary(s => s, s => TestKeys.Ids(s.Group(), 3));
        var commitments = Each(s => [new RepairCommitments(Digest, ids[s][0], [s.Group().Generator, s.Group().MulBase(s.Group().ScalarFromUInt64(2))]).ToBytes()]).ToList();
        var deltas = Each(s => [new RepairDelta(Digest, ids[s][0], ids[s][1], s.Group().ScalarFromUInt64(12345)).ToBytes()]).ToList();
        var sigmas = Each(s => [new RepairSigma(Digest, ids[s][1], s.Group().ScalarFromUInt64(777), [new DealerDigest(ids[s][0], Digest), new DealerDigest(ids[s][2], Digest)], [new byte[64], new byte[64]]).ToBytes()]).ToList();
        return Fuzz(commitments, (s, b) => RepairCommitments.Decode(s, b).ToBytes()).Label("commitments")
            .And(Fuzz(deltas, (s, b) => RepairDelta.Decode(s, b).ToBytes()).Label("delta"))
            .And(Fuzz(sigmas, (s, b) => RepairSigma.Decode(s, b).ToBytes()).Label("sigma"));
    }

    private static readonly NodeIdentity Identity = NodeIdentity.Create();

    [Fact]
    public void Envelopes() => Run(EnvelopesProperty());

    private static Property EnvelopesProperty()
    {
        using var bob = NodeIdentity.Create();
        var session = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var corpus = new[] { "x", "a longer payload of a reshare sub-share batch", "" }
            .Select(p => (Scheme.Ed25519, Envelope.Seal(Identity, "alice", "bob", bob.Public, session, "reshare/deal", System.Text.Encoding.UTF8.GetBytes(p)).Encode())).ToList();
        return Fuzz(corpus, (_, b) => Envelope.Decode(b).Encode());
    }

    [Fact]
    public void A_commitment_claiming_65535_coefficients_is_refused_by_its_count_before_any_point_is_decoded()
    {
        foreach (var s in AllSchemes)
        {
            var valid = Reshares.Value[s].Dealings[0].Commitment.ToBytes();
            var at = Wire.HeaderLength(s.Group());
            var huge = (byte[])valid.Clone();
            huge[at] = 0xFF;
            huge[at + 1] = 0xFF;
            var e = Assert.Throws<ProtocolException>(() => ReshareCommitment.Decode(s, huge, threshold: 2));
            Assert.Equal(Fault.MalformedMessage, e.Fault);
            Assert.Contains("65535, expected 2", e.Message);
            // Without the threshold the count is still checked against the bytes that follow, before allocating.
            Assert.Contains("needs", Assert.Throws<ProtocolException>(() => ReshareCommitment.Decode(s, huge)).Message);
            var r1 = (byte[])Dkg.Value[s].R1[0].Clone();
            r1[at] = 0xFF;
            r1[at + 1] = 0xFF;
            Assert.Contains("65535, expected 2", Assert.Throws<ProtocolException>(() => Round1Package.Decode(s.Group(), r1, threshold: 2)).Message);
        }
    }
}
