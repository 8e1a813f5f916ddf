using Rotor.Crypto.Hashing;

namespace Rotor.Rpc.Sessions;

/// <summary>
/// The nonce of a threshold-ECDSA signing's presign part (Rotor.Protocols.Ecdsa.EcdsaPresignSession), derived from
/// the coordinator's start nonce: every signer and the coordinator, which combines the shares, derive the same.
/// </summary>
public static class EcdsaSigningNonce
{
    public static byte[] From(ReadOnlySpan<byte> coordinatorNonce)
    {
        using var t = new Transcript("rotor/node-session/ecdsa-sign-nonce/v1");
        return t.Append("nonce", coordinatorNonce).Digest()[..32];
    }
}
