using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Hashing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Node;

namespace Rotor.Rpc.Sessions;

/// <summary>
/// The commit of a key generation, like a reshare's (issue 10): every member stores its new shards as pending and signs,
/// with its node identity key, a confirmation of the public packages it computed (one transcript hash over every key's
/// package: group key Y, verification shares, members' identity keys). Only a certificate of matching confirmations from
/// every member (<see cref="Verify"/>) lets a node activate its shards (SignerNodeService.Commit); a member's renunciation
/// (it never confirms) proves that no certificate can exist, and the pending shards are discarded. The certificate travels
/// in a <see cref="CommitRequest"/> whose start request is the key generation's, with one <see cref="Confirmation"/> per member.
/// </summary>
public static class DkgCommit
{
    private static readonly byte[] Domain = "rotor/dkg/confirmation/v1\0"u8.ToArray();

    /// <summary>Transcript hash (64 bytes) then the Ed25519 signature (64 bytes).</summary>
    public const int ConfirmationLength = 128;

    /// <summary>The event id of a key generation: every member derives it from the node-level session id.</summary>
    public static string EventIdOf(ReadOnlySpan<byte> sessionId) => "dkg-" + Convert.ToHexStringLower(sessionId[..12]);

    /// <summary>True for the event id of a key generation (a reshare's starts with ev-).</summary>
    public static bool IsDkgEvent(string eventId) => eventId.StartsWith("dkg-", StringComparison.Ordinal);

    /// <summary>The transcript hash a member confirms: every key's public package, in key id order.</summary>
    public static byte[] TranscriptHash(IEnumerable<PublicKeyPackage> packages)
    {
        using var t = new Transcript("rotor/dkg/transcript/v1");
        foreach (var p in packages.OrderBy(p => p.KeyId, StringComparer.Ordinal)) t.Append("key-id", p.KeyId).Append("package", ValidatedPackages.Digest(p));
        return t.Digest();
    }

    private static byte[] SigningBytes(ReadOnlySpan<byte> sessionId, string node, ReadOnlySpan<byte> transcriptHash)
    {
        using var t = new Transcript("rotor/dkg/confirmation/v1");
        return [.. Domain, .. t.Append("session-id", sessionId).Append("node", node).Append("transcript", transcriptHash).Digest()];
    }

    /// <summary>A member's signed confirmation of <paramref name="transcriptHash"/> in the session.</summary>
    public static byte[] Confirm(NodeIdentity identity, ReadOnlySpan<byte> sessionId, string node, byte[] transcriptHash) =>
        [.. transcriptHash, .. identity.Sign(SigningBytes(sessionId, node, transcriptHash))];

    /// <summary>
    /// Verifies a key generation's commit certificate for the node-level session <paramref name="sessionId"/> (which binds
    /// key ids, scheme, threshold, members and the nonce): exactly one confirmation from every member, each signed under
    /// that member's identity key, all of one transcript hash, which is returned. Refuses naming the members at fault.
    /// </summary>
    public static byte[] Verify(CommitRequest commit, ReadOnlySpan<byte> sessionId, Func<Party, IdentityKeys> identityKey)
    {
        var p = commit.Start?.Dkg ?? throw new ArgumentException($"the commit certificate of {commit.EventId} carries no key generation start request");
        if (commit.EventId != EventIdOf(sessionId)) throw new ArgumentException($"the commit certificate's event {commit.EventId} is not this key generation's");
        var signed = new Dictionary<string, byte[]>();
        foreach (var c in commit.Certificate)
        {
            if (!p.Parties.Any(x => x.Name == c.Node))
                throw new ProtocolException(Fault.UnexpectedSender, $"confirmation from '{c.Node}', who is not a member of key generation {commit.EventId}");
            if (signed.ContainsKey(c.Node)) throw new ProtocolException(Fault.DuplicateMessage, $"'{c.Node}' sent two confirmations of key generation {commit.EventId}");
            if (c.Signed.Length != ConfirmationLength)
                throw new ProtocolException(Fault.MalformedMessage, $"'{c.Node}''s confirmation of key generation {commit.EventId} is {c.Signed.Length} bytes, not {ConfirmationLength}");
            signed[c.Node] = c.Signed.ToByteArray();
        }
        var missing = p.Parties.Where(x => !signed.ContainsKey(x.Name)).Select(x => x.Name).ToList();
        if (missing.Count > 0) throw new ProtocolException(Fault.InvalidUsage, $"no confirmation of key generation {commit.EventId} from {string.Join(", ", missing)}");
        foreach (var party in p.Parties)
        {
            var s = signed[party.Name];
            if (!identityKey(party).Verify(SigningBytes(sessionId, party.Name, s.AsSpan(0, 64)), s.AsSpan(64)))
                throw new ProtocolException(Fault.InvalidProof, $"'{party.Name}''s confirmation of key generation {commit.EventId} does not verify under its identity key");
        }
        var groups = signed.GroupBy(s => Convert.ToHexStringLower(s.Value.AsSpan(0, 64))).ToList();
        if (groups.Count > 1)
            throw new ProtocolException(Fault.TranscriptMismatch,
                $"the members of key generation {commit.EventId} confirmed different key packages: {string.Join(" vs ", groups.Select(g => "{" + string.Join(",", g.Select(x => x.Key).Order()) + "}"))}");
        return signed.First().Value[..64];
    }

    /// <summary>Whether these renounced members make a certificate impossible: it needs every member's confirmation.</summary>
    public static bool CertificateImpossible(DkgParams p, IReadOnlyCollection<string> renounced) => renounced.Any(r => p.Parties.Any(x => x.Name == r));
}
