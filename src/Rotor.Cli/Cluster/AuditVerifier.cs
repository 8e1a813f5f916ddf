using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Rotor.Coordinator.Audit;
using Rotor.Rpc;
using Rotor.Rpc.Operations;

namespace Rotor.Cli.Cluster;

/// <summary>One node's witness statement as the CLI judged it.</summary>
public sealed record WitnessVerdict(string Node, long? Seq, string? Hash, bool Valid, string? Problem, IReadOnlyList<string> Conflicts)
{
    public string Describe() => Valid
        ? Seq == 0 ? "has witnessed no head yet" : $"witnessed entry {Seq} ({Hash![..16]}…)" + (Conflicts.Count > 0 ? $"; reports: {string.Join("; ", Conflicts)}" : "")
        : $"no valid statement: {Problem}";
}

/// <summary>The outcome of verifying the audit log on the operator's side.</summary>
public sealed record LogVerdict(bool Intact, long? FirstBad, string? Problem, AuditVerification Chain, IReadOnlyList<WitnessVerdict> Witnesses)
{
    public JsonObject Json() => new()
    {
        ["intact"] = Intact, ["entries"] = Chain.Entries, ["firstBadEntry"] = Intact ? null : FirstBad, ["problem"] = Intact ? null : Problem,
        ["headHash"] = Intact ? Chain.HeadHash : null, ["publicKey"] = Chain.PublicKey, ["verifiedBy"] = "operator",
        ["witnesses"] = new JsonArray(Witnesses.Select(w => (JsonNode)new JsonObject
        {
            ["node"] = w.Node, ["valid"] = w.Valid, ["seq"] = w.Seq, ["hash"] = w.Hash, ["problem"] = w.Problem,
            ["conflicts"] = new JsonArray(w.Conflicts.Select(c => (JsonNode)c).ToArray()),
        }).ToArray()),
    };
}

/// <summary>
/// <c>rotor log --verify</c>, computed here and trusting nothing the coordinator says about it. The coordinator hands over
/// the entries with their hashes and signatures and the signed head; the chain, every signature and the signed genesis are
/// checked against the operators' pinned audit key (<see cref="AuditLog.Verify(IReadOnlyList{AuditEntry}, (long, byte[], byte[])?, byte[])"/>).
/// Then every node's witness statement, signed over a fresh nonce of ours, is checked against the node's certificate
/// (verified against the cluster CA here): a head a node witnessed beyond the log's end, or with another hash than the log
/// holds at that position, means the log was truncated, emptied, rolled back or rewritten; a conflict a node reports
/// (it was shown a head that went back) fails too. Without a single valid statement, truncation cannot be ruled out: fails.
/// </summary>
public static class AuditVerifier
{
    public static async Task<LogVerdict> VerifyAsync(ClusterClient client, LocalCluster cluster, byte[] pinnedKey)
    {
        // The statements first, then the log: entries appended in between only make the log longer than what was witnessed.
        var nonce = RandomNumberGenerator.GetBytes(32);
        var statements = await client.Operations.WitnessLogAsync(new WitnessQuery { Nonce = Google.Protobuf.ByteString.CopyFrom(nonce) });
        var r = await client.Operations.ReadLogAsync(new LogQuery());
        var entries = new List<AuditEntry>(r.Entries.Count);
        foreach (var e in r.Entries)
        {
            byte[] hash;
            try { hash = Convert.FromHexString(e.Hash); }
            catch (FormatException) { hash = []; }
            entries.Add(new AuditEntry(e.Seq, e.Time, e.Kind, e.Quorum.Length > 0 ? e.Quorum : null, e.Subject.Length > 0 ? e.Subject : null, e.Actor, e.Details,
                e.PrevHash.ToByteArray(), hash, e.Signature.ToByteArray()));
        }
        (long, byte[], byte[])? head = r.HeadHash.Length > 0 ? (r.HeadSeq, r.HeadHash.ToByteArray(), r.HeadSignature.ToByteArray()) : null;
        var chain = AuditLog.Verify(entries, head, pinnedKey);

        var witnesses = statements.Nodes.Select(n => Judge(n, cluster, nonce, pinnedKey)).OrderBy(w => w.Node, StringComparer.Ordinal).ToList();

        if (!chain.Intact) return new LogVerdict(false, chain.FirstBadSeq, chain.Problem, chain, witnesses);
        var last = entries.Count == 0 ? 0 : entries[^1].Seq;
        foreach (var w in witnesses.Where(w => w.Valid))
        {
            if (w.Seq > last)
                return new LogVerdict(false, last + 1, $"node '{w.Node}' witnessed entry {w.Seq}, but the log ends at entry {last}: "
                    + (last <= 1 ? "the log was emptied or replaced" : "it was truncated or rolled back"), chain, witnesses);
            if (w.Seq > 0 && !string.Equals(Convert.ToHexStringLower(entries[(int)w.Seq - 1].Hash), w.Hash, StringComparison.Ordinal))
                return new LogVerdict(false, w.Seq, $"node '{w.Node}' witnessed entry {w.Seq} with another hash than the log holds: the log was rewritten", chain, witnesses);
        }
        // What the nodes refused to witness stays on record: once a head went back, the log is never reported intact again.
        foreach (var w in witnesses.Where(w => w.Valid && w.Conflicts.Count > 0))
            return new LogVerdict(false, null, $"node '{w.Node}' reports that it was shown a head going back: {w.Conflicts[^1]}", chain, witnesses);
        if (!witnesses.Any(w => w.Valid))
            return new LogVerdict(false, null, "no node gave a valid witness statement of the log's head: truncation or rollback cannot be ruled out"
                + (witnesses.Count == 0 ? " (the coordinator listed no node)" : ""), chain, witnesses);
        return new LogVerdict(true, null, null, chain, witnesses);
    }

    private static WitnessVerdict Judge(NodeWitness n, LocalCluster cluster, byte[] nonce, byte[] pinnedKey)
    {
        WitnessVerdict Bad(string problem) => new(n.Node, null, null, false, problem, []);
        if (n.Statement is not { } s) return Bad(n.Problem.Length > 0 ? n.Problem : "no statement");
        Rotor.Crypto.Envelopes.IdentityKeys keys;
        try { keys = NodeCertificates.Verify(cluster, n.Certificate.Span, n.Node); }
        catch (CliException e) { return Bad(e.Message); }
        if (s.Node != n.Node) return Bad($"the statement is by '{s.Node}', relayed as '{n.Node}'");
        if (!s.Nonce.Span.SequenceEqual(nonce)) return Bad("the statement is not over this verification's nonce (an old statement replayed)");
        if (!AuditHeads.Verify(s, keys)) return Bad("the statement's signature does not verify under the node's identity key (forged or altered)");
        if (s.Seq > 0 && !s.AuditKey.Span.SequenceEqual(pinnedKey))
            return Bad($"the node witnessed heads signed by audit key {Convert.ToHexStringLower(s.AuditKey.Span)}, not the pinned one");
        return new WitnessVerdict(n.Node, s.Seq, Convert.ToHexStringLower(s.Hash.Span), true, null, s.Conflicts.ToList());
    }
}
