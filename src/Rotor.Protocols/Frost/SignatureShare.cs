using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Frost;

/// <summary>A signer's round-2 message, validated: z_i, with the signer's identifier, key id and epoch. Public once sent.</summary>
public sealed class SignatureShare
{
    internal SignatureShare(Identifier identifier, string keyId, ulong epoch, Scalar share)
    {
        Identifier = identifier;
        KeyId = keyId;
        Epoch = epoch;
        Share = share;
    }

    public Identifier Identifier { get; }
    public string KeyId { get; }
    public ulong Epoch { get; }

    /// <summary>z_i.</summary>
    public Scalar Share { get; }

    public SignatureShareData ToData() => new() { KeyId = KeyId, Epoch = Epoch, Identifier = Identifier.ToBytes(), Share = Share.ToBytes() };

    public override string ToString() => $"SignatureShare(member {Identifier}, key {KeyId}, epoch {Epoch})";
}

/// <summary>The unvalidated wire form of a <see cref="SignatureShare"/>: identifier and z_i as SerializeScalar, key id, epoch.</summary>
public sealed class SignatureShareData
{
    public string KeyId { get; set; } = "";
    public ulong Epoch { get; set; }
    public byte[] Identifier { get; set; } = [];
    public byte[] Share { get; set; } = [];

    /// <summary>Decodes the identifier and z_i (canonical scalar); a bad z_i is refused with <see cref="Fault.MalformedMessage"/> naming the sender.</summary>
    public SignatureShare Validate(Scheme scheme)
    {
        var g = scheme.Group();
        Identifier id;
        try
        {
            id = Rotor.Crypto.Sharing.Identifier.Decode(g, Identifier);
        }
        catch (InvalidEncodingException e)
        {
            throw new ProtocolException(Fault.MalformedMessage, $"signature share: {e.Message}");
        }
        try
        {
            KeyIds.Validate(KeyId);
            return new SignatureShare(id, KeyId, Epoch, g.DecodeScalar(Share));
        }
        catch (Exception e) when (e is InvalidEncodingException or ArgumentException)
        {
            throw new ProtocolException(Fault.MalformedMessage, $"signature share of member {id}: {e.Message}", id);
        }
    }
}
