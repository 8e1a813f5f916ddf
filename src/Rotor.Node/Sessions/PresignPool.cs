using Rotor.Protocols.Frost;

namespace Rotor.Node.Sessions;

/// <summary>
/// Nonces behind FROST commitments made in advance (RFC 9591 section 5.1: round one may be done ahead of the
/// message), so that a later signature takes one round trip. Memory only, never stored: lost on restart (the
/// coordinator then signs in two rounds). Each is taken out before it is used, so it signs at most once; each is
/// bound to its key and epoch (the signer refuses it for another), kept at most <see cref="Lifetime"/>, at most
/// <see cref="PerKey"/> per key epoch and <see cref="Total"/> in all, and dropped when its key's epoch changes.
/// </summary>
public sealed class PresignPool
{
    /// <summary>Commitments kept per key epoch (a signature uses one and asks for one more).</summary>
    public const int PerKey = 4;

    /// <summary>Commitments kept in all.</summary>
    public const int Total = 4096;

    /// <summary>How long unused nonces are kept.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly Dictionary<(string KeyId, ulong Epoch), List<(SigningNonces Nonces, DateTime Made)>> pool = [];
    private int count;

    /// <summary>Keeps nonces for a later signature; false (and nothing kept) when the key's or the pool's limit is reached.</summary>
    public bool Add(SigningNonces nonces)
    {
        var c = nonces.Commitments;
        lock (pool)
        {
            DropExpired();
            if (!pool.TryGetValue((c.KeyId, c.Epoch), out var list)) pool[(c.KeyId, c.Epoch)] = list = [];
            if (list.Count >= PerKey || count >= Total) return false;
            list.Add((nonces, DateTime.UtcNow));
            count++;
            return true;
        }
    }

    /// <summary>Takes out the nonces behind <paramref name="commitments"/> (so they are never handed out again), or null.</summary>
    public SigningNonces? Take(SigningCommitments commitments)
    {
        lock (pool)
        {
            DropExpired();
            if (!pool.TryGetValue((commitments.KeyId, commitments.Epoch), out var list)) return null;
            var i = list.FindIndex(e => e.Nonces.Commitments.Equals(commitments));
            if (i < 0) return null;
            var nonces = list[i].Nonces;
            list.RemoveAt(i);
            count--;
            return nonces;
        }
    }

    /// <summary>Drops every nonce of these keys (their epoch changed).</summary>
    public void Forget(IReadOnlySet<string> keyIds)
    {
        lock (pool)
            foreach (var k in pool.Keys.Where(k => keyIds.Contains(k.KeyId)).ToList())
            {
                count -= pool[k].Count;
                pool.Remove(k);
            }
    }

    /// <summary>Nonces held.</summary>
    public int Count
    {
        get { lock (pool) return count; }
    }

    private void DropExpired()
    {
        var limit = DateTime.UtcNow - Lifetime;
        foreach (var (k, list) in pool)
            count -= list.RemoveAll(e => e.Made < limit);
        foreach (var k in pool.Where(p => p.Value.Count == 0).Select(p => p.Key).ToList()) pool.Remove(k);
    }
}

/// <summary>
/// How many threshold-ECDSA presign sessions (round 1 made ahead of the message, <see cref="EcdsaSignNodeSession"/>)
/// this node keeps open and unused, per key epoch: at most <see cref="PerKey"/>, and <see cref="Total"/> in all, so
/// that no one (a faulty coordinator included) can make a node hold presigned state without bound. The sessions
/// themselves hold the secrets, in memory only.
/// </summary>
public sealed class EcdsaPresignLimit
{
    /// <summary>Unused presigns kept per key epoch.</summary>
    public const int PerKey = 4;

    /// <summary>Unused presigns kept in all.</summary>
    public const int Total = 4096;

    private readonly Dictionary<(string KeyId, ulong Epoch), int> held = [];
    private int count;

    /// <summary>Takes a place for one more unused presign of this key epoch; false when a limit is reached.</summary>
    public bool TryReserve(string keyId, ulong epoch)
    {
        lock (held)
        {
            held.TryGetValue((keyId, epoch), out var n);
            if (n >= PerKey || count >= Total) return false;
            held[(keyId, epoch)] = n + 1;
            count++;
            return true;
        }
    }

    /// <summary>Gives the place back (the presign was used, failed, expired or was closed).</summary>
    public void Release(string keyId, ulong epoch)
    {
        lock (held)
        {
            if (!held.TryGetValue((keyId, epoch), out var n) || n == 0) return;
            if (n == 1) held.Remove((keyId, epoch));
            else held[(keyId, epoch)] = n - 1;
            count--;
        }
    }

    /// <summary>Unused presigns held.</summary>
    public int Count
    {
        get { lock (held) return count; }
    }
}
