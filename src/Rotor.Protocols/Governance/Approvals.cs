using System.Text;
using NSec.Cryptography;
using Rotor.Crypto.Signatures;

namespace Rotor.Protocols.Governance;

/// <summary>One signature over an approved description: the signer's Ed25519 public key and the signature.</summary>
public sealed record ApprovalSignature(byte[] Key, byte[] Signature)
{
    public string KeyHex => Convert.ToHexStringLower(Key);
}

/// <summary>What travels with a sensitive action: the canonical description and the signatures over it.</summary>
public sealed record Authorization(byte[] Description, IReadOnlyList<ApprovalSignature> Approvals);

/// <summary>An authorization that passed <see cref="ApprovalVerifier.Verify"/>: the description and who approved it.</summary>
public sealed record VerifiedAction(ActionRequest Request, IReadOnlyList<string> Approvers, string? ApiClient);

/// <summary>
/// Checks approvals against a pinned <see cref="GovernancePolicy"/>. Pure: the caller gives the time, and then
/// compares the verified description with what it is asked to do (<see cref="ActionRequest.Expect{T}"/>) and spends
/// single-use request ids in its own ledger.
/// </summary>
public static class ApprovalVerifier
{
    /// <summary>Prefixed to the description before signing, so an approval signature means nothing elsewhere.</summary>
    public const string SigningDomain = "rotor/approval/v1\n";

    public static byte[] SignedBytes(ReadOnlySpan<byte> description) => [.. Encoding.ASCII.GetBytes(SigningDomain), .. description];

    /// <summary>
    /// Verifies <paramref name="authorization"/> under <paramref name="policy"/> for one of <paramref name="actions"/>:
    /// canonical description, action, expiry, every signature by a pinned key, and enough distinct approvers for the
    /// action's class (or, for signing only, one API client allowed for the description's quorum).
    /// </summary>
    public static VerifiedAction Verify(GovernancePolicy policy, Authorization? authorization, DateTimeOffset now, params string[] actions)
    {
        if (authorization is null || authorization.Description.Length == 0)
            throw new ApprovalException(ApprovalFault.Missing, $"{string.Join(" or ", actions)} needs approvals and none came with it");
        var request = ActionRequest.Decode(authorization.Description);
        if (!actions.Contains(request.Action))
            throw new ApprovalException(ApprovalFault.Mismatched, $"the approval is for '{request.Action}', not {string.Join(" or ", actions.Select(a => $"'{a}'"))}");
        if (now >= request.Expires)
            throw new ApprovalException(ApprovalFault.Expired, $"request {request.RequestId} expired at {request.Expires.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
        var signed = SignedBytes(authorization.Description);
        var approvers = new List<string>();
        string? apiClient = null;
        var unknown = 0;
        foreach (var a in authorization.Approvals)
        {
            var key = a.KeyHex;
            var approver = policy.Approvers.FirstOrDefault(x => x.Key == key);
            var client = request.Action == Actions.Sign ? policy.ApiClients.FirstOrDefault(x => x.Key == key) : null;
            if (approver is null && client is null) { unknown++; continue; }
            if (!Ed25519Verifier.Verify(a.Key, signed, a.Signature))
                throw new ApprovalException(ApprovalFault.BadSignature,
                    $"the signature of {(approver is not null ? $"approver '{approver.Name}'" : $"api client '{client!.Name}'")} does not verify over request {request.RequestId} (tampered or signed over another description)");
            if (approver is not null) { if (!approvers.Contains(approver.Name)) approvers.Add(approver.Name); }
            else if (client!.Quorums.Count == 0 || (request.Quorum is not null && client.Quorums.Contains(request.Quorum))) apiClient = client.Name;
            else throw new ApprovalException(ApprovalFault.Mismatched, $"api client '{client.Name}' may sign for quorums [{string.Join(", ", client.Quorums)}], not '{request.Quorum}'");
        }
        var needed = policy.Required(request.Class);
        if (apiClient is null && approvers.Count < needed)
            throw new ApprovalException(ApprovalFault.Insufficient,
                $"{request.Action} needs {needed} approval{(needed == 1 ? "" : "s")}, request {request.RequestId} has {approvers.Count}" +
                (approvers.Count > 0 ? $" ({string.Join(", ", approvers)})" : "") +
                (unknown > 0 ? $"; {unknown} signature{(unknown == 1 ? " is" : "s are")} by keys this policy does not pin" : ""));
        return new VerifiedAction(request, approvers, apiClient);
    }
}

/// <summary>An operator's (or API client's) Ed25519 key: made, and used to sign descriptions. Files are the CLI's business.</summary>
public static class OperatorKeys
{
    /// <summary>A fresh key: its 32-byte private seed (the caller wipes it) and its public key, hex.</summary>
    public static (byte[] Seed, string PublicKey) Create()
    {
        using var key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return (key.Export(KeyBlobFormat.RawPrivateKey), Convert.ToHexStringLower(key.PublicKey.Export(KeyBlobFormat.RawPublicKey)));
    }

    public static string PublicKeyOf(ReadOnlySpan<byte> seed)
    {
        using var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        return Convert.ToHexStringLower(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>Approves a description: signs the domain-separated canonical bytes.</summary>
    public static ApprovalSignature Approve(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> description)
    {
        using var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        return new ApprovalSignature(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), SignatureAlgorithm.Ed25519.Sign(key, ApprovalVerifier.SignedBytes(description)));
    }
}
