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

    internal ReshareConfirmation(byte[] eventDigest, Identifier member, IReadOnlyList<DealerDigest> dealerDigests)
    {
        EventDigest = eventDigest;
        Member = member;
        DealerDigests = dealerDigests;
        TranscriptHash = ComputeTranscriptHash(eventDigest, dealerDigests);
    }

    /// <summary><see cref="ReshareEvent.Digest"/> of the event confirmed.</summary>
    public byte[] EventDigest { get; }

    public Identifier Member { get; }

    /// <summary>In ascending dealer order.</summary>
    public IReadOnlyList<DealerDigest> DealerDigests { get; }

    /// <summary>64-byte hash of the event digest and every dealer digest: the whole public transcript of the event.</summary>
    public byte[] TranscriptHash { get; }

    /// <summary>type 0x13 | event digest (64) | member | count (u16 BE) | count × (dealer | digest (64)).</summary>
    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.ReshareConfirmation, EventDigest, Member).Count(DealerDigests.Count);
        foreach (var d in DealerDigests) w.Identifier(d.Dealer).Bytes(d.Digest);
        return w.ToArray();
    }

    /// <summary>Decodes strictly (dealers strictly ascending); refuses with <see cref="Fault.MalformedMessage"/>, naming the member once known.</summary>
    public static ReshareConfirmation Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        var r = new WireReader(scheme.Group(), "reshare confirmation", WireType.ReshareConfirmation, message);
        var ds = new DealerDigest[r.Count("dealer count", r.ScalarLength + Wire.DigestLength)];
        for (int i = 0; i < ds.Length; i++)
        {
            ds[i] = new DealerDigest(r.Identifier($"dealer {i}"), r.Bytes(Wire.DigestLength, $"digest {i}").ToArray());
            if (i > 0 && ds[i].Dealer.CompareTo(ds[i - 1].Dealer) <= 0)
                throw r.Malformed("dealers are not in strictly ascending order");
        }
        r.End();
        return new ReshareConfirmation(r.Digest, r.Sender, ds);
    }

    /// <summary>What the member signs: a domain-separation prefix, then <see cref="ToBytes"/>.</summary>
    public byte[] SigningBytes() => [.. SigningDomain, .. ToBytes()];

    /// <summary>Signs <see cref="SigningBytes"/> with the member's node identity key.</summary>
    public SignedReshareConfirmation Sign(NodeIdentity identity) => new(this, identity.Sign(SigningBytes()));

    public override string ToString() => $"ReshareConfirmation(member {Member}, transcript {Convert.ToHexStringLower(TranscriptHash.AsSpan(0, 8))})";

    private static byte[] ComputeTranscriptHash(byte[] eventDigest, IReadOnlyList<DealerDigest> dealerDigests)
    {
        using var t = new Transcript("rotor/reshare/transcript/v1");
        t.Append("event", eventDigest).Append("dealers", (ulong)dealerDigests.Count);
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

    public static SignedReshareConfirmation Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        if (message.Length < SignatureLength + 1)
            throw new ProtocolException(Fault.MalformedMessage, "signed reshare confirmation: message too short");
        var c = ReshareConfirmation.Decode(scheme, message[..^SignatureLength]);
        return new SignedReshareConfirmation(c, message[^SignatureLength..].ToArray());
    }

    public override string ToString() => $"Signed{Confirmation}";
}
