using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using Rotor.Crypto;
using Rotor.Crypto.Envelopes;
using Rotor.Rpc.Backups;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Sessions;
using Rotor.TestSupport;

namespace Rotor.Node.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of the node's decoders of files, stored records and JSON payloads: backup files (header and
/// sealed part), stored vault records (the plaintext of a shard), signing packages and commitments as a node receives
/// them, and the key packages of a start request. Valid encodings of every scheme (the corpus, built here) are
/// mutated (bit flips, truncation, extension, a byte replaced, a count set huge, bytes inserted, a range duplicated);
/// each must decode to the same valid value or be refused with the project's own exception, never
/// IndexOutOfRange, NullReference, OutOfMemory, InvalidCast or an overflow. ROTOR_FUZZ_CASES sets the cases per
/// decoder (150 by default; docs/architecture.md, "Fuzzing", for a long run).
/// </summary>
public class RecordFuzzTests
{
    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("ROTOR_FUZZ_CASES"), out var n) && n > 0 ? n : 150;

    private static void Run(Property property) => Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true), property);

    private static Arbitrary<(int Seed, Mutation Mutation)> Mutations(int seeds) =>
        (from seed in Gen.Choose(0, seeds - 1)
         from kind in Gen.Choose(0, Mutation.Kinds - 1)
         from position in Gen.Choose(0, int.MaxValue)
         from value in Gen.Choose(0, 255)
         from extra in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()
         select (seed, new Mutation(kind, position, value, extra))).ToArbitrary();

    /// <summary>
    /// Decodes every mutation of the corpus. A decode that succeeds has passed every check of the real decoder (a
    /// mutation can make another valid value: a different message to sign, another key id); <paramref name="decode"/>
    /// returns false only for a value that should not have passed.
    /// </summary>
    private static Property Fuzz(IReadOnlyList<byte[]> corpus, Func<int, byte[], bool> decode, params Type[] refusals) =>
        Prop.ForAll(Mutations(corpus.Count), c =>
        {
            var mutated = c.Mutation.Apply(corpus[c.Seed]);
            try { return decode(c.Seed, mutated); }
            catch (Exception e) when (refusals.Any(t => t.IsInstanceOfType(e))) { return true; }
        });

    private static readonly KeyShare[] Shares =
    [
        TestKeys.Deal(Scheme.Ed25519, 2, 3, "w-ed", 4).Shares[0],
        TestKeys.Deal(Scheme.Secp256k1, 2, 3, "w-k1", 0).Shares[1],
        TestKeys.Deal(Scheme.Bip340, 3, 5, "w-tr", 7).Shares[2],
    ];

    [Fact]
    public void Stored_vault_records()
    {
        var corpus = Shares.Select(s => JsonSerializer.SerializeToUtf8Bytes(s.ToData())).ToList();
        Run(Fuzz(corpus, (i, b) =>
        {
            var share = ShareVault.DecodeRecord(b, "fuzzed record");
            // s·G matches the verification share and the group key is consistent: the decoder checked it.
            return share.Public.VerifyingShares.ContainsKey(share.Identifier);
        }, typeof(VaultException)));
    }

    private static readonly SealedBoxKey OperatorKey = SealedBoxKey.Create();

    [Fact]
    public void Backup_files_header_and_sealed_part()
    {
        var when = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var corpus = new[]
        {
            BackupFile.Create("cs1", Shares, BackupLock.Recipient(OperatorKey.PublicKey), "bk-00112233445566bb", when),
            BackupFile.Create("cs2", [Shares[1]], BackupLock.Recipient(OperatorKey.PublicKey), "bk-00112233445566cc", when),
        };
        Run(Fuzz(corpus, (i, b) =>
        {
            var file = BackupFile.Parse(b);
            var opened = file.Open(BackupKey.Recipient(OperatorKey));
            return opened.Count == (i == 0 ? 3 : 1);
        }, typeof(BackupException)));
    }

    [Fact]
    public void Signing_packages_and_commitments_as_a_node_receives_them()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Secp256k1, 2, 3, "w-sign", 3);
        var pub = shares[0].Public;
        var commitments = shares.Take(2).Select(s => FrostSigner.Commit(s).Commitments).ToList();
        var package = SigningPackage.Create(pub, commitments, "a message"u8);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        var packages = new[] { JsonSerializer.SerializeToUtf8Bytes(package.ToData(), options) };
        Run(Fuzz(packages, (_, b) => Json.Decode<SigningPackageData>(b, "signing package").Validate(pub).Commitments.Count >= pub.Threshold,
            typeof(SessionRefusedException), typeof(ProtocolException)));
        var single = commitments.Select(c => JsonSerializer.SerializeToUtf8Bytes(c.ToData(), options)).ToList();
        Run(Fuzz(single, (i, b) => Json.Decode<SigningCommitmentsData>(b, "commitments").Validate(Scheme.Secp256k1).KeyId.Length >= 0,
            typeof(SessionRefusedException), typeof(ProtocolException)));
    }

    /// <summary>Structured mutations of the JSON records: every field in turn set to null, to another type, or removed.</summary>
    [Fact]
    public void Every_field_of_a_json_record_nulled_retyped_or_removed_is_refused_or_still_valid()
    {
        var (shares, _) = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w-null", 1);
        var pub = shares[0].Public;
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        var commitments = shares.Take(2).Select(s => FrostSigner.Commit(s).Commitments).ToList();
        var cases = new (byte[] Json, Action<byte[]> Decode, Type[] Refusals)[]
        {
            (JsonSerializer.SerializeToUtf8Bytes(shares[0].ToData()), b => ShareVault.DecodeRecord(b, "record"), [typeof(VaultException)]),
            (JsonSerializer.SerializeToUtf8Bytes(SigningPackage.Create(pub, commitments, "m"u8).ToData(), options),
                b => Json.Decode<SigningPackageData>(b, "package").Validate(pub), [typeof(SessionRefusedException), typeof(ProtocolException)]),
            (BackupFile.Create("cs1", [shares[0]], BackupLock.Recipient(OperatorKey.PublicKey), "bk-00112233445566dd", DateTimeOffset.UtcNow),
                b => BackupFile.Parse(b).Open(BackupKey.Recipient(OperatorKey)), [typeof(BackupException)]),
            (JsonSerializer.SerializeToUtf8Bytes(commitments[0].ToData(), options),
                b => Json.Decode<SigningCommitmentsData>(b, "commitments").Validate(Scheme.Ed25519), [typeof(SessionRefusedException), typeof(ProtocolException)]),
        };
        foreach (var (json, decode, refusals) in cases)
        {
            foreach (var path in Paths(System.Text.Json.Nodes.JsonNode.Parse(json)!, []))
            {
                foreach (var replacement in new Func<System.Text.Json.Nodes.JsonNode?>[] { () => null, () => 7, () => "x", () => new System.Text.Json.Nodes.JsonArray(), () => new System.Text.Json.Nodes.JsonObject() })
                {
                    var copy = System.Text.Json.Nodes.JsonNode.Parse(json)!;
                    Set(copy, path, replacement(), remove: false);
                    Attempt(copy, path);
                }
                var removed = System.Text.Json.Nodes.JsonNode.Parse(json)!;
                Set(removed, path, null, remove: true);
                Attempt(removed, path);
            }
            void Attempt(System.Text.Json.Nodes.JsonNode o, IReadOnlyList<object> path)
            {
                try { decode(System.Text.Encoding.UTF8.GetBytes(o.ToJsonString())); }
                catch (Exception e) when (refusals.Any(t => t.IsInstanceOfType(e))) { }
                catch (Exception e) { Assert.Fail($"field {string.Join(".", path)}: {e.GetType().Name}: {e.Message}"); }
            }
        }
    }

    /// <summary>Every path (object keys and array indexes) of a JSON document, depth first.</summary>
    private static IEnumerable<IReadOnlyList<object>> Paths(System.Text.Json.Nodes.JsonNode node, IReadOnlyList<object> at)
    {
        if (node is System.Text.Json.Nodes.JsonObject o)
            foreach (var (k, v) in o)
            {
                IReadOnlyList<object> p = [.. at, k];
                yield return p;
                if (v is not null) foreach (var q in Paths(v, p)) yield return q;
            }
        else if (node is System.Text.Json.Nodes.JsonArray a)
            for (int i = 0; i < a.Count; i++)
            {
                IReadOnlyList<object> p = [.. at, i];
                yield return p;
                if (a[i] is { } v) foreach (var q in Paths(v, p)) yield return q;
            }
    }

    private static void Set(System.Text.Json.Nodes.JsonNode root, IReadOnlyList<object> path, System.Text.Json.Nodes.JsonNode? value, bool remove)
    {
        var parent = root;
        foreach (var step in path.Take(path.Count - 1)) parent = step is string k ? parent[k]! : parent[(int)step]!;
        switch (path[^1])
        {
            case string k when remove: parent.AsObject().Remove(k); break;
            case string k: parent[k] = value; break;
            case int i when remove: parent.AsArray().RemoveAt(i); break;
            case int i: parent[i] = value; break;
        }
    }

    [Fact]
    public void Key_packages_of_a_start_request()
    {
        var corpus = Shares.Select(s =>
        {
            var p = new Rotor.Rpc.Node.KeyPackage { KeyId = s.KeyId, Scheme = s.Public.Scheme.Name(), Epoch = s.Epoch, Threshold = (uint)s.Public.Threshold,
                GroupPublicKey = ByteString.CopyFrom(s.Public.GroupPublicKey.Encoding) };
            foreach (var (id, y) in s.Public.VerifyingShares) p.VerifyingShares.Add(ulong.Parse(id.ToString()), ByteString.CopyFrom(y.Encoding));
            return p.ToByteArray();
        }).ToList();
        Run(Fuzz(corpus, (i, b) => ReshareSetup.Package(Rotor.Rpc.Node.KeyPackage.Parser.ParseFrom(b)).VerifyingShares.Count > 0,
            typeof(InvalidProtocolBufferException), typeof(ArgumentException), typeof(ProtocolException), typeof(RotorCryptoException)));
    }
}
