using Rotor.Crypto;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols;

/// <summary>What went wrong in a protocol run.</summary>
public enum Fault
{
    /// <summary>A message could not be decoded (bad length, bad point, bad scalar).</summary>
    MalformedMessage,
    /// <summary>A message belongs to another session, epoch or key.</summary>
    WrongSession,
    /// <summary>A message arrived from a party that is not expected to send it.</summary>
    UnexpectedSender,
    /// <summary>A party sent two messages for the same round.</summary>
    DuplicateMessage,
    /// <summary>A proof of knowledge did not verify.</summary>
    InvalidProof,
    /// <summary>A secret share does not match its dealer's Feldman commitment.</summary>
    InvalidShare,
    /// <summary>A dealer's constant-term commitment is not what it must be (reshare: λ_i·Y_i).</summary>
    InvalidConstantTerm,
    /// <summary>A party's broadcast differs from what another party received (equivocation).</summary>
    Equivocation,
    /// <summary>A signature share does not verify.</summary>
    InvalidSignatureShare,
    /// <summary>A share belongs to another key or epoch than the rest of the signing set.</summary>
    StaleShare,
    /// <summary>Parties do not agree on the transcript.</summary>
    TranscriptMismatch,
    /// <summary>The final result failed its own check (e.g. aggregate signature does not verify).</summary>
    InvalidResult,
    /// <summary>The caller used the protocol wrongly (bad parameters, wrong round).</summary>
    InvalidUsage,
}

/// <summary>
/// A protocol step failed. <see cref="Culprits"/> names the parties to blame, if the failure is attributable;
/// an honest party that gets this error keeps its previous state untouched.
/// </summary>
public sealed class ProtocolException : RotorCryptoException
{
    public ProtocolException(Fault fault, string message, params Identifier[] culprits)
        : base(culprits.Length == 0 ? message : $"{message} (blame: {string.Join(", ", culprits)})")
    {
        Fault = fault;
        Culprits = culprits;
    }

    public Fault Fault { get; }

    public IReadOnlyList<Identifier> Culprits { get; }
}
