using System.Security.Cryptography;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Sessions;

/// <summary>The protocols a session can run.</summary>
public enum SessionProtocol
{
    Dkg,
    Reshare,
    Repair,
    Sign,
}

/// <summary>
/// Identifies one protocol run. Binds the protocol, key id, scheme, old and new epochs, old and new member
/// sets and thresholds, and a fresh 32-byte nonce; <see cref="Digest"/> (SHA-512 over all of it, framed) goes
/// into every message, so a message from another session, key or epoch is rejected. Public.
/// For a DKG there is no old quorum (empty old members, old threshold 0) and the new epoch is 0.
/// </summary>
public sealed class SessionId : IEquatable<SessionId>
{
    public const int NonceLength = 32;

    public SessionId(SessionProtocol protocol, string keyId, Scheme scheme,
        ulong oldEpoch, IReadOnlyList<Identifier> oldMembers, int oldThreshold,
        ulong newEpoch, IReadOnlyList<Identifier> newMembers, int newThreshold,
        ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> oldPackage = default, IReadOnlyDictionary<Identifier, byte[]>? newMemberKeys = null)
    {
        KeyIds.Validate(keyId);
        if (nonce.Length != NonceLength) throw new ArgumentException($"session nonce must be {NonceLength} bytes");
        if (newMembers.Count == 0) throw new ArgumentException("no new members");
        if (newThreshold < 1 || newThreshold > newMembers.Count) throw new ArgumentException($"new threshold {newThreshold} is outside 1..{newMembers.Count}");
        if (oldMembers.Count > 0 && (oldThreshold < 1 || oldThreshold > oldMembers.Count)) throw new ArgumentException($"old threshold {oldThreshold} is outside 1..{oldMembers.Count}");
        CheckDistinct(oldMembers, "old");
        CheckDistinct(newMembers, "new");
        Protocol = protocol;
        KeyId = keyId;
        Scheme = scheme;
        OldEpoch = oldEpoch;
        OldMembers = oldMembers.OrderBy(i => i).ToArray();
        OldThreshold = oldThreshold;
        NewEpoch = newEpoch;
        NewMembers = newMembers.OrderBy(i => i).ToArray();
        NewThreshold = newThreshold;
        Nonce = nonce.ToArray();
        OldPackage = oldPackage.ToArray();
        if (newMemberKeys is not null && newMemberKeys.Count > 0)
        {
            PublicKeyPackage.CheckMemberKeys(NewMembers, newMemberKeys);
            NewMemberKeys = NewMembers.ToDictionary(m => m, m => newMemberKeys[m].ToArray());
        }
        else NewMemberKeys = new Dictionary<Identifier, byte[]>();

        using var t = new Transcript("rotor/session-id/v1");
        t.Append("protocol", Protocol.ToString())
         .Append("key-id", KeyId)
         .Append("scheme", Scheme.Name())
         .Append("old-epoch", OldEpoch)
         .Append("old-threshold", (ulong)OldThreshold)
         .Append("old-members", OldMembers.Select(m => m.Scalar).ToArray())
         .Append("new-epoch", NewEpoch)
         .Append("new-threshold", (ulong)NewThreshold)
         .Append("new-members", NewMembers.Select(m => m.Scalar).ToArray())
         .Append("nonce", Nonce)
         .Append("old-package", OldPackage)
         .Append("new-member-keys", (ulong)NewMemberKeys.Count);
        foreach (var m in NewMembers)
            if (NewMemberKeys.TryGetValue(m, out var k)) t.Append("new-member", m.Scalar).Append("identity", k);
        Digest = t.Digest();
    }

    /// <summary>A DKG session creating epoch 0 of a new key.</summary>
    /// <param name="memberKeys">Each member's node identity key: bound into the session (so every message, the
    /// confirmations included, carries members' agreement on them) and recorded in the resulting package.</param>
    public static SessionId ForDkg(string keyId, Scheme scheme, IReadOnlyList<Identifier> members, int threshold, ReadOnlySpan<byte> nonce = default,
        IReadOnlyDictionary<Identifier, byte[]>? memberKeys = null) =>
        new(SessionProtocol.Dkg, keyId, scheme, 0, [], 0, 0, members, threshold, NonceOrFresh(nonce), newMemberKeys: memberKeys);

    /// <summary>
    /// A reshare (refresh when members and threshold are unchanged) from the given epoch to the next. Binds the whole
    /// old package (<see cref="PublicKeyPackage.Digest"/>: Y, every Y_i, threshold, epoch, member identities), and the
    /// new members' identity keys when given (recorded in the new package).
    /// </summary>
    public static SessionId ForReshare(PublicKeyPackage current, IReadOnlyList<Identifier> newMembers, int newThreshold, ReadOnlySpan<byte> nonce = default,
        IReadOnlyDictionary<Identifier, byte[]>? newMemberKeys = null) =>
        new(SessionProtocol.Reshare, current.KeyId, current.Scheme, current.Epoch, current.Members, current.Threshold,
            current.Epoch + 1, newMembers, newThreshold, NonceOrFresh(nonce), current.Digest, newMemberKeys);

    /// <summary>A repair of one member's share of the current epoch (the epoch does not change); binds the whole package.</summary>
    public static SessionId ForRepair(PublicKeyPackage current, ReadOnlySpan<byte> nonce = default) =>
        new(SessionProtocol.Repair, current.KeyId, current.Scheme, current.Epoch, current.Members, current.Threshold,
            current.Epoch, current.Members, current.Threshold, NonceOrFresh(nonce), current.Digest);

    public SessionProtocol Protocol { get; }
    public string KeyId { get; }
    public Scheme Scheme { get; }
    public ulong OldEpoch { get; }
    public IReadOnlyList<Identifier> OldMembers { get; }
    public int OldThreshold { get; }
    public ulong NewEpoch { get; }
    public IReadOnlyList<Identifier> NewMembers { get; }
    public int NewThreshold { get; }
    public byte[] Nonce { get; }

    /// <summary><see cref="PublicKeyPackage.Digest"/> of the old package (reshare, repair); empty for a DKG.</summary>
    public byte[] OldPackage { get; }

    /// <summary>The new members' node identity keys (raw Ed25519), recorded in the new package; empty when not bound.</summary>
    public IReadOnlyDictionary<Identifier, byte[]> NewMemberKeys { get; }

    /// <summary>Whether this session binds exactly this old package.</summary>
    public bool BindsOldPackage(PublicKeyPackage p) => OldPackage.Length > 0 && CryptographicOperations.FixedTimeEquals(OldPackage, p.Digest);

    /// <summary>64-byte digest of every field: what messages carry and transcripts start with.</summary>
    public byte[] Digest { get; }

    public bool Matches(ReadOnlySpan<byte> digest) => CryptographicOperations.FixedTimeEquals(Digest, digest);

    public bool Equals(SessionId? other) => other is not null && Matches(other.Digest);
    public override bool Equals(object? obj) => obj is SessionId s && Equals(s);
    public override int GetHashCode() => BitConverter.ToInt32(Digest, 0);
    public override string ToString() => $"{Protocol}:{KeyId}:{OldEpoch}->{NewEpoch}:{Convert.ToHexStringLower(Digest.AsSpan(0, 8))}";

    private static byte[] NonceOrFresh(ReadOnlySpan<byte> nonce) =>
        nonce.IsEmpty ? RandomNumberGenerator.GetBytes(NonceLength) : nonce.ToArray();

    private static void CheckDistinct(IReadOnlyList<Identifier> ids, string which)
    {
        var seen = new HashSet<Identifier>();
        foreach (var i in ids)
            if (!seen.Add(i)) throw new ArgumentException($"{which} member {i} appears twice");
    }
}
