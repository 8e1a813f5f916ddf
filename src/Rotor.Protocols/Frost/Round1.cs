using Rotor.Crypto;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Frost;

/// <summary>
/// A signer's round-1 secret: the hiding and binding nonces (d_i, e_i) behind one <see cref="SigningCommitments"/>.
/// Secret and single-use: the first successful <see cref="FrostSigner.Sign"/> consumes it and any later use is
/// refused, since signing twice with the same nonces reveals the signing share. Never serialised.
/// </summary>
public sealed class SigningNonces
{
    private Scalar hiding;
    private Scalar binding;
    private int consumed;

    internal SigningNonces(Scalar hiding, Scalar binding, SigningCommitments commitments)
    {
        this.hiding = hiding;
        this.binding = binding;
        Commitments = commitments;
    }

    /// <summary>The public commitments to these nonces (what the signer sends to the coordinator).</summary>
    public SigningCommitments Commitments { get; }

    public Identifier Identifier => Commitments.Identifier;

    /// <summary>Whether these nonces were already used to sign.</summary>
    public bool IsConsumed => Volatile.Read(ref consumed) != 0;

    /// <summary>Hands out (d, e) exactly once and forgets them; a second call throws.</summary>
    internal (Scalar Hiding, Scalar Binding) Consume()
    {
        if (Interlocked.Exchange(ref consumed, 1) != 0)
            throw new ProtocolException(Fault.InvalidUsage, $"the signing nonces of member {Identifier} were already used; commit again");
        var pair = (hiding, binding);
        hiding = default;
        binding = default;
        return pair;
    }

    /// <summary>Never prints the nonces.</summary>
    public override string ToString() => $"SigningNonces(member {Identifier}, key {Commitments.KeyId}, epoch {Commitments.Epoch}{(IsConsumed ? ", consumed" : "")})";
}

/// <summary>
/// A signer's round-1 message, validated: its identifier, the key id and epoch of the share it will sign
/// with, and the nonce commitments D_i = d_i·G (hiding) and E_i = e_i·G (binding). Public.
/// </summary>
public sealed class SigningCommitments : IEquatable<SigningCommitments>
{
    internal SigningCommitments(Identifier identifier, string keyId, ulong epoch, Element hiding, Element binding)
    {
        Identifier = identifier;
        KeyId = keyId;
        Epoch = epoch;
        Hiding = hiding;
        Binding = binding;
    }

    public Identifier Identifier { get; }
    public string KeyId { get; }
    public ulong Epoch { get; }

    /// <summary>D_i, the hiding nonce commitment.</summary>
    public Element Hiding { get; }

    /// <summary>E_i, the binding nonce commitment.</summary>
    public Element Binding { get; }

    internal Commitment Raw => new(Identifier, Hiding, Binding);

    public SigningCommitmentsData ToData() => new()
    {
        KeyId = KeyId,
        Epoch = Epoch,
        Identifier = Identifier.ToBytes(),
        Hiding = Hiding.ToBytes(),
        Binding = Binding.ToBytes(),
    };

    public bool Equals(SigningCommitments? other) =>
        other is not null && Identifier == other.Identifier && KeyId == other.KeyId && Epoch == other.Epoch &&
        Hiding.Equals(other.Hiding) && Binding.Equals(other.Binding);

    public override bool Equals(object? obj) => obj is SigningCommitments c && Equals(c);
    public override int GetHashCode() => HashCode.Combine(Identifier, Hiding);
    public override string ToString() => $"SigningCommitments(member {Identifier}, key {KeyId}, epoch {Epoch})";
}

/// <summary>
/// The unvalidated wire form of <see cref="SigningCommitments"/>: identifier (SerializeScalar), hiding and
/// binding commitments (SerializeElement: ed25519 32 bytes, secp256k1 33-byte compressed), key id and epoch.
/// </summary>
public sealed class SigningCommitmentsData
{
    public string KeyId { get; set; } = "";
    public ulong Epoch { get; set; }
    public byte[] Identifier { get; set; } = [];
    public byte[] Hiding { get; set; } = [];
    public byte[] Binding { get; set; } = [];

    /// <summary>
    /// Decodes the identifier and both commitments (canonical, non-identity, prime-order subgroup). A bad
    /// commitment is refused with <see cref="Fault.MalformedMessage"/> naming the sender; a bad identifier
    /// with no culprit, since the sender is unknown.
    /// </summary>
    public SigningCommitments Validate(Scheme scheme)
    {
        if (KeyId is null || Identifier is null || Hiding is null || Binding is null)
            throw new ProtocolException(Fault.MalformedMessage, "signing commitments: a field is missing or null");
        var g = scheme.Group();
        Identifier id;
        try
        {
            id = Rotor.Crypto.Sharing.Identifier.Decode(g, Identifier);
        }
        catch (InvalidEncodingException e)
        {
            throw new ProtocolException(Fault.MalformedMessage, $"signing commitments: {e.Message}");
        }
        try
        {
            KeyIds.Validate(KeyId);
            return new SigningCommitments(id, KeyId, Epoch, Decode(g, Hiding, "hiding"), Decode(g, Binding, "binding"));
        }
        catch (Exception e) when (e is InvalidEncodingException or ArgumentException)
        {
            throw new ProtocolException(Fault.MalformedMessage, $"signing commitments of member {id}: {e.Message}", id);
        }
    }

    private static Element Decode(Group g, byte[] bytes, string which)
    {
        try
        {
            return g.DecodeElement(bytes);
        }
        catch (InvalidEncodingException e)
        {
            throw new ArgumentException($"{which} commitment: {e.Message}");
        }
    }
}
