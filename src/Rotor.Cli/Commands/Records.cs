using System.Text.Json.Nodes;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Rpc.Coordinator;

namespace Rotor.Cli.Commands;

/// <summary>The JSON shapes of the CLI's results.</summary>
public static class Records
{
    /// <summary>A wallet; ecdsa-secp256k1 adds <c>addresses: { ethereum, bitcoin }</c> (<c>address</c> is the Ethereum one).</summary>
    public static JsonObject Wallet(WalletRecord w)
    {
        var o = new JsonObject
        {
            ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["publicKey"] = w.PublicKey, ["address"] = w.Address, ["epoch"] = w.Epoch,
            ["quorum"] = w.Quorum, ["threshold"] = w.Threshold, ["members"] = Strings(w.Members),
            ["chainCode"] = w.ChainCode.Length > 0 ? w.ChainCode : null,
        };
        if (AddressesOf(w.Scheme, w.PublicKey) is { } a) o["addresses"] = a;
        return o;
    }

    /// <summary>
    /// A signature. ecdsa-secp256k1: <c>signature</c> is r ‖ s (64 bytes, low S) and <c>recoveryId</c> (0 or 1, Ethereum's
    /// v − 27) is beside it, found by recovering the signing key from (message, r, s) — so it is also a check that
    /// the signature is the key's; <c>addresses</c> are the signing key's.
    /// </summary>
    public static JsonObject Signature(SignReply s)
    {
        var o = new JsonObject
        {
            ["walletId"] = s.WalletId, ["scheme"] = s.Scheme, ["epoch"] = s.Epoch, ["signers"] = Strings(s.Signers),
            ["message"] = Convert.ToHexStringLower(s.Message.Span), ["signature"] = Convert.ToHexStringLower(s.Signature.Span), ["publicKey"] = s.PublicKey,
            ["path"] = s.Path.Length > 0 ? s.Path : null,
        };
        if (Schemes.TryParse(s.Scheme, out var scheme) && scheme == Scheme.EcdsaSecp256k1)
        {
            var (rs, v) = Ecdsa(s);
            o["signature"] = Convert.ToHexStringLower(rs);
            o["recoveryId"] = v;
            if (AddressesOf(s.Scheme, s.PublicKey) is { } a) o["addresses"] = a;
        }
        return o;
    }

    /// <summary>
    /// An ECDSA sign reply's r ‖ s and recovery id: the recovery id under which (message, r, s) recovers the reply's
    /// public key, so the value shown is checked here; null when none does (the signature is not the key's for this
    /// digest) or when the reply's own <c>recovery_id</c> says otherwise.
    /// </summary>
    public static (byte[] Rs, int? RecoveryId) Ecdsa(SignReply s)
    {
        var rs = s.Signature.ToByteArray();
        int? v = null;
        try
        {
            var key = Scheme.EcdsaSecp256k1.Group().DecodeElement(Convert.FromHexString(s.PublicKey));
            v = EcdsaRecovery.RecoveryId(key, s.Message.Span, rs);
        }
        catch (Exception e) when (e is FormatException or Rotor.Crypto.InvalidEncodingException) { }
        if (s.HasRecoveryId && v != (int)s.RecoveryId) v = null;
        return (rs, v);
    }

    /// <summary>The key's address on each chain, for schemes with several (ecdsa-secp256k1); null otherwise or for a key that does not decode.</summary>
    public static JsonObject? AddressesOf(string scheme, string publicKeyHex)
    {
        if (!Schemes.TryParse(scheme, out var sc)) return null;
        try
        {
            return SimulateCommand.AddressesJson(Addresses.ByChain(sc, Convert.FromHexString(publicKeyHex)));
        }
        catch (Exception e) when (e is FormatException or ArgumentException) { return null; }
    }

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());
}
