using System.Security.Cryptography;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Frost;

/// <summary>The signer's side of FROST (RFC 9591 section 5): round 1 <see cref="Commit(KeyShare)"/>, round 2 <see cref="Sign"/>.</summary>
public static class FrostSigner
{
    /// <summary>
    /// Round 1: draws fresh hiding and binding nonces with nonce_generate (H3 over 32 random bytes and the
    /// signing share) and commits to them. Send the commitments to the coordinator; keep the nonces secret
    /// for exactly one <see cref="Sign"/>.
    /// </summary>
    public static (SigningNonces Nonces, SigningCommitments Commitments) Commit(KeyShare share)
    {
        Span<byte> random = stackalloc byte[64];
        RandomNumberGenerator.Fill(random);
        try
        {
            return Commit(share, random[..32], random[32..]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(random);
        }
    }

    /// <summary>Round 1 with given nonce randomness (test vectors).</summary>
    internal static (SigningNonces Nonces, SigningCommitments Commitments) Commit(KeyShare share, ReadOnlySpan<byte> hidingRandom, ReadOnlySpan<byte> bindingRandom)
    {
        var suite = share.Scheme.Ciphersuite();
        var d = FrostCore.NonceGenerate(suite, hidingRandom, share.SigningShare);
        var e = FrostCore.NonceGenerate(suite, bindingRandom, share.SigningShare);
        var commitments = new SigningCommitments(share.Identifier, share.KeyId, share.Epoch, share.Group.MulBase(d), share.Group.MulBase(e));
        return (new SigningNonces(d, e, commitments), commitments);
    }

    /// <summary>
    /// Round 2: checks the package and computes z_i = d_i + e_i·ρ_i + λ_i·s_i·c (BIP-340: with nonces and share
    /// negated as even y requires), consuming the nonces. Refuses, leaving the nonces unused: a share of another
    /// key or epoch than the package (<see cref="Fault.StaleShare"/> naming this member), nonces of another
    /// share (<see cref="Fault.InvalidUsage"/>), a package whose commitment for this member is not these
    /// nonces' (<see cref="Fault.TranscriptMismatch"/>), a signer that is not a member
    /// (<see cref="Fault.UnexpectedSender"/>) and fewer than t signers.
    /// </summary>
    public static SignatureShare Sign(SigningPackage package, SigningNonces nonces, KeyShare share)
    {
        var id = share.Identifier;
        SigningPackage.CheckKeyAndEpoch(share.KeyId, share.Epoch, package.KeyId, package.Epoch, id, "the key share");
        if (package.Scheme != share.Scheme || !package.GroupPublicKey.Equals(share.GroupPublicKey))
            throw new ProtocolException(Fault.WrongSession, $"the signing package is for another group key than key {share.KeyId} epoch {share.Epoch}");
        var mine = nonces.Commitments;
        if (mine.Identifier != id || mine.KeyId != share.KeyId || mine.Epoch != share.Epoch)
            throw new ProtocolException(Fault.InvalidUsage, $"these nonces are member {mine.Identifier}'s for key {mine.KeyId} epoch {mine.Epoch}, not member {id}'s");
        if (package.Commitments.Count < share.Threshold)
            throw new ProtocolException(Fault.InvalidUsage, $"{package.Commitments.Count} signers, but key {share.KeyId} needs at least {share.Threshold}");
        foreach (var c in package.Commitments)
            if (!share.Public.IsMember(c.Identifier))
                throw new ProtocolException(Fault.UnexpectedSender, $"{c.Identifier} is not a member of key {share.KeyId} epoch {share.Epoch}", c.Identifier);
        var ctx = package.Context;
        int i = ctx.IndexOf(id);
        if (i < 0) throw new ProtocolException(Fault.InvalidUsage, $"member {id} is not a signer in this signing package");
        if (!package.Commitments[i].Equals(mine))
            throw new ProtocolException(Fault.TranscriptMismatch, $"the signing package's commitments for member {id} are not the ones its nonces made");
        var (d, e) = nonces.Consume();
        return new SignatureShare(id, share.KeyId, share.Epoch, ctx.SignatureShare(i, d, e, share.SigningShare));
    }
}
