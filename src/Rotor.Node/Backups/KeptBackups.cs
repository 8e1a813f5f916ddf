using Rotor.Node.Vault;

using Rotor.Rpc.Backups;

namespace Rotor.Node.Backups;

/// <summary>
/// The backups a node keeps in its own folder (automatic backups after a commit, <c>keep_on_node</c>). One that holds a
/// shard of an epoch a commit replaced is a liability, not a backup: it is deleted, not only marked.
/// </summary>
public static class KeptBackups
{
    public const string Extension = ".rotor-backup";

    /// <summary>
    /// Deletes every kept backup holding a shard (wallet, epoch) that is obsolete: its epoch is at most
    /// <paramref name="replacedUpTo"/>[wallet] (the old epochs of a verified commit certificate), or older than the
    /// node's own active epoch of that wallet. A file that cannot be read is left alone. Returns the deleted backups' ids.
    /// </summary>
    public static IReadOnlyList<string> Prune(NodeState node, string directory, IReadOnlyDictionary<string, ulong>? replacedUpTo)
    {
        if (!Directory.Exists(directory)) return [];
        var deleted = new List<string>();
        foreach (var path in Directory.GetFiles(directory, "*" + Extension))
        {
            BackupFile file;
            try { file = BackupFile.Parse(File.ReadAllBytes(path)); }
            catch (Exception e) when (e is BackupException or IOException) { continue; }
            var obsolete = file.Shards.Any(s =>
                (replacedUpTo is not null && replacedUpTo.TryGetValue(s.Wallet, out var upTo) && s.Epoch <= upTo)
                || node.WithVault(v => v.ActiveEpoch(s.Wallet)) is { } active && active > s.Epoch);
            if (!obsolete) continue;
            SecureDelete(path);
            deleted.Add(file.Id);
        }
        return deleted;
    }

    /// <summary>Overwrites the file with zeros, flushes, then deletes it.</summary>
    private static void SecureDelete(string path)
    {
        try
        {
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                var zeros = new byte[Math.Min(f.Length, 1 << 16)];
                for (long left = f.Length; left > 0; left -= zeros.Length) f.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
                f.Flush(flushToDisk: true);
            }
        }
        finally { File.Delete(path); }
    }
}
