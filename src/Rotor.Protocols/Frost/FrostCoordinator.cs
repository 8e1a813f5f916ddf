using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Protocols.Keys;

namespace Rotor.Protocols.Frost;

/// <summary>
/// The coordinator's side of FROST (RFC 9591 section 5.3): checks signature shares, aggregates them and
/// checks the result; plus an in-process run of the whole protocol.
/// </summary>
public static class FrostCoordinator
{
    /// <summary>
    /// verify_signature_share: z_i·G = R_i + (c·λ_i)·Y_i. Throws <see cref="Fault.InvalidSignatureShare"/>
    /// naming the signer when it does not hold, and <see cref="Fault.StaleShare"/> for a share of another key or epoch.
    /// </summary>
    public static void VerifySignatureShare(SigningPackage package, SignatureShare share, PublicKeyPackage key)
    {
        CheckKey(package, key);
        SigningPackage.CheckKeyAndEpoch(share.KeyId, share.Epoch, package.KeyId, package.Epoch, share.Identifier, "the signature share");
        var ctx = package.Context;
        int i = ctx.IndexOf(share.Identifier);
        if (i < 0) throw new ProtocolException(Fault.UnexpectedSender, $"member {share.Identifier} is not a signer in this signing package", share.Identifier);
        if (!ctx.VerifySignatureShare(i, share.Share, key.VerifyingShare(share.Identifier)))
            throw new ProtocolException(Fault.InvalidSignatureShare, $"the signature share of member {share.Identifier} does not verify", share.Identifier);
    }

    /// <summary>
    /// aggregate: z = Σ z_i, then checks the encoded signature (<see cref="SchemeSignatures.Length"/> bytes) with
    /// the scheme's standard verifier (<see cref="SchemeSignatures.Verify(Scheme, Element, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>)
    /// before returning it. Needs exactly one share per signer of the package, each of
    /// the package's key and epoch (<see cref="Fault.StaleShare"/> naming the member otherwise). When the sum does
    /// not verify, every share is checked and <see cref="Fault.InvalidSignatureShare"/> names all cheaters.
    /// </summary>
    public static byte[] Aggregate(SigningPackage package, IEnumerable<SignatureShare> shares, PublicKeyPackage key)
    {
        CheckKey(package, key);
        var ctx = package.Context;
        var z = new Scalar[ctx.Commitments.Count];
        var got = new bool[z.Length];
        foreach (var s in shares)
        {
            SigningPackage.CheckKeyAndEpoch(s.KeyId, s.Epoch, package.KeyId, package.Epoch, s.Identifier, "the signature share");
            int i = ctx.IndexOf(s.Identifier);
            if (i < 0) throw new ProtocolException(Fault.UnexpectedSender, $"member {s.Identifier} is not a signer in this signing package", s.Identifier);
            if (got[i]) throw new ProtocolException(Fault.DuplicateMessage, $"member {s.Identifier} sent two signature shares", s.Identifier);
            if (!ReferenceEquals(s.Share.Group, key.Group)) throw new ProtocolException(Fault.MalformedMessage, $"the signature share of member {s.Identifier} is not a {key.Group.Name} scalar", s.Identifier);
            got[i] = true;
            z[i] = s.Share;
        }
        var missing = Enumerable.Range(0, z.Length).Where(i => !got[i]).Select(i => ctx.Commitments[i].Id).ToArray();
        if (missing.Length > 0)
            throw new ProtocolException(Fault.InvalidUsage, $"no signature share from {string.Join(", ", missing)}", missing);
        var signature = SchemeSignatures.Encode(package.Scheme, ctx.SignatureR, FrostCore.Aggregate(key.Group, z));
        if (SchemeSignatures.Verify(package.Scheme, package.GroupPublicKey, package.Message, signature)) return signature;
        var cheaters = Enumerable.Range(0, z.Length)
            .Where(i => !ctx.VerifySignatureShare(i, z[i], key.VerifyingShare(ctx.Commitments[i].Id)))
            .Select(i => ctx.Commitments[i].Id).ToArray();
        if (cheaters.Length > 0)
            throw new ProtocolException(Fault.InvalidSignatureShare, $"the signature shares of {string.Join(", ", cheaters)} do not verify", cheaters);
        throw new ProtocolException(Fault.InvalidResult, "every signature share verifies but their sum does not");
    }

    /// <summary>
    /// Runs round 1, round 2 and aggregation for the given signers inside this process and returns the
    /// signature (for simulation and benchmarks: a real deployment runs each signer on its own node).
    /// Signers must hold shares of the same key and epoch: the newest epoch among them is the one signed
    /// with and any other share is refused with <see cref="Fault.StaleShare"/> naming its member.
    /// </summary>
    public static byte[] SignInProcess(IReadOnlyList<KeyShare> signers, ReadOnlySpan<byte> message)
    {
        if (signers.Count == 0) throw new ProtocolException(Fault.InvalidUsage, "no signers");
        var reference = signers[0];
        foreach (var s in signers) if (s.KeyId == reference.KeyId && s.Epoch > reference.Epoch) reference = s;
        foreach (var s in signers)
            SigningPackage.CheckKeyAndEpoch(s.KeyId, s.Epoch, reference.KeyId, reference.Epoch, s.Identifier, "the key share");
        var round1 = signers.Select(FrostSigner.Commit).ToArray();
        var package = SigningPackage.Create(reference.Public, round1.Select(r => r.Commitments), message);
        var shares = new SignatureShare[signers.Count];
        for (int i = 0; i < shares.Length; i++) shares[i] = FrostSigner.Sign(package, round1[i].Nonces, signers[i]);
        return Aggregate(package, shares, reference.Public);
    }

    /// <summary>The coordinator's key view must be the package's key.</summary>
    private static void CheckKey(SigningPackage package, PublicKeyPackage key)
    {
        if (key.KeyId != package.KeyId || key.Epoch != package.Epoch || key.Scheme != package.Scheme || !key.GroupPublicKey.Equals(package.GroupPublicKey))
            throw new ProtocolException(Fault.InvalidUsage,
                $"the signing package is for key {package.KeyId} epoch {package.Epoch}, not for key {key.KeyId} epoch {key.Epoch}");
    }
}
