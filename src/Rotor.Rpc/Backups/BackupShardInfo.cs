using Rotor.Crypto.Groups;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;

namespace Rotor.Rpc.Backups;

/// <summary>
/// The public binding of one shard in a backup: which wallet, scheme, epoch, member set and threshold it belongs
/// to, the backed-up member's identifier and public verification share, and the wallet's group key. Readable
/// without the passphrase; authenticated (as associated data of every shard's ciphertext) when the backup is opened.
/// </summary>
public sealed class BackupShardInfo
{
    internal BackupShardInfo(string wallet, Scheme scheme, ulong epoch, int threshold, IReadOnlyList<Identifier> members,
        Identifier identifier, Element verifyingShare, Element groupPublicKey)
    {
        Wallet = wallet;
        Scheme = scheme;
        Epoch = epoch;
        Threshold = threshold;
        Members = members;
        Identifier = identifier;
        VerifyingShare = verifyingShare;
        GroupPublicKey = groupPublicKey;
    }

    /// <summary>The binding of a share about to be backed up.</summary>
    internal static BackupShardInfo Of(KeyShare share) =>
        new(share.KeyId, share.Scheme, share.Epoch, share.Threshold, share.Members, share.Identifier, share.VerifyingShare, share.GroupPublicKey);

    /// <summary>The wallet (key id).</summary>
    public string Wallet { get; }
    public Scheme Scheme { get; }
    public ulong Epoch { get; }
    public int Threshold { get; }

    /// <summary>Identifiers of the epoch's members, ascending.</summary>
    public IReadOnlyList<Identifier> Members { get; }

    /// <summary>The backed-up member's identifier.</summary>
    public Identifier Identifier { get; }

    /// <summary>The backed-up member's public verification share s·G.</summary>
    public Element VerifyingShare { get; }

    public Element GroupPublicKey { get; }

    /// <summary>Null when <paramref name="share"/> carries exactly this binding; otherwise the first field that differs.</summary>
    internal string? Mismatch(KeyShare share) =>
        share.KeyId != Wallet ? $"key id '{share.KeyId}'"
        : share.Scheme != Scheme ? $"scheme {share.Scheme.Name()}"
        : share.Epoch != Epoch ? $"epoch {share.Epoch}"
        : share.Threshold != Threshold ? $"threshold {share.Threshold}"
        : !share.Members.SequenceEqual(Members) ? "another member set"
        : share.Identifier != Identifier ? $"identifier {share.Identifier}"
        : !share.VerifyingShare.Equals(VerifyingShare) ? "another verification share"
        : !share.GroupPublicKey.Equals(GroupPublicKey) ? "another group key"
        : null;

    internal void AppendTo(Transcript t)
    {
        t.Append("wallet", Wallet).Append("scheme", Scheme.Name()).Append("epoch", Epoch).Append("threshold", (ulong)Threshold);
        t.Append("members", Members.Select(m => m.Scalar).ToArray());
        t.Append("identifier", Identifier.Scalar).Append("verifying-share", VerifyingShare).Append("group-key", GroupPublicKey);
    }

    public override string ToString() => $"BackupShardInfo({Wallet}, {Scheme.Name()}, epoch {Epoch}, member {Identifier}, {Threshold}-of-{Members.Count})";
}
