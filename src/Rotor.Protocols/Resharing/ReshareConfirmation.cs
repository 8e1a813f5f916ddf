using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Resharing;

/// <summary>A dealer and the SHA-512 digest of every commitment it broadcast in one reshare event, in event order.</summary>
public readonly record struct DealerDigest(Identifier Dealer, byte[] Digest)
{
    public bool Matches(DealerDigest other) => Dealer == other.Dealer && CryptographicOperations.FixedTimeEquals(Digest, other.Digest);
}

/// <summary>
/// A new member's statement that it verified everything it received in a reshare event and what it saw: the
/// event, the member, and per dealer the digest of that dealer's commitments. All of it determines
/// <see cref="TranscriptHash"/>, which every new member must confirm alike before the new epoch counts.
/// The member signs <see cref="SigningBytes"/> with its node identity key (<see cref="Sign"/>). Public.
/// </summary>
public sealed class ReshareConfirmation
{
    private static readonly byte[] SigningDomain = Encoding.UTF8.GetBytes("rotor/reshare/confirmation/v1\0");

    internal ReshareConfirmation(byte[] eventDigest, Identifier member, byte[] groupKeys, byte[] aggregateCommitments, IReadOnlyList<DealerDigest> dealerDigests)
    {
        EventDigest = eventDigest;
        Member = member;
        GroupKeys = groupKeys;
        AggregateCommitments = aggregateCommitments;
        DealerDigests = dealerDigests;
        TranscriptHash = ComputeTranscriptHash(eventDigest, groupKeys, aggregateCommitments, dealerDigests);
    }

    /// <summary>
    /// 64 bytes over every key of the event (event order): its key id and the new epoch's group key Y' as the member
    /// computed it (<see cref="GroupKeysDigest"/>). An old member checks it against the group keys it holds before it
    /// erases anything: a certified event keeps every Y.
    /// </summary>
    public byte[] GroupKeys { get; }

    /// <summary>64 bytes over every key's aggregate commitment C = Σ_i C_i (key id, coefficients), event order.</summary>
    public byte[] AggregateCommitments { get; }

    /// <summary>The digest <see cref="GroupKeys"/> holds for these keys and group keys (in event order: key-id order).</summary>
    public static byte[] GroupKeysDigest(IEnumerable<(string KeyId, Rotor.Crypto.Groups.Element GroupKey)> keys)
    {
        using var t = new Transcript("rotor/reshare/group-keys/v1");
        foreach (var (k, y) in keys) t.Append("key-id", k).Append("group-key", y);
        return t.Digest();
    }

    /// <summary>The digest <see cref="AggregateCommitments"/> holds.</summary>
    public static byte[] AggregateCommitmentsDigest(IEnumerable<(string KeyId, FeldmanCommitment Commitment)> keys)
    {
        using var t = new Transcript("rotor/reshare/aggregate-commitments/v1");
        foreach (var (k, c) in keys) t.Append("key-id", k).Append("commitment", c.Coefficients);
        return t.Digest();
    }

    /// <summary><see cref="ReshareEvent.Digest"/> of the event confirmed.</summary>
    public byte[] EventDigest { get; }

    public Identifier Member { get; }

    /// <summary>In ascending dealer order.</summary>
    public IReadOnlyList<DealerDigest> DealerDigests { get; }

    /// <summary>64-byte hash of the event digest and every dealer digest: the whole public transcript of the event.</summary>
    public byte[] TranscriptHash { get; }

    /// <summary>type 0x13 | event digest (64) | member | group keys (64) | aggregate commitments (64) | count (u16 BE) | count × (dealer | digest (64)).</summary>
    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.ReshareConfirmation, EventDigest, Member).Bytes(GroupKeys).Bytes(AggregateCommitments).Count(DealerDigests.Count);
        foreach (var d in DealerDigests) w.Identifier(d.Dealer).Bytes(d.Digest);
        return w.ToArray();
    }

    /// <summary>Decodes strictly (dealers strictly ascending); refuses with <see cref="Fault.MalformedMessage"/>, naming the member once known.</summary>
    public static ReshareConfirmation Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        var r = new WireReader(scheme.Group(), "reshare confirmation", WireType.ReshareConfirmation, message, from);
        var groupKeys = r.Bytes(Wire.DigestLength, "group keys").ToArray();
        var aggregate = r.Bytes(Wire.DigestLength, "aggregate commitments").ToArray();
        var ds = new DealerDigest[r.Count("dealer count", r.ScalarLength + Wire.DigestLength)];
        for (int i = 0; i < ds.Length; i++)
        {
            ds[i] = new DealerDigest(r.Identifier($"dealer {i}"), r.Bytes(Wire.DigestLength, $"digest {i}").ToArray());
            if (i > 0 && ds[i].Dealer.CompareTo(ds[i - 1].Dealer) <= 0)
                throw r.Malformed("dealers are not in strictly ascending order");
        }
        r.End();
        return new ReshareConfirmation(r.Digest, r.Sender, groupKeys, aggregate, ds);
    }

    /// <summary>What the member signs: a domain-separation prefix, then <see cref="ToBytes"/>.</summary>
    public byte[] SigningBytes() => [.. SigningDomain, .. ToBytes()];

    /// <summary>Signs <see cref="SigningBytes"/> with the member's node identity key.</summary>
    public SignedReshareConfirmation Sign(NodeIdentity identity) => new(this, identity.Sign(SigningBytes()));

    public override string ToString() => $"ReshareConfirmation(member {Member}, transcript {Convert.ToHexStringLower(TranscriptHash.AsSpan(0, 8))})";

    private static byte[] ComputeTranscriptHash(byte[] eventDigest, byte[] groupKeys, byte[] aggregate, IReadOnlyList<DealerDigest> dealerDigests)
    {
        using var t = new Transcript("rotor/reshare/transcript/v2");
        t.Append("event", eventDigest).Append("group-keys", groupKeys).Append("aggregate-commitments", aggregate).Append("dealers", (ulong)dealerDigests.Count);
        foreach (var d in dealerDigests) t.Append("dealer", d.Dealer.Scalar).Append("commitments", d.Digest);
        return t.Digest();
    }
}

/// <summary>A <see cref="ReshareConfirmation"/> with its member's Ed25519 identity signature. Unverified until a <see cref="ReshareCertificate"/> checks it.</summary>
public sealed class SignedReshareConfirmation
{
    public const int SignatureLength = 64;

    public SignedReshareConfirmation(ReshareConfirmation confirmation, byte[] signature)
    {
        if (signature.Length != SignatureLength) throw new ArgumentException($"an Ed25519 signature is {SignatureLength} bytes, not {signature.Length}");
        Confirmation = confirmation;
        Signature = signature;
    }

    public ReshareConfirmation Confirmation { get; }

    public byte[] Signature { get; }

    /// <summary>The confirmation's bytes, then the 64-byte signature.</summary>
    public byte[] ToBytes() => [.. Confirmation.ToBytes(), .. Signature];

    public static SignedReshareConfirmation Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        if (message.Length < SignatureLength + 1)
            throw new ProtocolException(Fault.MalformedMessage, "signed reshare confirmation: message too short");
        var c = ReshareConfirmation.Decode(scheme, message[..^SignatureLength], from);
        return new SignedReshareConfirmation(c, message[^SignatureLength..].ToArray());
    }

    public override string ToString() => $"Signed{Confirmation}";
}
