namespace Rotor.Crypto;

/// <summary>Base type of every error raised by Rotor's cryptographic code.</summary>
public class RotorCryptoException : Exception
{
    public RotorCryptoException(string message) : base(message) { }
    public RotorCryptoException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Why an encoded scalar or group element was refused.</summary>
public enum EncodingError
{
    WrongLength,
    NonCanonical,
    NotOnCurve,
    Identity,
    SmallOrder,
    NotInPrimeOrderSubgroup,
    Zero,
}

/// <summary>An encoding of a scalar or group element that must not be accepted.</summary>
public sealed class InvalidEncodingException : RotorCryptoException
{
    public InvalidEncodingException(string what, EncodingError error, string detail)
        : base($"invalid {what}: {Describe(error)}{(detail.Length > 0 ? " (" + detail + ")" : "")}")
    {
        What = what;
        Error = error;
    }

    /// <summary>What was being decoded, e.g. "Ed25519 element".</summary>
    public string What { get; }

    public EncodingError Error { get; }

    private static string Describe(EncodingError e) => e switch
    {
        EncodingError.WrongLength => "wrong length",
        EncodingError.NonCanonical => "non-canonical encoding",
        EncodingError.NotOnCurve => "point is not on the curve",
        EncodingError.Identity => "the identity element is not allowed",
        EncodingError.SmallOrder => "point has small order",
        EncodingError.NotInPrimeOrderSubgroup => "point is not in the prime-order subgroup",
        EncodingError.Zero => "zero is not allowed",
        _ => e.ToString(),
    };
}
