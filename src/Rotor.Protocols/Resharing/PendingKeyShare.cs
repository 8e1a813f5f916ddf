using System.Security.Cryptography;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Sessions;

namespace Rotor.Protocols.Resharing;

/// <summary>
/// A new member's verified share of the new epoch, not yet in force: it counts only once every new member has
/// confirmed the same transcript (a <see cref="ReshareCertificate"/>), and the services then commit it
/// atomically and delete the old epoch's share. Store it as pending until then. Secret (holds the share).
/// </summary>
public sealed class PendingKeyShare
{
    internal PendingKeyShare(KeyShare share, ResharePlan plan, byte[] eventDigest, byte[] transcriptHash)
    {
        Share = share;
        Plan = plan;
        EventDigest = eventDigest;
        TranscriptHash = transcriptHash;
    }

    /// <summary>The new share (epoch e+1). Not in force until committed with <see cref="Commit"/>.</summary>
    public KeyShare Share { get; }

    public ResharePlan Plan { get; }

    public SessionId Session => Plan.Session;

    /// <summary><see cref="ReshareEvent.Digest"/> of the event this share came from.</summary>
    public byte[] EventDigest { get; }

    /// <summary>The transcript hash this member confirmed.</summary>
    public byte[] TranscriptHash { get; }

    /// <summary>
    /// Returns the share when the certificate is for this share's event and confirms this member's transcript
    /// hash; otherwise <see cref="Fault.TranscriptMismatch"/> (the share must then be discarded).
    /// </summary>
    public KeyShare Commit(ReshareCertificate certificate)
    {
        if (!CryptographicOperations.FixedTimeEquals(certificate.Event.Digest, EventDigest))
            throw new ProtocolException(Fault.WrongSession, $"the certificate is for another reshare event than {Session}");
        if (!CryptographicOperations.FixedTimeEquals(certificate.TranscriptHash, TranscriptHash))
            throw new ProtocolException(Fault.TranscriptMismatch, $"the certificate confirms another transcript than member {Share.Identifier} saw in {Session}");
        return Share;
    }

    public override string ToString() => $"PendingKeyShare({Share}, {Session})";
}
