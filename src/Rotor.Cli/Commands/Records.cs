using System.Text.Json.Nodes;
using Rotor.Rpc.Coordinator;

namespace Rotor.Cli.Commands;

/// <summary>The JSON shapes of the CLI's results.</summary>
public static class Records
{
    public static JsonObject Wallet(WalletRecord w) => new()
    {
        ["walletId"] = w.WalletId, ["scheme"] = w.Scheme, ["publicKey"] = w.PublicKey, ["address"] = w.Address, ["epoch"] = w.Epoch,
        ["quorum"] = w.Quorum, ["threshold"] = w.Threshold, ["members"] = Strings(w.Members),
        ["chainCode"] = w.ChainCode.Length > 0 ? w.ChainCode : null,
    };

    public static JsonObject Signature(SignReply s) => new()
    {
        ["walletId"] = s.WalletId, ["scheme"] = s.Scheme, ["epoch"] = s.Epoch, ["signers"] = Strings(s.Signers),
        ["message"] = Convert.ToHexStringLower(s.Message.Span), ["signature"] = Convert.ToHexStringLower(s.Signature.Span), ["publicKey"] = s.PublicKey,
        ["path"] = s.Path.Length > 0 ? s.Path : null,
    };

    public static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());
}
