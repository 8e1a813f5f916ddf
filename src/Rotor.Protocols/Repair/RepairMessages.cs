using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Resharing;

namespace Rotor.Protocols.Repair;

/// <summary>
/// A helper's round-1 broadcast (to the other helpers and the target), validated: D_{i→j} = δ_{i→j}·G for each
/// helper j in the plan's helper order. They must add up to ζ_i·Y_i. Public.
/// </summary>
public sealed class RepairCommitments
{
    /// <summary>Bytes of the broadcaster's Ed25519 signature (all zero when unsigned).</summary>
    public const int SignatureLength = 64;

    private static readonly byte[] SigningDomain = System.Text.Encoding.UTF8.GetBytes("rotor/repair/commitments/v1\0");

    internal RepairCommitments(byte[] planDigest, Identifier helper, IReadOnlyList<Element> masks, byte[]? signature = null)
    {
        PlanDigest = planDigest;
        Helper = helper;
        Masks = masks;
        Signature = signature ?? new byte[SignatureLength];
        Digest = System.Security.Cryptography.SHA512.HashData(UnsignedBytes());
    }

    /// <summary>
    /// The helper's Ed25519 identity signature over <see cref="SigningBytes"/> of <see cref="Digest"/>; all zero when
    /// unsigned. With a package that records member identities every broadcast must be signed: a helper then forwards
    /// the digest and signature of each broadcast it saw to the target, which can tell an equivocating broadcaster (it
    /// signed two broadcasts) from a helper that lies about another's broadcast (it cannot forge the signature).
    /// </summary>
    public byte[] Signature { get; }

    /// <summary>SHA-512 of the message without its signature: what helpers report having seen.</summary>
    public byte[] Digest { get; }

    /// <summary>What a broadcaster signs: a domain prefix, then the digest of its broadcast.</summary>
    public static byte[] SigningBytes(ReadOnlySpan<byte> digest) => [.. SigningDomain, .. digest];

    /// <summary>The same broadcast signed with the helper's node identity key.</summary>
    public RepairCommitments Sign(Rotor.Crypto.Envelopes.NodeIdentity identity) => new(PlanDigest, Helper, Masks, identity.Sign(SigningBytes(Digest)));

    /// <summary>Whether the signature is the helper's under its recorded identity key.</summary>
    public bool SignedBy(ReadOnlySpan<byte> identityKey) =>
        Rotor.Crypto.Envelopes.IdentityKeys.VerifyWith(identityKey, SigningBytes(Digest), Signature);

    private byte[] UnsignedBytes()
    {
        var w = new WireWriter(WireType.RepairCommitments, PlanDigest, Helper).Count(Masks.Count);
        foreach (var m in Masks) w.Element(m);
        return w.ToArray();
    }

    /// <summary><see cref="RepairPlan.Digest"/> of the plan this belongs to.</summary>
    public byte[] PlanDigest { get; }

    public Identifier Helper { get; }

    /// <summary>D_{i→j}, one per helper j in ascending order.</summary>
    public IReadOnlyList<Element> Masks { get; }

    /// <summary>type 0x21 | plan digest (64) | helper | count (u16 BE) | count elements | signature (64).</summary>
    public byte[] ToBytes() => [.. UnsignedBytes(), .. Signature];

    /// <summary>Decodes strictly; refuses with <see cref="Fault.MalformedMessage"/>, naming the helper once known.</summary>
    public static RepairCommitments Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        var r = new WireReader(scheme.Group(), "repair commitments", WireType.RepairCommitments, message, from);
        var masks = new Element[r.Count("mask count", r.ElementLength)];
        for (int k = 0; k < masks.Length; k++) masks[k] = r.Element($"mask {k}");
        var signature = r.Bytes(SignatureLength, "signature").ToArray();
        r.End();
        return new RepairCommitments(r.Digest, r.Sender, masks, signature);
    }

    public override string ToString() => $"RepairCommitments(helper {Helper}, {Masks.Count} masks)";
}

/// <summary>A helper's round-1 private message to another helper (or itself): δ_{i→j}. Secret: send it encrypted; never printed.</summary>
public sealed class RepairDelta
{
    internal RepairDelta(byte[] planDigest, Identifier from, Identifier to, Scalar value)
    {
        PlanDigest = planDigest;
        From = from;
        To = to;
        Value = value;
    }

    public byte[] PlanDigest { get; }

    public Identifier From { get; }

    public Identifier To { get; }

    /// <summary>δ_{i→j}. Secret.</summary>
    public Scalar Value { get; }

    /// <summary>type 0x22 | plan digest (64) | from | to | δ (scalars).</summary>
    public byte[] ToBytes() => new WireWriter(WireType.RepairDelta, PlanDigest, From).Identifier(To).Scalar(Value).ToArray();

    public static RepairDelta Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        var r = new WireReader(scheme.Group(), "repair delta", WireType.RepairDelta, message, from);
        var to = r.Identifier("recipient helper");
        var value = r.Scalar("value");
        r.End();
        return new RepairDelta(r.Digest, r.Sender, to, value);
    }

    /// <summary>Never prints the value.</summary>
    public override string ToString() => $"RepairDelta(helper {From} -> helper {To})";
}

/// <summary>
/// A helper's round-2 private message to the target: σ_j = Σ_i δ_{i→j}, and per helper i the digest of the
/// commitments j received from i (so the target sees whether every helper saw the same broadcasts).
/// Secret (σ_j is one share of the rebuilt share): send it encrypted; never printed.
/// </summary>
public sealed class RepairSigma
{
    internal RepairSigma(byte[] planDigest, Identifier helper, Scalar value, IReadOnlyList<DealerDigest> seen, IReadOnlyList<byte[]> seenSignatures)
    {
        PlanDigest = planDigest;
        Helper = helper;
        Value = value;
        Seen = seen;
        SeenSignatures = seenSignatures;
    }

    /// <summary>Per helper (ascending), the signature that came with its broadcast (<see cref="RepairCommitments.Signature"/>).</summary>
    public IReadOnlyList<byte[]> SeenSignatures { get; }

    public byte[] PlanDigest { get; }

    public Identifier Helper { get; }

    /// <summary>σ_j. Secret.</summary>
    public Scalar Value { get; }

    /// <summary>Per helper (ascending), SHA-512 of the <see cref="RepairCommitments"/> message received from it.</summary>
    public IReadOnlyList<DealerDigest> Seen { get; }

    /// <summary>type 0x23 | plan digest (64) | helper | σ | count (u16 BE) | count × (helper | digest (64) | signature (64)).</summary>
    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.RepairSigma, PlanDigest, Helper).Scalar(Value).Count(Seen.Count);
        for (int i = 0; i < Seen.Count; i++) w.Identifier(Seen[i].Dealer).Bytes(Seen[i].Digest).Bytes(SeenSignatures[i]);
        return w.ToArray();
    }

    public static RepairSigma Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        var r = new WireReader(scheme.Group(), "repair sigma", WireType.RepairSigma, message, from);
        var value = r.Scalar("value");
        var seen = new DealerDigest[r.Count("digest count", r.ScalarLength + Wire.DigestLength + RepairCommitments.SignatureLength)];
        var signatures = new byte[seen.Length][];
        for (int k = 0; k < seen.Length; k++)
        {
            seen[k] = new DealerDigest(r.Identifier($"helper {k}"), r.Bytes(Wire.DigestLength, $"digest {k}").ToArray());
            signatures[k] = r.Bytes(RepairCommitments.SignatureLength, $"signature {k}").ToArray();
        }
        r.End();
        return new RepairSigma(r.Digest, r.Sender, value, seen, signatures);
    }

    /// <summary>Never prints the value.</summary>
    public override string ToString() => $"RepairSigma(helper {Helper})";
}
