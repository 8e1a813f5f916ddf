using System.Security.Cryptography;
using System.Text;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Groups.Ed25519;
using Rotor.Crypto.Groups.Secp256k1;
using Rotor.Crypto.Hashing;

namespace Rotor.Crypto.Ciphersuites;

/// <summary>
/// An RFC 9591 ciphersuite: a prime-order group plus the hash functions H1..H5, and the two extra
/// hashes the ZcashFoundation frost DKG and identifier derivation use (HDKG, HID).
/// </summary>
public abstract class Ciphersuite
{
    public abstract string Name { get; }

    /// <summary>RFC 9591 contextString, e.g. "FROST-ED25519-SHA512-v1".</summary>
    public abstract string ContextString { get; }

    public abstract Group Group { get; }

    /// <summary>H1: binding-factor hash ("rho").</summary>
    public Scalar H1(ReadOnlySpan<byte> m) => HashToScalar("rho", m);

    /// <summary>H2: signature challenge.</summary>
    public abstract Scalar H2(ReadOnlySpan<byte> m);

    /// <summary>H3: nonce derivation.</summary>
    public Scalar H3(ReadOnlySpan<byte> m) => HashToScalar("nonce", m);

    /// <summary>H4: message hash.</summary>
    public byte[] H4(ReadOnlySpan<byte> m) => Hash("msg", m);

    /// <summary>H5: commitment-list hash.</summary>
    public byte[] H5(ReadOnlySpan<byte> m) => Hash("com", m);

    /// <summary>
    /// RFC 9591 compute_challenge: H2(SerializeElement(R) || SerializeElement(PK) || msg). Suites whose
    /// signatures have another challenge (BIP-340) override it.
    /// </summary>
    public virtual Scalar Challenge(Element groupCommitment, Element publicKey, ReadOnlySpan<byte> message)
    {
        var r = groupCommitment.Encoding;
        var pk = publicKey.Encoding;
        var input = new byte[r.Length + pk.Length + message.Length];
        r.CopyTo(input);
        pk.CopyTo(input.AsSpan(r.Length));
        message.CopyTo(input.AsSpan(r.Length + pk.Length));
        return H2(input);
    }

    /// <summary>
    /// True for the BIP-340 suite: the group key and the group commitment are only ever used with an even y
    /// coordinate (<see cref="Signatures.Bip340.HasEvenY"/>), so signers negate their key shares when the
    /// group key has odd y and their nonces when the group commitment has odd y.
    /// </summary>
    public virtual bool RequiresEvenY => false;

    /// <summary>HDKG: the DKG proof-of-knowledge challenge hash.</summary>
    public Scalar HDkg(ReadOnlySpan<byte> m) => HashToScalar("dkg", m);

    /// <summary>HID: derives an identifier from arbitrary bytes.</summary>
    public Scalar HId(ReadOnlySpan<byte> m) => HashToScalar("id", m);

    /// <summary>Hash of the context string, a tag and the message, reduced to a scalar per the suite's rules.</summary>
    public abstract Scalar HashToScalar(string tag, ReadOnlySpan<byte> m);

    /// <summary>Plain hash of the context string, a tag and the message.</summary>
    public abstract byte[] Hash(string tag, ReadOnlySpan<byte> m);

    public override string ToString() => Name;

    protected byte[] Prefix(string tag) => Encoding.ASCII.GetBytes(ContextString + tag);
}

/// <summary>FROST(Ed25519, SHA-512), RFC 9591 section 6.1.</summary>
public sealed class Ed25519Sha512 : Ciphersuite
{
    public static readonly Ed25519Sha512 Instance = new();
    private Ed25519Sha512() { }

    public override string Name => "FROST(Ed25519, SHA-512)";
    public override string ContextString => "FROST-ED25519-SHA512-v1";
    public override Group Group => Ed25519Group.Instance;

    /// <summary>H2 has no context string, so signatures verify as plain RFC 8032 Ed25519.</summary>
    public override Scalar H2(ReadOnlySpan<byte> m) => Group.ReduceWide(SHA512.HashData(m));

    public override Scalar HashToScalar(string tag, ReadOnlySpan<byte> m) => Group.ReduceWide(Hash(tag, m));

    public override byte[] Hash(string tag, ReadOnlySpan<byte> m)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        h.AppendData(Prefix(tag));
        h.AppendData(m);
        return h.GetHashAndReset();
    }
}

/// <summary>FROST(secp256k1, SHA-256), RFC 9591 section 6.5; also the base of the BIP-340 (Taproot) variant.</summary>
public class Secp256k1Sha256 : Ciphersuite
{
    public static readonly Secp256k1Sha256 Instance = new();
    protected Secp256k1Sha256() { }

    public override string Name => "FROST(secp256k1, SHA-256)";
    public override string ContextString => "FROST-secp256k1-SHA256-v1";
    public override Group Group => Secp256k1Group.Instance;

    public override Scalar H2(ReadOnlySpan<byte> m) => HashToScalar("chal", m);

    /// <summary>hash_to_field from RFC 9380 with expand_message_xmd(SHA-256), L = 48, DST = contextString || tag.</summary>
    public override Scalar HashToScalar(string tag, ReadOnlySpan<byte> m) =>
        Group.ReduceWide(ExpandMessage.XmdSha256(m, Prefix(tag), 48));

    public override byte[] Hash(string tag, ReadOnlySpan<byte> m)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(Prefix(tag));
        h.AppendData(m);
        return h.GetHashAndReset();
    }
}
