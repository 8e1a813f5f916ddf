namespace Rotor.Crypto.Envelopes;

/// <summary>Why an envelope was refused.</summary>
public enum EnvelopeFault
{
    /// <summary>The bytes do not parse as an envelope (bad version, bad length, trailing bytes).</summary>
    Malformed,
    /// <summary>The envelope is addressed to another node.</summary>
    WrongRecipient,
    /// <summary>The envelope belongs to another session.</summary>
    WrongSession,
    /// <summary>The sender is not a party of this session.</summary>
    UnknownSender,
    /// <summary>The sender's Ed25519 signature over the envelope does not verify: it was altered or forged.</summary>
    BadSignature,
    /// <summary>The ciphertext does not decrypt under the recipient's key.</summary>
    DecryptionFailed,
}

/// <summary>An envelope was refused; the message names the fault, the session and the parties.</summary>
public sealed class EnvelopeException : RotorCryptoException
{
    public EnvelopeException(EnvelopeFault fault, string message) : base(message) => Fault = fault;

    public EnvelopeFault Fault { get; }
}
