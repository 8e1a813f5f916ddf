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
        var w = new WireWriter(WireType.RepairCommitments, PlanDigest, Helper).Count(Masks.Count);
        foreach (var m in Masks) w.Element(m);
        return w.ToArray();
    }

    /// <summary>Decodes strictly; refuses with <see cref="Fault.MalformedMessage"/>, naming the helper once known.</summary>
    public static RepairCommitments Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        var r = new WireReader(scheme.Group(), "repair commitments", WireType.RepairCommitments, message);
        var masks = new Element[r.Count("mask count", r.ElementLength)];
        for (int k = 0; k < masks.Length; k++) masks[k] = r.Element($"mask {k}");
        r.End();
        return new RepairCommitments(r.Digest, r.Sender, masks);
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

    public static RepairDelta Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        var r = new WireReader(scheme.Group(), "repair delta", WireType.RepairDelta, message);
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
        var w = new WireWriter(WireType.RepairSigma, PlanDigest, Helper).Scalar(Value).Count(Seen.Count);
        foreach (var d in Seen) w.Identifier(d.Dealer).Bytes(d.Digest);
        return w.ToArray();
    }

    public static RepairSigma Decode(Scheme scheme, ReadOnlySpan<byte> message)
    {
        var r = new WireReader(scheme.Group(), "repair sigma", WireType.RepairSigma, message);
        var value = r.Scalar("value");
        var seen = new DealerDigest[r.Count("digest count", r.ScalarLength + Wire.DigestLength)];
        for (int k = 0; k < seen.Length; k++) seen[k] = new DealerDigest(r.Identifier($"helper {k}"), r.Bytes(Wire.DigestLength, $"digest {k}").ToArray());
        r.End();
        return new RepairSigma(r.Digest, r.Sender, value, seen);
    }

    /// <summary>Never prints the value.</summary>
    public override string ToString() => $"RepairSigma(helper {Helper})";
}
