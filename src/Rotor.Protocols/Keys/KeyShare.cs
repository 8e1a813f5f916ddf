using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Keys;

/// <summary>
/// One member's share of one epoch of a threshold key: validated, immutable. Binds key id, scheme, epoch,
/// member set and threshold (through <see cref="Public"/>) to this member's identifier and secret share.
/// Construct it only through <see cref="Create"/> or <see cref="KeyShareData.Validate"/>.
/// </summary>
public sealed class KeyShare
{
    private KeyShare(PublicKeyPackage pub, Identifier id, Scalar signingShare)
    {
        Public = pub;
        Identifier = id;
        SigningShare = signingShare;
    }

    /// <summary>Checks that the member belongs to the package and that s·G equals its verification share.</summary>
    public static KeyShare Create(PublicKeyPackage pub, Identifier id, Scalar signingShare)
    {
        if (!pub.IsMember(id)) throw new ArgumentException($"{id} is not a member of key {pub.KeyId} epoch {pub.Epoch}");
        if (!ReferenceEquals(signingShare.Group, pub.Group)) throw new ArgumentException("signing share of the wrong group");
        if (VerifiedShares.Contains(pub, id, signingShare)) return new KeyShare(pub, id, signingShare);
        if (!pub.Group.MulBase(signingShare).Equals(pub.VerifyingShare(id)))
            throw new ArgumentException($"signing share of member {id} does not match its verification share");
        VerifiedShares.Add(pub, id, signingShare);
        return new KeyShare(pub, id, signingShare);
    }

    /// <summary>
    /// For protocols that have already checked s·G = Y_id against the package (for example inside a Feldman
    /// batch): the same as <see cref="Create"/> without its base multiplication.
    /// </summary>
    internal static KeyShare FromVerified(PublicKeyPackage pub, Identifier id, Scalar signingShare)
    {
        if (!pub.IsMember(id)) throw new ArgumentException($"{id} is not a member of key {pub.KeyId} epoch {pub.Epoch}");
        if (!ReferenceEquals(signingShare.Group, pub.Group)) throw new ArgumentException("signing share of the wrong group");
        return new KeyShare(pub, id, signingShare);
    }

    public PublicKeyPackage Public { get; }
    public string KeyId => Public.KeyId;
    public Scheme Scheme => Public.Scheme;
    public Group Group => Public.Group;
    public ulong Epoch => Public.Epoch;
    public int Threshold => Public.Threshold;
    public IReadOnlyList<Identifier> Members => Public.Members;
    public Element GroupPublicKey => Public.GroupPublicKey;

    /// <summary>This member's identifier.</summary>
    public Identifier Identifier { get; }

    /// <summary>This member's secret share s_i. Secret.</summary>
    public Scalar SigningShare { get; }

    public Element VerifyingShare => Public.VerifyingShare(Identifier);

    public KeyShareData ToData() => new()
    {
        KeyId = KeyId,
        Scheme = Scheme.Name(),
        Epoch = Epoch,
        Threshold = Threshold,
        Identifier = Identifier.ToBytes(),
        SigningShare = SigningShare.ToBytes(),
        Members = Members.Select(m => m.ToBytes()).ToArray(),
        VerifyingShares = Members.Select(m => Public.VerifyingShare(m).ToBytes()).ToArray(),
        GroupPublicKey = GroupPublicKey.ToBytes(),
        MemberKeys = Public.IsBound ? Members.Select(m => Public.MemberKey(m)!.ToArray()).ToArray() : [],
        ChainCode = Public.HasChainCode ? Public.ChainCode.ToArray() : [],
        InternalKey = Public.InternalKey?.ToBytes() ?? [],
    };

    public override string ToString() => $"KeyShare({KeyId}, {Scheme.Name()}, epoch {Epoch}, member {Identifier}, {Threshold}-of-{Members.Count})";
}

/// <summary>
/// The unvalidated wire and storage form of a <see cref="KeyShare"/>: plain bytes, as read from disk or a
/// message. Nothing in it is trusted until <see cref="Validate"/> has checked it.
/// </summary>
public sealed class KeyShareData
{
    public string KeyId { get; set; } = "";
    public string Scheme { get; set; } = "";
    public ulong Epoch { get; set; }
    public int Threshold { get; set; }
    public byte[] Identifier { get; set; } = [];
    public byte[] SigningShare { get; set; } = [];
    public byte[][] Members { get; set; } = [];
    public byte[][] VerifyingShares { get; set; } = [];
    public byte[] GroupPublicKey { get; set; } = [];

    /// <summary>Each member's node identity key (raw Ed25519), in <see cref="Members"/> order; empty for an unbound share.</summary>
    public byte[][] MemberKeys { get; set; } = [];

    /// <summary>The key's HD chain code (32 bytes); empty for a key made before HD support.</summary>
    public byte[] ChainCode { get; set; } = [];

    /// <summary>bip340 with a chain code: the BIP-341 internal key (33-byte compressed, even y); empty otherwise.</summary>
    public byte[] InternalKey { get; set; } = [];

    /// <summary>Decodes every field and checks the whole share; throws ArgumentException or InvalidEncodingException naming what is wrong.</summary>
    public KeyShare Validate()
    {
        // Fields a decoder may have left null (a record or message saying "null", or leaving them out).
        if (KeyId is null || Scheme is null || Identifier is null || SigningShare is null || Members is null || VerifyingShares is null || GroupPublicKey is null
            || Members.Any(m => m is null) || VerifyingShares.Any(v => v is null) || MemberKeys is null || MemberKeys.Any(k => k is null) || ChainCode is null || InternalKey is null)
            throw new ArgumentException("key share: a field is missing or null");
        var scheme = Schemes.Parse(Scheme);
        var group = scheme.Group();
        if (Members.Length != VerifyingShares.Length)
            throw new ArgumentException($"{Members.Length} members but {VerifyingShares.Length} verification shares");
        var shares = new Dictionary<Identifier, Element>();
        for (int i = 0; i < Members.Length; i++)
        {
            var id = Rotor.Crypto.Sharing.Identifier.Decode(group, Members[i]);
            if (!shares.TryAdd(id, group.DecodeElement(VerifyingShares[i]))) throw new ArgumentException($"member {id} appears twice");
        }
        var pub = new PublicKeyPackage(KeyId, scheme, Epoch, Threshold, shares, group.DecodeElement(GroupPublicKey));
        if (MemberKeys.Length > 0) pub = pub.WithMemberKeys(MemberKeysById(group));
        if (ChainCode.Length > 0) pub = pub.WithHdRoot(ChainCode, InternalKey.Length > 0 ? group.DecodeElement(InternalKey) : null);
        else if (InternalKey.Length > 0) throw new ArgumentException("key share: an internal key without a chain code");
        return KeyShare.Create(pub, Rotor.Crypto.Sharing.Identifier.Decode(group, Identifier), group.DecodeScalar(SigningShare));
    }

    /// <summary>The member keys by identifier; refuses a count other than the members'.</summary>
    public Dictionary<Identifier, byte[]> MemberKeysById(Group group)
    {
        if (MemberKeys.Length != Members.Length)
            throw new ArgumentException($"{Members.Length} members but {MemberKeys.Length} member identity keys");
        var keys = new Dictionary<Identifier, byte[]>();
        for (int i = 0; i < Members.Length; i++)
            if (!keys.TryAdd(Rotor.Crypto.Sharing.Identifier.Decode(group, Members[i]), MemberKeys[i])) throw new ArgumentException("a member appears twice");
        return keys;
    }
}
