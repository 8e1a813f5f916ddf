using System.Text;
using System.Text.Json.Nodes;
using Rotor.Crypto.Envelopes;
using Rotor.Rpc.Backups;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.TestSupport;

namespace Rotor.Node.Tests.Backups;

public sealed class BackupFileTests
{
    private const string Pass = "correct horse battery staple";
    private static readonly DateTimeOffset When = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    // Member 1's shards of three wallets; made once (each passphrase open costs one Argon2id run).
    private static readonly KeyShare[] Shards =
    [
        TestKeys.Deal(Scheme.Ed25519, 2, 3, "w-ed", 4).Shares[0],
        TestKeys.Deal(Scheme.Secp256k1, 2, 3, "w-k1", 0).Shares[0],
        TestKeys.Deal(Scheme.Bip340, 3, 5, "w-tr", 7).Shares[0],
    ];

    private static readonly byte[] PassphraseFile = BackupFile.Create("cs1", Shards, BackupLock.Passphrase(Pass), "bk-00112233445566aa", When);

    private static readonly SealedBoxKey OperatorKey = SealedBoxKey.Create();
    private static readonly byte[] RecipientFile = BackupFile.Create("cs1", Shards, BackupLock.Recipient(OperatorKey.PublicKey), "bk-00112233445566bb", When);

    private static BackupException Refused(Action a) => Assert.Throws<BackupException>(a);

    private static void AssertSameShares(IReadOnlyList<KeyShare> expected, IReadOnlyList<KeyShare> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].KeyId, actual[i].KeyId);
            Assert.Equal(expected[i].Scheme, actual[i].Scheme);
            Assert.Equal(expected[i].Epoch, actual[i].Epoch);
            Assert.Equal(expected[i].Threshold, actual[i].Threshold);
            Assert.Equal(expected[i].Members, actual[i].Members);
            Assert.Equal(expected[i].Identifier, actual[i].Identifier);
            Assert.Equal(expected[i].SigningShare, actual[i].SigningShare);
            Assert.Equal(expected[i].GroupPublicKey, actual[i].GroupPublicKey);
        }
    }

    [Fact]
    public void Passphrase_backup_round_trips_every_shard_with_its_binding()
    {
        var file = BackupFile.Parse(PassphraseFile);
        Assert.Equal("bk-00112233445566aa", file.Id);
        Assert.Equal("cs1", file.Node);
        Assert.Equal(When, file.Created);
        Assert.Equal(BackupMode.Passphrase, file.Mode);
        Assert.Equal(["w-ed", "w-k1", "w-tr"], file.Shards.Select(s => s.Wallet));
        Assert.Equal([4UL, 0UL, 7UL], file.Shards.Select(s => s.Epoch));
        Assert.Equal(Shards[2].VerifyingShare, file.Shards[2].VerifyingShare);
        Assert.Equal(5, file.Shards[2].Members.Count);
        AssertSameShares(Shards, file.Open(BackupKey.Passphrase(Pass)));
    }

    [Fact]
    public void Recipient_backup_round_trips_and_opens_only_with_the_recipient_key()
    {
        using var other = SealedBoxKey.Create();
        var operatorKey = OperatorKey;
        var file = BackupFile.Parse(RecipientFile);
        Assert.Equal(BackupMode.Recipient, file.Mode);
        Assert.Equal(operatorKey.PublicKey, file.RecipientKey);
        AssertSameShares(Shards, file.Open(BackupKey.Recipient(operatorKey)));

        var wrong = Refused(() => file.Open(BackupKey.Recipient(other)));
        Assert.Equal(BackupFault.WrongKey, wrong.Fault);
        Assert.Contains(Convert.ToHexStringLower(operatorKey.PublicKey), wrong.Message);
        Assert.Equal(BackupFault.WrongKey, Refused(() => file.Open(BackupKey.Passphrase(Pass))).Fault);
        Assert.Equal(BackupFault.WrongKey, Refused(() => BackupFile.Parse(PassphraseFile).Open(BackupKey.Recipient(operatorKey))).Fault);
    }

    [Fact]
    public void Wrong_passphrase_is_named_as_such()
    {
        var e = Refused(() => BackupFile.Parse(PassphraseFile).Open(BackupKey.Passphrase("incorrect horse")));
        Assert.Equal(BackupFault.WrongPassphrase, e.Fault);
        Assert.Contains("passphrase does not open it", e.Message);
        Assert.Contains("bk-00112233445566aa", e.Message);
    }

    [Fact]
    public void Every_proper_prefix_of_a_file_is_reported_truncated()
    {
        for (int cut = 0; cut < PassphraseFile.Length; cut++)
        {
            var e = Refused(() => BackupFile.Parse(PassphraseFile.AsSpan(0, cut)));
            Assert.True(e.Fault == BackupFault.Truncated, $"cut at {cut}: {e.Fault}: {e.Message}");
        }
        Assert.Contains("truncated", Refused(() => BackupFile.Parse(PassphraseFile.AsSpan(0, PassphraseFile.Length / 2))).Message);
    }

    [Fact]
    public void Garbage_and_foreign_documents_are_malformed_or_unsupported()
    {
        Assert.Equal(BackupFault.Malformed, Refused(() => BackupFile.Parse("{\"x\": 1} trailing"u8)).Fault);
        Assert.Equal(BackupFault.Malformed, Refused(() => BackupFile.Parse("not json at all"u8)).Fault);
        Assert.Equal(BackupFault.Malformed, Refused(() => BackupFile.Parse(Edit(j => j["format"] = "something-else"))).Fault);
        Assert.Equal(BackupFault.Unsupported, Refused(() => BackupFile.Parse(Edit(j => j["version"] = 2))).Fault);
        Assert.Equal(BackupFault.Unsupported, Refused(() => BackupFile.Parse(Edit(j => j["protection"]!["passes"] = 1))).Fault);
        Assert.Equal(BackupFault.Malformed, Refused(() => BackupFile.Parse(Edit(j => j["shards"]![0]!["verifying_share"] = "00"))).Fault);
        Assert.Equal(BackupFault.Malformed, Refused(() => BackupFile.Parse(Edit(j => j["shards"]!.AsArray().Add(j["shards"]![0]!.DeepClone())))).Fault);
        Assert.Equal(BackupFault.Malformed, Refused(() => BackupFile.Parse(Edit(j => j["surprise"] = true))).Fault);
    }

    public static TheoryData<string> BindingEdits() =>
    [
        "node", "created", "backup_id", "wallet", "scheme", "epoch", "threshold", "members", "identifier",
        "verifying_share", "group_public_key", "ciphertext", "nonce", "wrapped_key", "swap", "drop", "transplant",
    ];

    // Recipient mode keeps these fast (no Argon2id); the header binding is the same in both modes.
    [Theory]
    [MemberData(nameof(BindingEdits))]
    public void Any_edit_of_a_binding_field_or_ciphertext_is_reported_tampered(string edit)
    {
        var other = TestKeys.Deal(Scheme.Ed25519, 2, 3, "w-ed", 4).Shares;
        var otherFile = JsonNode.Parse(BackupFile.Create("cs1", [other[0], Shards[1], Shards[2]], BackupLock.Recipient(OperatorKey.PublicKey), "bk-00112233445566bb", When))!;
        var bytes = Edit(RecipientFile, j =>
        {
            var s0 = j["shards"]![0]!;
            switch (edit)
            {
                case "node": j["node"] = "cs9"; break;
                case "created": j["created"] = "2025-03-01T12:00:01.000Z"; break;
                case "backup_id": j["backup_id"] = "bk-00112233445566ab"; break;
                case "wallet": s0["wallet"] = "w-ed2"; break;
                case "scheme": j["shards"]![1]!["scheme"] = "bip340"; break;
                case "epoch": s0["epoch"] = 3; break;
                case "threshold": s0["threshold"] = 3; break;
                case "members": s0["members"] = new JsonArray(s0["members"]![0]!.DeepClone(), s0["members"]![1]!.DeepClone()); break;
                case "identifier": s0["identifier"] = s0["members"]![1]!.DeepClone(); break;
                case "verifying_share": s0["verifying_share"] = other[1].VerifyingShare.ToHex(); break;
                case "group_public_key": s0["group_public_key"] = other[1].GroupPublicKey.ToHex(); break;
                case "ciphertext": s0["ciphertext"] = FlipBit(s0["ciphertext"]!.GetValue<string>(), 40); break;
                case "nonce": s0["nonce"] = FlipBit(s0["nonce"]!.GetValue<string>(), 0); break;
                case "wrapped_key": j["protection"]!["wrapped_key"] = FlipBit(j["protection"]!["wrapped_key"]!.GetValue<string>(), 50); break;
                case "swap":
                    var arr = j["shards"]!.AsArray();
                    var first = arr[0]!.DeepClone();
                    arr[0] = arr[1]!.DeepClone();
                    arr[1] = first;
                    break;
                case "drop": j["shards"]!.AsArray().RemoveAt(2); break;
                case "transplant":
                    // The same wallet's shard from another backup with the same id and header.
                    s0["ciphertext"] = otherFile["shards"]![0]!["ciphertext"]!.DeepClone();
                    s0["nonce"] = otherFile["shards"]![0]!["nonce"]!.DeepClone();
                    break;
            }
        });
        var file = BackupFile.Parse(bytes);
        var e = Refused(() => file.Open(BackupKey.Recipient(OperatorKey)));
        Assert.True(e.Fault == BackupFault.Tampered, $"{edit}: {e.Fault}: {e.Message}");
        Assert.Contains("was altered after it was written", e.Message);
    }

    [Fact]
    public void Edited_passphrase_backup_is_reported_tampered_not_as_a_wrong_passphrase()
    {
        var file = BackupFile.Parse(Edit(PassphraseFile, j => j["shards"]![2]!["epoch"] = 6));
        var e = Refused(() => file.Open(BackupKey.Passphrase(Pass)));
        Assert.Equal(BackupFault.Tampered, e.Fault);
        Assert.Contains("shard 0 (wallet 'w-ed') fails authentication", e.Message);
    }

    [Fact]
    public void Edited_key_derivation_salt_reads_as_a_wrong_passphrase_that_names_the_possibility()
    {
        var file = BackupFile.Parse(Edit(j => j["protection"]!["salt"] = FlipBit(j["protection"]!["salt"]!.GetValue<string>(), 3)));
        var e = Refused(() => file.Open(BackupKey.Passphrase(Pass)));
        Assert.Equal(BackupFault.WrongPassphrase, e.Fault);
        Assert.Contains("altered", e.Message);
    }

    [Fact]
    public void File_holds_no_signing_share_in_clear()
    {
        foreach (var bytes in new[] { PassphraseFile, RecipientFile })
            foreach (var s in Shards)
            {
                var secret = s.SigningShare.ToBytes();
                foreach (var needle in new[]
                         {
                             secret, Encoding.ASCII.GetBytes(Convert.ToBase64String(secret)),
                             Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret)), Encoding.ASCII.GetBytes(Convert.ToHexString(secret)),
                         })
                    Assert.True(bytes.AsSpan().IndexOf(needle) < 0, "a signing share appears in clear in the backup file");
            }
    }

    [Fact]
    public void Create_refuses_bad_input()
    {
        Assert.Throws<ArgumentException>(() => BackupFile.Create("cs1", [], BackupLock.Passphrase(Pass), BackupFile.NewId(), When));
        Assert.Throws<ArgumentException>(() => BackupFile.Create("cs1", [Shards[0], Shards[0]], BackupLock.Passphrase(Pass), BackupFile.NewId(), When));
        Assert.Throws<ArgumentException>(() => BackupFile.Create("cs 1", Shards, BackupLock.Passphrase(Pass), BackupFile.NewId(), When));
        Assert.Throws<ArgumentException>(() => BackupFile.Create("cs1", Shards, BackupLock.Passphrase(Pass), "backup-1", When));
        Assert.Throws<ArgumentException>(() => BackupLock.Passphrase(""));
        Assert.Throws<ArgumentException>(() => BackupLock.Recipient(new byte[31]));
    }

    private static byte[] Edit(Action<JsonNode> edit) => Edit(PassphraseFile, edit);

    private static byte[] Edit(byte[] original, Action<JsonNode> edit)
    {
        var j = JsonNode.Parse(original)!;
        edit(j);
        return Encoding.UTF8.GetBytes(j.ToJsonString());
    }

    private static string FlipBit(string base64, int byteIndex)
    {
        var b = Convert.FromBase64String(base64);
        b[byteIndex] ^= 0x01;
        return Convert.ToBase64String(b);
    }
}
