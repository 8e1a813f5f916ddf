using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Tests.Ecdsa;

/// <summary>Base OT (VSOT) verification, the pairwise setup's binding, reshare with fresh material, storage, the multiplication itself.</summary>
public class EcdsaSetupTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static Identifier Id(ulong i) => Identifier.FromUInt64(G, i);
    private static readonly Lazy<KeyShare[]> Shares = new(() => DkgRunner.RunInProcess(Scheme.Secp256k1, "setup-test", 2, 2));

    /// <summary>Runs the setup between members 1 and 2, letting <paramref name="tamper"/> change any message in flight.</summary>
    private static (EcdsaSetup[] States, ProtocolException? Error, int FailedAt, Identifier FailedMember) RunSetup(Func<EcdsaSetupMessage, EcdsaSetupMessage> tamper)
    {
        var session = new EcdsaSetupSession(Shares.Value[0].Public);
        var started = Shares.Value.Select(s => EcdsaSetup.Start(s, session)).ToArray();
        var states = started.Select(s => s.State).ToArray();
        var outbox = started.SelectMany(s => s.Messages).ToList();
        for (int round = 1; round <= 5; round++)
        {
            var next = new List<EcdsaSetupMessage>();
            foreach (var (state, share) in states.Zip(Shares.Value))
            {
                var inbox = outbox.Where(m => m.Recipient == share.Identifier).Select(m => EcdsaSetupMessage.FromBytes(tamper(m).ToBytes()));
                try { next.AddRange(state.Receive(inbox)); }
                catch (ProtocolException e) { return (states, e, round, share.Identifier); }
            }
            outbox = next;
        }
        return (states, null, 0, default);
    }

    private static EcdsaSetupMessage With(EcdsaSetupMessage m, Element[]? points = null, Scalar[]? scalars = null, byte[][]? blobs = null, KosMessage? extension = null) =>
        new(m.Session, m.Sender, m.Recipient, m.Round, points ?? m.Points, scalars ?? m.Scalars, blobs ?? m.Blobs, extension ?? m.Extension);

    // Between members 1 and 2, member 1 sends the base OTs (S) and member 2 receives them (R).
    private static readonly Identifier S = Id(1), R = Id(2);

    private static byte[][] Flip(byte[][] blobs, int i)
    {
        var copy = blobs.Select(b => (byte[])b.Clone()).ToArray();
        copy[i][0] ^= 1;
        return copy;
    }

    [Fact]
    public void Honest_setup_gives_matching_material_bound_to_the_epoch()
    {
        var (states, error, _, _) = RunSetup(m => m);
        Assert.Null(error);
        var a = states[0].Result!.Pair(Id(2));
        var b = states[1].Result!.Pair(Id(1));
        Assert.Equal(a.PairId, b.PairId);
        Assert.Equal(0UL, a.Epoch);
        Assert.Equal(EcdsaBinding.PackageDigest(Shares.Value[0].Public), a.PackageDigest);
        // The OT correlation, both directions (one from the base OTs, the other derived by OT extension): the
        // extension sender's seed k_i^{Δ_i} is the extension receiver's seed of index Δ_i, and the two differ.
        foreach (var (alice, bob) in new[] { (a, b), (b, a) })
            for (int i = 0; i < OtParams.Kappa; i++)
            {
                var want = alice.DeltaBits[i] == 0 ? bob.ReceiverSeed0(i).ToArray() : bob.ReceiverSeed1(i).ToArray();
                Assert.Equal(want, alice.SenderSeed(i).ToArray());
                Assert.NotEqual(bob.ReceiverSeed0(i).ToArray(), bob.ReceiverSeed1(i).ToArray());
            }
        // Δ is not stuck at one value and the two directions' material is independent.
        Assert.Contains((byte)0, a.DeltaBits);
        Assert.Contains((byte)1, a.DeltaBits);
        Assert.NotEqual(a.DeltaBits, b.DeltaBits);
        Assert.NotEqual(a.ReceiverSeeds0.ToArray(), b.ReceiverSeeds0.ToArray());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Base_OTs_run_one_way_per_pair_and_the_senders_are_spread_over_the_members(int n)
    {
        var members = Enumerable.Range(1, n).Select(i => Id((ulong)(i * 7919))).Reverse().ToList();
        foreach (var x in members)
            foreach (var y in members.Where(y => y != x))
                Assert.NotEqual(EcdsaSetupSession.SendsBaseOts(x, y, members), EcdsaSetupSession.SendsBaseOts(y, x, members));
        var sends = members.Select(x => members.Count(y => y != x && EcdsaSetupSession.SendsBaseOts(x, y, members))).ToList();
        Assert.Equal(n * (n - 1) / 2, sends.Sum());
        Assert.True(sends.Max() - sends.Min() <= 1, $"base-OT sends per member: {string.Join(", ", sends)}");
    }

    [Fact]
    public void The_derived_directions_extension_check_blames_the_base_OT_sender()
    {
        // S's round-5 extension with one column changed: not consistent with one choice vector. R finds it.
        var (states, error, round, who) = RunSetup(m =>
        {
            if (m.Round != 5 || m.Sender != S || m.Extension is not { } k) return m;
            var cols = (byte[])k.Columns.Clone();
            cols[3 * OtParams.ColumnBytes + 5] ^= 0x10;
            return With(m, extension: k with { Columns = cols });
        });
        Assert.NotNull(error);
        Assert.Equal(Fault.InvalidProof, error!.Fault);
        Assert.Equal([S], error.Culprits);
        Assert.Equal((5, R), (round, who));
        Assert.Contains("OT extension consistency check", error.Message);
        Assert.Null(states[1].Result);
        Assert.Null(states[1].Material);
    }

    [Fact]
    public void A_message_out_of_turn_is_refused_naming_its_sender()
    {
        // R speaks only in even rounds: a round-1 message with content from it is refused, and so is an empty one from S.
        var (_, error, round, who) = RunSetup(m => m.Round == 1 && m.Sender == R
            ? new EcdsaSetupMessage(m.Session, m.Sender, m.Recipient, 1, [G.Generator, G.Generator], [G.One], []) : m);
        Assert.Equal(Fault.MalformedMessage, error!.Fault);
        Assert.Equal([R], error.Culprits);
        Assert.Equal((1, S), (round, who));
        var (_, error2, _, who2) = RunSetup(m => m.Round == 3 && m.Sender == S ? EcdsaSetupMessage.Empty(m.Session, m.Sender, m.Recipient, 3) : m);
        Assert.Equal(Fault.MalformedMessage, error2!.Fault);
        Assert.Equal([S], error2.Culprits);
        Assert.Equal(R, who2);
    }

    [Fact]
    public void Base_OT_proof_of_knowledge_failure_blames_the_sender()
    {
        var (_, error, round, who) = RunSetup(m => m.Round == 1 && m.Sender == S ? With(m, scalars: [m.Scalars[0] + G.One]) : m);
        Assert.NotNull(error);
        Assert.Equal(Fault.InvalidProof, error!.Fault);
        Assert.Equal([S], error.Culprits);
        Assert.Equal(R, who);
        Assert.Equal(1, round);
        Assert.Contains("base OT verification", error.Message);
    }

    [Fact]
    public void Base_OT_wrong_response_blames_the_receiver()
    {
        var (_, error, round, who) = RunSetup(m => m.Round == 4 && m.Sender == R ? With(m, blobs: Flip(m.Blobs, 17)) : m);
        Assert.Equal(Fault.InvalidProof, error!.Fault);
        Assert.Equal([R], error.Culprits);
        Assert.Equal((4, S), (round, who));
    }

    [Fact]
    public void Base_OT_wrong_opening_blames_the_sender()
    {
        var (_, error, round, who) = RunSetup(m => m.Round == 5 && m.Sender == S ? With(m, blobs: Flip(m.Blobs, 100)) : m);
        Assert.Equal(Fault.InvalidProof, error!.Fault);
        Assert.Equal([S], error.Culprits);
        Assert.Equal((5, R), (round, who));
    }

    [Fact]
    public void Base_OT_wrong_challenge_is_caught_at_the_opening()
    {
        // A challenge changed in flight is caught: by the sender's check of the response (where the receiver's
        // choice bit is 1) or by the receiver's check of the openings (choice 0); whoever detects it blames its
        // counterparty, never itself. In a two-party exchange that is all an honest party can know.
        var (_, error, _, who) = RunSetup(m => m.Round == 3 && m.Sender == S ? With(m, blobs: Flip(m.Blobs, 3)) : m);
        Assert.NotNull(error);
        Assert.Equal(Fault.InvalidProof, error!.Fault);
        Assert.DoesNotContain(who, error.Culprits);
    }

    [Fact]
    public void A_failed_setup_refuses_to_go_on()
    {
        var session = new EcdsaSetupSession(Shares.Value[0].Public);
        var (s1, m1) = EcdsaSetup.Start(Shares.Value[0], session);
        var (_, m2) = EcdsaSetup.Start(Shares.Value[1], session);
        // member 2 receives the base OTs from member 1, so its round-1 message is empty; one with content is refused
        var bad = new EcdsaSetupMessage(m2[0].Session, m2[0].Sender, m2[0].Recipient, 1, [G.Generator, G.Generator], [G.One], []);
        Assert.Throws<ProtocolException>(() => s1.Receive([bad]));
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => s1.Receive(m2)).Fault);
        Assert.Null(s1.Result);
    }

    [Fact]
    public void Setup_messages_of_another_session_or_round_are_refused_naming_the_sender()
    {
        var s1 = EcdsaSetup.Start(Shares.Value[0], new EcdsaSetupSession(Shares.Value[0].Public)).State;
        var (_, other) = EcdsaSetup.Start(Shares.Value[1], new EcdsaSetupSession(Shares.Value[0].Public));
        var e = Assert.Throws<ProtocolException>(() => s1.Receive(other));
        Assert.Equal(Fault.WrongSession, e.Fault);
        Assert.Equal([Id(2)], e.Culprits);
    }

    [Fact]
    public void Multiplication_gives_additive_shares_of_the_product()
    {
        var keys = EcdsaRunner.Setup(Shares.Value);
        var bobSide = keys[0].Pair(Id(2));   // member 1 as Bob towards 2
        var aliceSide = keys[1].Pair(Id(1)); // member 2 as Alice towards 1
        var session = new byte[64];
        Random.Shared.NextBytes(session);
        for (int trial = 0; trial < 2; trial++)
        {
            var a = new[] { G.RandomScalar(), G.RandomScalar() };
            var (bob, kos) = RvoleReceiver.Start(bobSide, session, G);
            var chi = bob.Chi;
            var signing = new byte[64];
            Random.Shared.NextBytes(signing);
            var (c, reply) = Rvole.Respond(aliceSide, session, kos, a, signing);
            var d = bob.Finish(reply, signing);
            for (int k = 0; k < 2; k++) Assert.Equal(chi * a[k], c[k] + d[k]);
            Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => bob.Finish(reply, signing)).Fault);
        }
    }

    [Fact]
    public void Gf128_multiplication_is_a_field_multiplication()
    {
        var x = new Gf128(0, 1UL << 63); // x^127
        Assert.Equal(new Gf128(0x87, 0), Gf128.Multiply(x, new Gf128(2, 0)));
        var rnd = new Random(7);
        Gf128 R() => new((ulong)rnd.NextInt64() ^ ((ulong)rnd.Next() << 40), (ulong)rnd.NextInt64() ^ ((ulong)rnd.Next() << 33));
        for (int i = 0; i < 50; i++)
        {
            var (a, b, c) = (R(), R(), R());
            Assert.Equal(Gf128.Multiply(a, b), Gf128.Multiply(b, a));
            Assert.Equal(Gf128.Multiply(a, b ^ c), Gf128.Multiply(a, b) ^ Gf128.Multiply(a, c));
            Assert.Equal(Gf128.Multiply(Gf128.Multiply(a, b), c), Gf128.Multiply(a, Gf128.Multiply(b, c)));
            Assert.Equal(a, Gf128.Multiply(a, new Gf128(1, 0)));
        }
    }

    [Fact]
    public void Gf128_inner_product_and_the_carryless_multiplication_agree_with_the_portable_loop()
    {
        var rnd = new Random(11);
        Gf128 R() => new((ulong)rnd.NextInt64() ^ ((ulong)rnd.Next() << 40), (ulong)rnd.NextInt64() ^ ((ulong)rnd.Next() << 33));
        var a = Enumerable.Range(0, 100).Select(_ => R()).ToArray();
        var b = Enumerable.Range(0, 100).Select(_ => R()).ToArray();
        var expect = new Gf128(0, 0);
        for (int j = 0; j < a.Length; j++)
        {
            var (r0, r1, r2, r3) = Gf128.MulFullPortable(a[j], b[j]);
            // reduce the portable product with the same reduction by multiplying through the public API
            var viaApi = Gf128.Multiply(a[j], b[j]);
            expect ^= viaApi;
            Assert.True(r0 != 0 || r1 != 0 || r2 != 0 || r3 != 0);
        }
        Assert.Equal(expect, Gf128.InnerProduct(a, b));
        // the reference: bit-by-bit multiplication modulo x^128 + x^7 + x^2 + x + 1
        static Gf128 Slow(Gf128 x, Gf128 y)
        {
            var acc = new Gf128(0, 0);
            for (int i = 127; i >= 0; i--)
            {
                ulong carry = acc.Hi >> 63;
                acc = new Gf128((acc.Lo << 1) ^ (carry * 0x87), (acc.Hi << 1) | (acc.Lo >> 63));
                ulong bit = i < 64 ? (y.Lo >> i) & 1 : (y.Hi >> (i - 64)) & 1;
                if (bit == 1) acc ^= x;
            }
            return acc;
        }
        for (int j = 0; j < 20; j++) Assert.Equal(Slow(a[j], b[j]), Gf128.Multiply(a[j], b[j]));
    }

    [Fact]
    public void The_managed_SHAKE256_gives_the_standards_bytes()
    {
        // FIPS 202 / NIST example: SHAKE256 of the empty string
        var empty = new byte[32];
        OtHash.Shake([], empty);
        Assert.Equal("46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f", Convert.ToHexStringLower(empty));
        Assert.SkipUnless(System.Security.Cryptography.Shake256.IsSupported, "the platform has no SHAKE256 to compare with");
        var rnd = new Random(5);
        // inputs and outputs on both sides of the 136-byte rate, the digest reused between calls on this thread
        foreach (var (inLen, outLen) in new[] { (0, 1), (103, 128), (135, 136), (136, 137), (200, 300), (1000, 78) })
        {
            var input = new byte[inLen];
            rnd.NextBytes(input);
            var mine = new byte[outLen];
            OtHash.Shake(input, mine);
            Assert.Equal(System.Security.Cryptography.Shake256.HashData(input, outLen), mine);
        }
    }

    [Fact]
    public void Block_transpose_matches_the_bit_by_bit_transpose()
    {
        var cols = Enumerable.Range(0, OtParams.Kappa).Select(_ => System.Security.Cryptography.RandomNumberGenerator.GetBytes(OtParams.ColumnBytes)).ToArray();
        var rows = Rvole.Transpose(cols);
        Assert.Equal(OtParams.ExtendedRows, rows.Length);
        for (int j = 0; j < OtParams.ExtendedRows; j++)
        {
            ulong lo = 0, hi = 0;
            for (int i = 0; i < OtParams.Kappa; i++)
            {
                ulong bit = (ulong)((cols[i][j >> 3] >> (j & 7)) & 1);
                if (i < 64) lo |= bit << i; else hi |= bit << (i - 64);
            }
            Assert.Equal(new Gf128(lo, hi), rows[j]);
        }
    }
}

public class EcdsaReshareTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static Identifier Id(ulong i) => Identifier.FromUInt64(G, i);

    [Fact]
    public void Refresh_and_restructure_keep_the_key_and_old_material_is_refused_by_name()
    {
        var epoch0 = EcdsaRunner.Keygen("reshare-test", 2, 3);
        var pk = epoch0[0].Public.GroupPublicKey;
        var digest = EcdsaCheck.Digest("after refresh");

        // Refresh: same members and threshold, new shares and new OT material.
        var epoch1 = EcdsaRunner.Reshare(epoch0.Take(2).ToArray(), [Id(1), Id(2), Id(3)], 2);
        Assert.Equal(pk, epoch1[0].Public.GroupPublicKey);
        Assert.Equal(1UL, epoch1[0].Share.Epoch);
        var sig = EcdsaRunner.Sign([epoch1[2], epoch1[0]], digest);
        Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, sig.ToBytes()));

        // Old material with the new share is refused, naming the member and the epochs.
        var e = Assert.Throws<ProtocolException>(() => EcdsaKeyShare.Create(epoch1[0].Share, epoch0[0].Pairs.Values));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([Id(1)], e.Culprits);
        Assert.Contains("epoch 0", e.Message);
        Assert.Contains("epoch 1", e.Message);
        // So is the stored form mixing them.
        var mixed = new EcdsaKeyShareData { Share = epoch1[0].Share.ToData(), Pairs = epoch0[0].ToData().Pairs };
        Assert.Equal(Fault.StaleShare, Assert.Throws<ProtocolException>(() => mixed.Validate()).Fault);
        // An old key share cannot join a signing of the new epoch.
        var session = new EcdsaSignSession(epoch1[0].Public, [Id(1), Id(2)], digest);
        var e2 = Assert.Throws<ProtocolException>(() => EcdsaSigner.Start(epoch0[0], session));
        Assert.Equal(Fault.StaleShare, e2.Fault);
        Assert.Equal([Id(1)], e2.Culprits);
        // Nor can a new share with old material of the same epoch number but another package (a second refresh from epoch 0).
        var fork = EcdsaRunner.Reshare(epoch0.Skip(1).ToArray(), [Id(1), Id(2), Id(3)], 2);
        var e3 = Assert.Throws<ProtocolException>(() => EcdsaKeyShare.Create(epoch1[1].Share, fork[1].Pairs.Values));
        Assert.Equal(Fault.StaleShare, e3.Fault);
        Assert.Contains("another public key package", e3.Message);

        // Restructure: a fourth member joins and the threshold rises to 3; the key and addresses stay.
        var epoch2 = EcdsaRunner.Reshare([epoch1[0], epoch1[1]], [Id(1), Id(2), Id(3), Id(4)], 3);
        Assert.Equal(pk, epoch2[0].Public.GroupPublicKey);
        var subset = new[] { epoch2[3], epoch2[1], epoch2[2] };
        var sig2 = EcdsaRunner.Sign(subset, digest);
        Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, sig2.ToBytes()));
        Assert.True(EcdsaCheck.Recovers(pk, digest, sig2));
    }

    [Fact]
    public void Stored_key_share_round_trips_and_signs()
    {
        var keys = EcdsaRunner.Keygen("store-test", 2, 3);
        var data = keys.Select(k => k.ToData()).ToArray();
        var json = System.Text.Json.JsonSerializer.Serialize(data[1]);
        var back = System.Text.Json.JsonSerializer.Deserialize<EcdsaKeyShareData>(json)!.Validate();
        var digest = EcdsaCheck.Digest("stored");
        var sig = EcdsaRunner.Sign([keys[0], back], digest);
        Assert.True(EcdsaCheck.DotNetVerifies(keys[0].Public.GroupPublicKey, digest, sig.ToBytes()));
        var truncated = new EcdsaKeyShareData { Share = data[1].Share, Pairs = [data[1].Pairs[0][..^1], data[1].Pairs[1]] };
        Assert.Throws<ArgumentException>(() => truncated.Validate());
        var missing = new EcdsaKeyShareData { Share = data[1].Share, Pairs = [data[1].Pairs[0]] };
        Assert.Equal(Fault.InvalidUsage, Assert.Throws<ProtocolException>(() => missing.Validate()).Fault);
        Assert.Equal(Fault.StaleShare, Assert.Throws<ProtocolException>(() => new EcdsaKeyShareData { Share = data[1].Share, Pairs = data[0].Pairs }.Validate()).Fault);
    }
}

public class EcdsaRepairTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static Identifier Id(ulong i) => Identifier.FromUInt64(G, i);

    [Fact]
    public void Repair_renews_the_repaired_members_pairs_and_its_old_material_is_refused_by_name()
    {
        var keys = EcdsaRunner.Keygen("repair-test", 2, 3);
        var pk = keys[0].Public.GroupPublicKey;
        var after = EcdsaRunner.Repair([keys[0], keys[1]], Id(3));
        Assert.Equal(Id(3), after[2].Identifier);
        Assert.Equal(keys[2].Share.SigningShare, after[2].Share.SigningShare);
        // The pair (1, 2) is untouched; pairs with 3 are new.
        Assert.Equal(keys[0].Pair(Id(2)).PairId, after[0].Pair(Id(2)).PairId);
        Assert.NotEqual(keys[0].Pair(Id(3)).PairId, after[0].Pair(Id(3)).PairId);
        var digest = EcdsaCheck.Digest("after repair");
        Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, EcdsaRunner.Sign([after[0], after[2]], digest).ToBytes()));
        Assert.True(EcdsaCheck.DotNetVerifies(pk, digest, EcdsaRunner.Sign([after[1], after[2]], digest).ToBytes()));
        // Whoever still holds member 3's lost key share and material is refused by member 1, by name.
        var session = new EcdsaSignSession(after[0].Public, [Id(1), Id(3)], digest);
        var (honest, _) = EcdsaSigner.Start(after[0], session);
        var (_, stale) = EcdsaSigner.Start(keys[2], session);
        var e = Assert.Throws<ProtocolException>(() => honest.Round2(stale));
        Assert.Equal(Fault.StaleShare, e.Fault);
        Assert.Equal([Id(3)], e.Culprits);
    }
}

public class EcdsaWireTests
{
    private static readonly Secp256k1Group G = Secp256k1Group.Instance;
    private static Identifier Id(ulong i) => Identifier.FromUInt64(G, i);
    private static readonly Lazy<KeyShare[]> Shares = new(() => DkgRunner.RunInProcess(Scheme.Secp256k1, "wire-test", 2, 2));

    [Fact]
    public void Setup_messages_decode_strictly_and_blame_the_sender()
    {
        var (_, msgs) = EcdsaSetup.Start(Shares.Value[0], new EcdsaSetupSession(Shares.Value[0].Public));
        var bytes = msgs[0].ToBytes();
        Assert.Equal(bytes, EcdsaSetupMessage.FromBytes(bytes).ToBytes());
        foreach (var bad in new[] { bytes[..^1], [.. bytes, 7] })
        {
            var e = Assert.Throws<ProtocolException>(() => EcdsaSetupMessage.FromBytes(bad));
            Assert.Equal(Fault.MalformedMessage, e.Fault);
            Assert.Equal([Id(1)], e.Culprits);
        }
        var wrongRound = (byte[])bytes.Clone();
        wrongRound[1 + 64 + 32 + 32] = 9;
        Assert.Contains("round 9", Assert.Throws<ProtocolException>(() => EcdsaSetupMessage.FromBytes(wrongRound)).Message);
        var wrongKind = (byte[])bytes.Clone();
        wrongKind[1 + 64 + 32 + 32 + 1] = 2;
        Assert.Contains("kind 2", Assert.Throws<ProtocolException>(() => EcdsaSetupMessage.FromBytes(wrongKind)).Message);
        // an empty message is one byte of kind and nothing after it
        var empty = EcdsaSetupMessage.Empty(msgs[0].Session, msgs[0].Sender, msgs[0].Recipient, 2).ToBytes();
        Assert.False(EcdsaSetupMessage.FromBytes(empty).HasContent);
        Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => EcdsaSetupMessage.FromBytes([.. empty, 0])).Fault);
        var wrongType = (byte[])bytes.Clone();
        wrongType[0] = 0x41;
        Assert.Equal([Id(1)], Assert.Throws<ProtocolException>(() => EcdsaSetupMessage.FromBytes(wrongType)).Culprits);
        // A point that is not on the curve.
        var badPoint = (byte[])bytes.Clone();
        badPoint[1 + 64 + 32 + 32 + 2] = 0x05;
        Assert.Equal(Fault.MalformedMessage, Assert.Throws<ProtocolException>(() => EcdsaSetupMessage.FromBytes(badPoint)).Fault);
    }

    [Fact]
    public void Pair_material_round_trips_and_refuses_damage()
    {
        var keys = EcdsaRunner.Setup(Shares.Value);
        var m = keys[0].Pair(Id(2));
        var b = m.ToBytes();
        Assert.Equal(b, EcdsaPairMaterial.FromBytes(b).ToBytes());
        Assert.Throws<ArgumentException>(() => EcdsaPairMaterial.FromBytes(b[..^1]));
        var v = (byte[])b.Clone();
        v[0] = 2;
        Assert.Throws<ArgumentException>(() => EcdsaPairMaterial.FromBytes(v));
        Assert.DoesNotContain("Seed", m.ToString());
    }

    [Fact]
    public void Signature_share_wire_round_trips()
    {
        var keys = EcdsaRunner.Setup(Shares.Value);
        var session = new EcdsaSignSession(keys[0].Public, [Id(1), Id(2)], new byte[32]);
        var s = keys.Select(k => EcdsaSigner.Start(k, session)).ToArray();
        var r2 = s.Select((x, i) => x.Signer.Round2(s[1 - i].Messages)).ToArray();
        var share = s[0].Signer.Round3(r2[1]);
        var bytes = share.ToBytes();
        Assert.Equal(bytes, EcdsaSignatureShare.FromBytes(bytes).ToBytes());
        Assert.Equal(1 + 64 + 32 + 33 + 32 + 32, bytes.Length);
        Assert.Equal([Id(1)], Assert.Throws<ProtocolException>(() => EcdsaSignatureShare.FromBytes(bytes[..^2])).Culprits);
    }
}
