using System.Text.Json;
using Google.Protobuf;
using Rotor.Rpc;
using Rotor.Rpc.NodeOps;

namespace Rotor.Node.Audit;

/// <summary>A head the node refuses to witness (it goes back, forks or is signed by another key); nothing is kept but the report.</summary>
public sealed class AuditWitnessException(string message) : Exception(message);

/// <summary>
/// The node's witness of the coordinator's audit log. The node keeps (in a file of its own folder, written atomically; public
/// data, kept out of the vault so that witnessing never touches the shards' file) the highest signed head
/// it was shown: position and hash of the log's last entry. It witnesses a head only when it is signed by the pinned
/// audit key (node.json <c>auditKey</c>, else the first key it was shown) and does not go back: a lower position, or
/// another hash at the position it holds, is refused and remembered as a conflict that every later statement reports.
/// A statement is signed with the node's identity key, so the operator's CLI can check it against the node's certificate.
/// </summary>
public sealed class AuditWitness
{
    /// <summary>The file name the node keeps its witness state in (node folder).</summary>
    public const string FileName = "audit-witness.json";
    private const int MaxConflicts = 16;
    private readonly NodeState node;
    private readonly byte[]? pinnedKey;
    private readonly string? stateFile;
    private readonly object gate = new();
    private State? state;

    /// <param name="stateFile">Where the state is kept; null: memory only (tests).</param>
    public AuditWitness(NodeState node, byte[]? pinnedKey, string? stateFile)
    {
        this.stateFile = stateFile;
        if (pinnedKey is not null && pinnedKey.Length != 32) throw new ArgumentException("auditKey in node.json must be a 32-byte Ed25519 public key (64 hex digits)");
        this.node = node;
        this.pinnedKey = pinnedKey;
    }

    /// <summary>The highest head witnessed: (0, empty) before the first.</summary>
    public (long Seq, byte[] Hash) Highest
    {
        get
        {
            lock (gate)
            {
                var s = Load();
                return (s.Seq, s.Hash);
            }
        }
    }

    /// <summary>Checks and keeps <paramref name="head"/>; returns the signed statement of what the node now holds.</summary>
    public WitnessStatement Witness(AuditHead head)
    {
        lock (gate)
        {
            var s = Load();
            var key = head.PublicKey.ToByteArray();
            var expected = pinnedKey ?? s.Key;
            if (expected is not null && !key.AsSpan().SequenceEqual(expected))
                throw Conflict(s, $"an audit head signed by key {Convert.ToHexStringLower(key)} was shown, but this node pinned {Convert.ToHexStringLower(expected)}");
            if (head.Seq < 0 || head.Hash.Length != 64)
                throw new AuditWitnessException($"node '{node.Name}': malformed audit head (position {head.Seq}, {head.Hash.Length}-byte hash)");
            if (!AuditHeads.VerifyEd25519(key, AuditHeads.SignedHead(head.Seq, head.Hash.Span), head.Signature.Span))
                throw new AuditWitnessException($"node '{node.Name}': the audit head at entry {head.Seq} has a signature that does not verify under the audit key");
            if (head.Seq < s.Seq)
                throw Conflict(s, $"the coordinator showed audit head {head.Seq} after this node had witnessed head {s.Seq} ({Short(s.Hash)}): the log went back");
            if (head.Seq == s.Seq && s.Seq > 0 && !head.Hash.Span.SequenceEqual(s.Hash))
                throw Conflict(s, $"the coordinator showed entry {head.Seq} with hash {Short(head.Hash.Span)}, but this node witnessed it as {Short(s.Hash)}: the log was rewritten");
            if (head.Seq > s.Seq || s.Key is null)
            {
                s = s with { Seq = head.Seq, Hash = head.Hash.ToByteArray(), Key = key };
                Save(s);
            }
            return Sign(s, []);
        }
    }

    /// <summary>The highest head witnessed, signed over the operator's nonce.</summary>
    public WitnessStatement Attest(ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length is < 16 or > 64) throw new ArgumentException($"an attestation nonce is 16 to 64 bytes, not {nonce.Length}");
        lock (gate) return Sign(Load(), nonce.ToArray());
    }

    private AuditWitnessException Conflict(State s, string what)
    {
        var report = $"{DateTimeOffset.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'} {what}";
        var conflicts = s.Conflicts.Append(report).TakeLast(MaxConflicts).ToList();
        // Repeated refusals of the same head are reported once.
        if (s.Conflicts.Count == 0 || !s.Conflicts[^1].EndsWith(what, StringComparison.Ordinal)) Save(s with { Conflicts = conflicts });
        return new AuditWitnessException($"node '{node.Name}' refuses to witness: {what}");
    }

    private WitnessStatement Sign(State s, byte[] nonce)
    {
        var key = s.Key ?? pinnedKey ?? [];
        var statement = new WitnessStatement
        {
            Node = node.Name, Seq = s.Seq, Hash = ByteString.CopyFrom(s.Hash), AuditKey = ByteString.CopyFrom(key), Nonce = ByteString.CopyFrom(nonce),
        };
        statement.Conflicts.AddRange(s.Conflicts);
        statement.Signature = ByteString.CopyFrom(node.Identity.Sign(AuditHeads.Statement(node.Name, s.Seq, s.Hash, key, nonce, s.Conflicts)));
        return statement;
    }

    private State Load()
    {
        if (state is not null) return state;
        var empty = new State(0, [], null, []);
        if (stateFile is null || !File.Exists(stateFile)) return state = empty;
        try { state = JsonSerializer.Deserialize<State>(File.ReadAllBytes(stateFile)) ?? empty; }
        catch (JsonException e) { throw new InvalidDataException($"node '{node.Name}': the audit witness file {stateFile} is unreadable: {e.Message}"); }
        return state;
    }

    /// <summary>Writes the state durably: a temporary file, flushed, renamed over the old one.</summary>
    private void Save(State s)
    {
        if (stateFile is not null)
        {
            var tmp = stateFile + ".tmp";
            using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                f.Write(JsonSerializer.SerializeToUtf8Bytes(s));
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, stateFile, overwrite: true);
        }
        state = s;
    }

    private static string Short(ReadOnlySpan<byte> hash) => hash.Length == 0 ? "(none)" : Convert.ToHexStringLower(hash[..Math.Min(8, hash.Length)]) + "…";

    private sealed record State(long Seq, byte[] Hash, byte[]? Key, List<string> Conflicts);
}
