using System.Security.Cryptography;
using Rotor.Crypto.Ciphersuites;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;
using Rotor.Crypto.Signatures;

namespace Rotor.Protocols.Frost;

/// <summary>One signer's pair of public nonce commitments (D_i, E_i) as RFC 9591 lists them.</summary>
internal readonly record struct Commitment(Identifier Id, Element Hiding, Element Binding);

/// <summary>
/// The raw RFC 9591 signing steps: pure functions on scalars and elements, one per step, with no key-id,
/// epoch or membership checks. The typed API (<see cref="FrostSigner"/>, <see cref="FrostCoordinator"/>)
/// does those checks and then calls these; tests call them directly to get past the checks.
/// </summary>
internal static class FrostCore
{
    /// <summary>nonce_generate: H3(random_bytes(32) || SerializeScalar(secret)).</summary>
    public static Scalar NonceGenerate(Ciphersuite suite, ReadOnlySpan<byte> random, Scalar secret)
    {
        int ns = suite.Group.ScalarLength;
        Span<byte> input = stackalloc byte[random.Length + ns];
        random.CopyTo(input);
        secret.WriteTo(input[random.Length..]);
        var nonce = suite.H3(input);
        CryptographicOperations.ZeroMemory(input);
        return nonce;
    }

    /// <summary>encode_group_commitment_list: SerializeScalar(id) || SerializeElement(D) || SerializeElement(E), per signer in order.</summary>
    public static byte[] EncodeCommitmentList(IReadOnlyList<Commitment> list)
    {
        var g = list[0].Id.Group;
        int item = g.ScalarLength + 2 * g.ElementLength;
        var encoded = new byte[list.Count * item];
        for (int i = 0; i < list.Count; i++)
        {
            var span = encoded.AsSpan(i * item, item);
            list[i].Id.Scalar.WriteTo(span);
            list[i].Hiding.Encoding.CopyTo(span[g.ScalarLength..]);
            list[i].Binding.Encoding.CopyTo(span[(g.ScalarLength + g.ElementLength)..]);
        }
        return encoded;
    }

    /// <summary>The common prefix of every binding-factor input: SerializeElement(PK) || H4(msg) || H5(encoded commitment list).</summary>
    public static byte[] BindingFactorPrefix(Ciphersuite suite, Element groupKey, IReadOnlyList<Commitment> list, ReadOnlySpan<byte> message)
    {
        var pk = groupKey.Encoding;
        var msgHash = suite.H4(message);
        var comHash = suite.H5(EncodeCommitmentList(list));
        var prefix = new byte[pk.Length + msgHash.Length + comHash.Length];
        pk.CopyTo(prefix);
        msgHash.CopyTo(prefix, pk.Length);
        comHash.CopyTo(prefix, pk.Length + msgHash.Length);
        return prefix;
    }

    /// <summary>compute_binding_factors: ρ_i = H1(prefix || SerializeScalar(id_i)), in the list's order.</summary>
    public static Scalar[] BindingFactors(Ciphersuite suite, Element groupKey, IReadOnlyList<Commitment> list, ReadOnlySpan<byte> message)
    {
        var prefix = BindingFactorPrefix(suite, groupKey, list, message);
        var input = new byte[prefix.Length + suite.Group.ScalarLength];
        prefix.CopyTo(input, 0);
        var rhos = new Scalar[list.Count];
        for (int i = 0; i < rhos.Length; i++)
        {
            list[i].Id.Scalar.WriteTo(input.AsSpan(prefix.Length));
            rhos[i] = suite.H1(input);
        }
        return rhos;
    }

    /// <summary>compute_group_commitment: R = Σ D_i + Σ ρ_i·E_i (the D_i added, the ρ_i·E_i as one multi-scalar multiplication).</summary>
    public static Element GroupCommitment(Group g, IReadOnlyList<Commitment> list, ReadOnlySpan<Scalar> rhos)
    {
        var points = new Element[list.Count];
        var r = g.Identity;
        for (int i = 0; i < points.Length; i++)
        {
            points[i] = list[i].Binding;
            r = g.Add(r, list[i].Hiding);
        }
        return g.Add(r, g.MultiMulVartime(rhos, points));
    }

    /// <summary>R_i = D_i + ρ_i·E_i: the signer's share of the group commitment.</summary>
    public static Element CommitmentShare(Commitment c, Scalar rho) => c.Hiding + c.Binding * rho;

    /// <summary>λ_i = derive_interpolating_value(signers, id_i) for every signer, in order.</summary>
    public static Scalar[] Lambdas(IReadOnlyList<Identifier> signers) => Lagrange.AllAtZero(signers);

    /// <summary>compute_signature_share: z_i = d_i + e_i·ρ_i + λ_i·s_i·c.</summary>
    public static Scalar SignatureShare(Scalar hiding, Scalar binding, Scalar rho, Scalar lambda, Scalar signingShare, Scalar challenge) =>
        hiding + binding * rho + lambda * signingShare * challenge;

    /// <summary>verify_signature_share: z_i·G = R_i + (c·λ_i)·Y_i.</summary>
    public static bool VerifySignatureShare(Group g, Scalar share, Element commitmentShare, Element verifyingShare, Scalar lambda, Scalar challenge) =>
        g.MultiMulVartime([share, -(challenge * lambda)], [g.Generator, verifyingShare]).Equals(commitmentShare);

    /// <summary>aggregate: z = Σ z_i.</summary>
    public static Scalar Aggregate(Group g, ReadOnlySpan<Scalar> shares)
    {
        var z = g.Zero;
        foreach (var s in shares) z += s;
        return z;
    }

    /// <summary>BIP-340 suites use the group key with even y: returns −Y when Y has odd y (and says so), Y otherwise.</summary>
    public static (Element Key, bool Negated) EvenYKey(Ciphersuite suite, Element groupKey) =>
        suite.RequiresEvenY && !Bip340.HasEvenY(groupKey) ? (-groupKey, true) : (groupKey, false);
}

/// <summary>
/// Everything of one signing operation that follows from the public inputs (suite, group key, sorted
/// commitment list, message): computed once and shared by round 2 and aggregation. For BIP-340 suites it
/// records whether the group key and the group commitment had to be negated to get even y.
/// </summary>
internal sealed class SigningContext
{
    private readonly Dictionary<Identifier, int> index;

    private SigningContext(Ciphersuite suite, Element groupKey, bool keyNegated, IReadOnlyList<Commitment> commitments,
        Scalar[] bindingFactors, Scalar[] lambdas, Element groupCommitment, bool nonceNegated, Scalar challenge)
    {
        Suite = suite;
        GroupKey = groupKey;
        KeyNegated = keyNegated;
        Commitments = commitments;
        BindingFactors = bindingFactors;
        Lambdas = lambdas;
        GroupCommitment = groupCommitment;
        NonceNegated = nonceNegated;
        Challenge = challenge;
        index = new Dictionary<Identifier, int>(commitments.Count);
        for (int i = 0; i < commitments.Count; i++) index.Add(commitments[i].Id, i);
    }

    public static SigningContext Compute(Ciphersuite suite, Element groupKey, IReadOnlyList<Commitment> commitments, ReadOnlySpan<byte> message)
    {
        var g = suite.Group;
        var (key, keyNegated) = FrostCore.EvenYKey(suite, groupKey);
        var rhos = FrostCore.BindingFactors(suite, key, commitments, message);
        var r = FrostCore.GroupCommitment(g, commitments, rhos);
        if (r.IsIdentity) throw new ProtocolException(Fault.InvalidResult, "the group commitment is the identity");
        bool nonceNegated = suite.RequiresEvenY && !Bip340.HasEvenY(r);
        var lambdas = FrostCore.Lambdas(commitments.Select(c => c.Id).ToArray());
        var c = suite.Challenge(r, key, message);
        return new SigningContext(suite, key, keyNegated, commitments, rhos, lambdas, r, nonceNegated, c);
    }

    public Ciphersuite Suite { get; }

    /// <summary>The group key the signature is made under (BIP-340: with even y).</summary>
    public Element GroupKey { get; }

    public bool KeyNegated { get; }
    public IReadOnlyList<Commitment> Commitments { get; }
    public Scalar[] BindingFactors { get; }
    public Scalar[] Lambdas { get; }

    /// <summary>R as RFC 9591 computes it (before any BIP-340 negation).</summary>
    public Element GroupCommitment { get; }

    public bool NonceNegated { get; }
    public Scalar Challenge { get; }

    /// <summary>The R of the signature (BIP-340: with even y).</summary>
    public Element SignatureR => NonceNegated ? -GroupCommitment : GroupCommitment;

    public int IndexOf(Identifier id) => index.TryGetValue(id, out var i) ? i : -1;

    /// <summary>z_i for the signer at <paramref name="i"/>, negating nonces and share as BIP-340 requires.</summary>
    public Scalar SignatureShare(int i, Scalar hiding, Scalar binding, Scalar signingShare)
    {
        if (NonceNegated) (hiding, binding) = (-hiding, -binding);
        if (KeyNegated) signingShare = -signingShare;
        return FrostCore.SignatureShare(hiding, binding, BindingFactors[i], Lambdas[i], signingShare, Challenge);
    }

    /// <summary>Checks z_i of the signer at <paramref name="i"/> against its verification share Y_i.</summary>
    public bool VerifySignatureShare(int i, Scalar share, Element verifyingShare)
    {
        var ri = FrostCore.CommitmentShare(Commitments[i], BindingFactors[i]);
        if (NonceNegated) ri = -ri;
        if (KeyNegated) verifyingShare = -verifyingShare;
        return FrostCore.VerifySignatureShare(Suite.Group, share, ri, verifyingShare, Lambdas[i], Challenge);
    }
}
