using Rotor.Crypto;
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
    internal RepairCommitments(byte[] planDigest, Identifier helper, IReadOnlyList<Element> masks)
    {
        PlanDigest = planDigest;
        Helper = helper;
        Masks = masks;
    }

    /// <summary><see cref="RepairPlan.Digest"/> of the plan this belongs to.</summary>
    public byte[] PlanDigest { get; }

    public Identifier Helper { get; }

    /// <summary>D_{i→j}, one per helper j in ascending order.</summary>
    public IReadOnlyList<Element> Masks { get; }

    /// <summary>type 0x21 | plan digest (64) | helper | count (u16 BE) | count elements.</summary>
    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.RepairCommitments).Bytes(PlanDigest).Identifier(Helper).Count(Masks.Count);
        foreach (var m in Masks) w.Element(m);
        return w.ToArray();
    }

    /// <summary>Decodes strictly; refuses with <see cref="Fault.MalformedMessage"/>, naming the helper once known.</summary>
    public static RepairCommitments Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        Identifier? helper = null;
        try
        {
            var r = new WireReader(scheme.Group(), "repair commitments", WireType.RepairCommitments, message);
            var digest = r.Bytes(Wire.DigestLength).ToArray();
            helper = r.Identifier();
            var masks = new Element[r.Count()];
            for (int k = 0; k < masks.Length; k++) masks[k] = r.Element();
            r.End();
            return new RepairCommitments(digest, helper.Value, masks);
        }
        catch (InvalidEncodingException e)
        {
            throw Wire.Malformed(e, helper, "helper");
        }
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
    public byte[] ToBytes() => new WireWriter(WireType.RepairDelta).Bytes(PlanDigest).Identifier(From).Identifier(To).Scalar(Value).ToArray();

    public static RepairDelta Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        Identifier? from = null;
        try
        {
            var r = new WireReader(scheme.Group(), "repair delta", WireType.RepairDelta, message);
            var digest = r.Bytes(Wire.DigestLength).ToArray();
            from = r.Identifier();
            var to = r.Identifier();
            var value = r.Scalar();
            r.End();
            return new RepairDelta(digest, from.Value, to, value);
        }
        catch (InvalidEncodingException e)
        {
            throw Wire.Malformed(e, from, "helper");
        }
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
    internal RepairSigma(byte[] planDigest, Identifier helper, Scalar value, IReadOnlyList<DealerDigest> seen)
    {
        PlanDigest = planDigest;
        Helper = helper;
        Value = value;
        Seen = seen;
    }

    public byte[] PlanDigest { get; }

    public Identifier Helper { get; }

    /// <summary>σ_j. Secret.</summary>
    public Scalar Value { get; }

    /// <summary>Per helper (ascending), SHA-512 of the <see cref="RepairCommitments"/> message received from it.</summary>
    public IReadOnlyList<DealerDigest> Seen { get; }

    /// <summary>type 0x23 | plan digest (64) | helper | σ | count (u16 BE) | count × (helper | digest (64)).</summary>
    public byte[] ToBytes()
    {
        var w = new WireWriter(WireType.RepairSigma).Bytes(PlanDigest).Identifier(Helper).Scalar(Value).Count(Seen.Count);
        foreach (var d in Seen) w.Identifier(d.Dealer).Bytes(d.Digest);
        return w.ToArray();
    }

    public static RepairSigma Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        Identifier? helper = null;
        try
        {
            var r = new WireReader(scheme.Group(), "repair sigma", WireType.RepairSigma, message);
            var digest = r.Bytes(Wire.DigestLength).ToArray();
            helper = r.Identifier();
            var value = r.Scalar();
            var seen = new DealerDigest[r.Count()];
            for (int k = 0; k < seen.Length; k++) seen[k] = new DealerDigest(r.Identifier(), r.Bytes(Wire.DigestLength).ToArray());
            r.End();
            return new RepairSigma(digest, helper.Value, value, seen);
        }
        catch (InvalidEncodingException e)
        {
            throw Wire.Malformed(e, helper, "helper");
        }
    }

    /// <summary>Never prints the value.</summary>
    public override string ToString() => $"RepairSigma(helper {Helper})";
}
