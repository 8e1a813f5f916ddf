using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// A dealer's round-1 private message to one new member, validated: f_i(x_j), the value of the dealer's
/// polynomial at the recipient's identifier. Secret: send it only over an encrypted, authenticated channel
/// to its recipient; it is never printed.
/// </summary>
public sealed class ReshareSubShare
{
    internal ReshareSubShare(byte[] planDigest, Identifier dealer, Identifier recipient, Scalar value)
    {
        PlanDigest = planDigest;
        Dealer = dealer;
        Recipient = recipient;
        Value = value;
    }

    /// <summary><see cref="ResharePlan.Digest"/> of the plan this belongs to.</summary>
    public byte[] PlanDigest { get; }

    public Identifier Dealer { get; }

    public Identifier Recipient { get; }

    /// <summary>f_i(x_j). Secret.</summary>
    public Scalar Value { get; }

    /// <summary>type 0x12 | plan digest (64) | dealer | recipient | value (scalars). Secret bytes: encrypt them.</summary>
    public byte[] ToBytes() =>
        new WireWriter(WireType.ReshareSubShare, PlanDigest, Dealer).Identifier(Recipient).Scalar(Value).ToArray();

    /// <summary>Decodes strictly; a bad message is refused with <see cref="Fault.MalformedMessage"/>, naming the dealer once known.</summary>
    public static ReshareSubShare Decode(Scheme scheme, ReadOnlySpan<byte> message, Identifier? from = null)
    {
        var r = new WireReader(scheme.Group(), "reshare sub-share", WireType.ReshareSubShare, message, from);
        var recipient = r.Identifier("recipient");
        var value = r.Scalar("value");
        r.End();
        return new ReshareSubShare(r.Digest, r.Sender, recipient, value);
    }

    /// <summary>Never prints the value.</summary>
    public override string ToString() => $"ReshareSubShare(dealer {Dealer} -> member {Recipient})";
}
