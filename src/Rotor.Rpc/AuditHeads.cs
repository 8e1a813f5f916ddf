using NSec.Cryptography;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Hashing;
using Rotor.Rpc.NodeOps;

namespace Rotor.Rpc;

/// <summary>
/// What the coordinator's audit key signs about the log's head, and what a node signs when it witnesses one. Shared by
/// the coordinator (signs heads), the nodes (check heads, sign statements) and the operator's CLI (checks both).
/// </summary>
public static class AuditHeads
{
    public const string HeadDomain = "rotor/audit/v1/head";
    private const string WitnessDomain = "rotor/audit/v1/witness";

    /// <summary>The digest the audit key signs for a head: the last entry's position and hash.</summary>
    public static byte[] SignedHead(long seq, ReadOnlySpan<byte> hash)
    {
        using var t = new Transcript(HeadDomain);
        return t.Append("seq", (ulong)seq).Append("hash", hash).Digest();
    }

    /// <summary>The digest a node signs with its identity key for a witness statement.</summary>
    public static byte[] Statement(string node, long seq, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> auditKey, ReadOnlySpan<byte> nonce, IEnumerable<string> conflicts)
    {
        using var t = new Transcript(WitnessDomain);
        t.Append("node", node).Append("seq", (ulong)seq).Append("hash", hash).Append("audit-key", auditKey).Append("nonce", nonce);
        var list = conflicts.ToList();
        t.Append("conflicts", (ulong)list.Count);
        foreach (var c in list) t.Append("conflict", c);
        return t.Digest();
    }

    /// <summary>Whether <paramref name="statement"/> is signed by the node whose identity keys are <paramref name="node"/>.</summary>
    public static bool Verify(WitnessStatement statement, IdentityKeys node) =>
        node.Verify(Statement(statement.Node, statement.Seq, statement.Hash.Span, statement.AuditKey.Span, statement.Nonce.Span, statement.Conflicts), statement.Signature.Span);

    /// <summary>Verifies an Ed25519 signature under a raw 32-byte public key; false for a malformed key.</summary>
    public static bool VerifyEd25519(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var pk) && pk is not null
        && SignatureAlgorithm.Ed25519.Verify(pk, data, signature);
}
