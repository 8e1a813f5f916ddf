using Rotor.Rpc.Backups;

namespace Rotor.Node.Backups;

/// <summary>
/// The X25519 public keys this node may seal backups to, pinned in node.json at <c>rotor node init --backup-recipients</c>.
/// A backup to any other key is refused, whoever asks: the coordinator (or anyone holding its keys and token) cannot
/// have a node's shards sealed to a key of its own. <see cref="Replace"/> changes the list; it is a policy change that
/// needs the operators' approval, which its caller checks first.
/// </summary>
public sealed class BackupRecipients
{
    private readonly NodeConfig? config;
    private volatile IReadOnlyList<byte[]> keys;

    public BackupRecipients(NodeConfig config)
    {
        this.config = config;
        keys = config.BackupRecipients.Select(k => Parse(k, "backupRecipients in node.json")).ToList();
    }

    /// <summary>A list held in memory only (tests).</summary>
    public BackupRecipients(IEnumerable<byte[]> pinned) => keys = pinned.Select(k => Check(k, "recipient")).ToList();

    /// <summary>The pinned keys, raw.</summary>
    public IReadOnlyList<byte[]> Pinned => keys;

    public bool IsPinned(ReadOnlySpan<byte> recipient)
    {
        foreach (var k in keys)
            if (recipient.SequenceEqual(k)) return true;
        return false;
    }

    /// <summary>
    /// Refuses, naming the recipient and the pinned keys, a backup to a key that is not pinned on <paramref name="node"/>.
    /// When the node's governance policy pins backup recipients (<paramref name="policyRecipients"/>, hex), that list is
    /// the one that counts (the operators change it by an approved policy change); otherwise node.json's.
    /// </summary>
    public void Require(ReadOnlySpan<byte> recipient, string node, IReadOnlyList<string>? policyRecipients = null)
    {
        if (policyRecipients is { Count: > 0 })
        {
            var hex = Convert.ToHexStringLower(recipient);
            if (policyRecipients.Any(r => string.Equals(r, hex, StringComparison.OrdinalIgnoreCase))) return;
            throw new BackupException(BackupFault.NotAllowed,
                $"backup recipient {hex} is not pinned on node '{node}'; pinned by the governance policy: {string.Join(", ", policyRecipients)}");
        }
        if (IsPinned(recipient)) return;
        var pinned = keys.Count == 0 ? "none is pinned (rotor node init --backup-recipients)" : "pinned: " + string.Join(", ", keys.Select(Convert.ToHexStringLower));
        throw new BackupException(BackupFault.NotAllowed,
            $"backup recipient {Convert.ToHexStringLower(recipient)} is not pinned on node '{node}'; {pinned}");
    }

    /// <summary>
    /// Replaces the pinned list and saves it in node.json. The caller must first have verified that the operators
    /// approved exactly <paramref name="recipients"/> for this node; this method checks only the keys' form.
    /// </summary>
    public void Replace(IReadOnlyList<byte[]> recipients)
    {
        var list = recipients.Select(k => Check(k, "recipient")).ToList();
        if (list.Select(Convert.ToHexStringLower).Distinct().Count() != list.Count) throw new ArgumentException("a backup recipient is listed twice");
        lock (this)
        {
            if (config is not null)
            {
                config.BackupRecipients = list.Select(Convert.ToHexStringLower).ToList();
                if (config.FilePath is { } path) config.Save(path);
            }
            keys = list;
        }
    }

    /// <summary>
    /// Parses one recipient public key: 64 hex digits, or standard base64 of 32 bytes (44 characters with '=' padding).
    /// </summary>
    public static byte[] Parse(string text, string what)
    {
        text = text.Trim();
        byte[] raw;
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit)) raw = Convert.FromHexString(text);
        else
        {
            try { raw = Convert.FromBase64String(text); }
            catch (FormatException)
            {
                throw new ArgumentException($"{what}: '{text}' is not an X25519 public key (64 hex digits or base64 of 32 bytes)");
            }
        }
        return Check(raw, what);
    }

    /// <summary>Parses a comma-separated list (see <see cref="Parse"/>).</summary>
    public static IReadOnlyList<byte[]> ParseList(string? text, string what) =>
        string.IsNullOrWhiteSpace(text) ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => Parse(k, what)).ToList();

    private static byte[] Check(byte[] raw, string what)
    {
        if (raw.Length != 32) throw new ArgumentException($"{what}: an X25519 public key is 32 bytes, not {raw.Length}");
        if (raw.All(b => b == 0)) throw new ArgumentException($"{what}: the all-zero key is not a recipient");
        return raw;
    }
}
