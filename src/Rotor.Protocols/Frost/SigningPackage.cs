using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Frost;

/// <summary>
/// The coordinator's round-2 message, validated: the message to sign and the commitments of the chosen
/// signers sorted by identifier, bound to one key id, epoch and group key. Every commitment carries the same
/// key id and epoch as the package, every signer is a member of the key, and there are at least t signers.
/// </summary>
public sealed class SigningPackage
{
    private readonly byte[] message;
    private readonly SigningCommitments[] commitments;
    private SigningContext? context;

    private SigningPackage(Scheme scheme, string keyId, ulong epoch, Element groupPublicKey, SigningCommitments[] commitments, byte[] message)
    {
        Scheme = scheme;
        KeyId = keyId;
        Epoch = epoch;
        GroupPublicKey = groupPublicKey;
        this.commitments = commitments;
        this.message = message;
    }

    /// <summary>
    /// Builds the package for signing <paramref name="message"/> with the key <paramref name="key"/>. Refuses
    /// (naming the member) a commitment of another key or epoch (<see cref="Fault.StaleShare"/>), of a
    /// non-member (<see cref="Fault.UnexpectedSender"/>) or given twice (<see cref="Fault.DuplicateMessage"/>),
    /// and fewer than t signers (<see cref="Fault.InvalidUsage"/>).
    /// </summary>
    public static SigningPackage Create(PublicKeyPackage key, IEnumerable<SigningCommitments> commitments, ReadOnlySpan<byte> message)
    {
        var list = commitments.ToArray();
        var seen = new HashSet<Identifier>();
        foreach (var c in list)
        {
            if (!ReferenceEquals(c.Identifier.Group, key.Group) || !ReferenceEquals(c.Hiding.Group, key.Group) || !ReferenceEquals(c.Binding.Group, key.Group))
                throw new ProtocolException(Fault.MalformedMessage, $"signing commitments of member {c.Identifier} are not {key.Group.Name} values", c.Identifier);
            CheckKeyAndEpoch(c.KeyId, c.Epoch, key.KeyId, key.Epoch, c.Identifier, "signing commitments");
            if (!key.IsMember(c.Identifier))
                throw new ProtocolException(Fault.UnexpectedSender, $"{c.Identifier} is not a member of key {key.KeyId} epoch {key.Epoch}", c.Identifier);
            if (!seen.Add(c.Identifier))
                throw new ProtocolException(Fault.DuplicateMessage, $"member {c.Identifier} sent two sets of signing commitments", c.Identifier);
        }
        if (list.Length < key.Threshold)
            throw new ProtocolException(Fault.InvalidUsage, $"{list.Length} signers, but key {key.KeyId} needs at least {key.Threshold}");
        Array.Sort(list, (a, b) => a.Identifier.CompareTo(b.Identifier));
        return new SigningPackage(key.Scheme, key.KeyId, key.Epoch, key.GroupPublicKey, list, message.ToArray());
    }

    public Scheme Scheme { get; }
    public string KeyId { get; }
    public ulong Epoch { get; }

    /// <summary>The group key Y of <see cref="KeyId"/> at <see cref="Epoch"/>.</summary>
    public Element GroupPublicKey { get; }

    /// <summary>The signers' commitments in ascending identifier order.</summary>
    public IReadOnlyList<SigningCommitments> Commitments => commitments;

    public IEnumerable<Identifier> Signers => commitments.Select(c => c.Identifier);

    public ReadOnlySpan<byte> Message => message;

    /// <summary>Binding factors, group commitment, challenge and Lagrange coefficients, computed once per package.</summary>
    internal SigningContext Context => context ??= SigningContext.Compute(
        Scheme.Ciphersuite(), GroupPublicKey, commitments.Select(c => c.Raw).ToArray(), message);

    public SigningPackageData ToData() => new()
    {
        KeyId = KeyId,
        Scheme = Scheme.Name(),
        Epoch = Epoch,
        Message = message.ToArray(),
        Commitments = commitments.Select(c => c.ToData()).ToArray(),
    };

    public override string ToString() => $"SigningPackage(key {KeyId}, epoch {Epoch}, signers {string.Join(",", Signers)}, {message.Length}-byte message)";

    internal static void CheckKeyAndEpoch(string keyId, ulong epoch, string expectedKeyId, ulong expectedEpoch, Identifier member, string what)
    {
        if (keyId != expectedKeyId || epoch != expectedEpoch)
            throw new ProtocolException(Fault.StaleShare,
                $"{what} of member {member} are for key {keyId} epoch {epoch}, but the signing is with key {expectedKeyId} epoch {expectedEpoch}", member);
    }
}

/// <summary>The unvalidated wire form of a <see cref="SigningPackage"/>.</summary>
public sealed class SigningPackageData
{
    public string KeyId { get; set; } = "";
    public string Scheme { get; set; } = "";
    public ulong Epoch { get; set; }
    public byte[] Message { get; set; } = [];
    public SigningCommitmentsData[] Commitments { get; set; } = [];

    /// <summary>
    /// Decodes the package against the receiver's own view of the key: the key id, scheme and epoch must be
    /// the key's (<see cref="Fault.WrongSession"/> otherwise), and every commitment is checked as
    /// <see cref="SigningPackage.Create"/> does.
    /// </summary>
    public SigningPackage Validate(PublicKeyPackage key)
    {
        if (KeyId is null || Scheme is null || Message is null || Commitments is null || Commitments.Any(c => c is null))
            throw new ProtocolException(Fault.MalformedMessage, "signing package: a field is missing or null");
        if (KeyId != key.KeyId || Scheme != key.Scheme.Name() || Epoch != key.Epoch)
            throw new ProtocolException(Fault.WrongSession,
                $"signing package for key {KeyId} ({Scheme}) epoch {Epoch}, expected key {key.KeyId} ({key.Scheme.Name()}) epoch {key.Epoch}");
        return SigningPackage.Create(key, Commitments.Select(c => c.Validate(key.Scheme)), Message);
    }
}
