using Rotor.Crypto.Groups;
using Rotor.Crypto.Signatures;

namespace Rotor.Crypto.Ciphersuites;

/// <summary>
/// FROST(secp256k1, SHA-256) for BIP-340 (Taproot) signatures, compatible with ZcashFoundation
/// frost-secp256k1-tr: the RFC 9591 secp256k1 suite with context string "FROST-secp256k1-SHA256-TR-v1",
/// whose challenge is the BIP-340 one, H2 = int(tagged_hash("BIP0340/challenge", x(R) || x(PK) || msg)) mod n,
/// and whose group key and group commitment are always used with even y.
/// </summary>
public sealed class Secp256k1Sha256Tr : Secp256k1Sha256
{
    public static new readonly Secp256k1Sha256Tr Instance = new();
    private Secp256k1Sha256Tr() { }

    public override string Name => "FROST(secp256k1, SHA-256, Taproot)";
    public override string ContextString => "FROST-secp256k1-SHA256-TR-v1";
    public override bool RequiresEvenY => true;

    /// <summary>The BIP-340 challenge hash of <paramref name="m"/>, reduced modulo the group order.</summary>
    public override Scalar H2(ReadOnlySpan<byte> m) => Group.ReduceWide(Bip340.TaggedHash(Bip340.ChallengeTag, m));

    /// <summary>BIP-340 challenge: only the x coordinates of R and of the key are hashed.</summary>
    public override Scalar Challenge(Element groupCommitment, Element publicKey, ReadOnlySpan<byte> message) =>
        Bip340.Challenge(Bip340.XOnly(groupCommitment), Bip340.XOnly(publicKey), message);
}
