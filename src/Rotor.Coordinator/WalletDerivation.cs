using Rotor.Protocols;

namespace Rotor.Coordinator;

/// <summary>
/// Derived keys and addresses of a wallet from its public record alone (key, chain code, bip340 internal key): what
/// <c>rotor wallet address</c> and <c>rotor wallet xpub</c> show. The same derivation the nodes and the coordinator
/// apply when they sign for a path (Rotor.Protocols.Keys.Hd.HdDerivation).
/// </summary>
public static class WalletDerivation
{
    /// <summary>The root key as a point, checked against the record: bip340 from its internal key (whose tweak must have the record's x).</summary>
    private static (Rotor.Crypto.Groups.Element Key, byte[]? ChainCode, Rotor.Crypto.Groups.Element? Internal) Root(string walletId, Scheme scheme, string publicKeyHex, string chainCodeHex, string internalKeyHex)
    {
        var g = scheme.Group();
        var chain = string.IsNullOrEmpty(chainCodeHex) ? null : Convert.FromHexString(chainCodeHex);
        if (scheme != Scheme.Bip340) return (g.DecodeElement(Convert.FromHexString(publicKeyHex)), chain, null);
        if (chain is null) return (Rotor.Crypto.Signatures.Bip340.LiftX(Convert.FromHexString(publicKeyHex)), null, null);
        var inner = g.DecodeElement(Convert.FromHexString(internalKeyHex));
        var q = Rotor.Protocols.Keys.Hd.HdDerivation.TaprootOutputKey(inner);
        if (!Rotor.Crypto.Signatures.Bip340.XOnly(q).AsSpan().SequenceEqual(Convert.FromHexString(publicKeyHex)))
            throw new ArgumentException($"wallet '{walletId}': its internal key does not tweak to its public key");
        return (q, chain, inner);
    }

    /// <summary>The child key (scheme encoding, hex; x-only for bip340) and its address at <paramref name="path"/>.</summary>
    public static (string PublicKey, string Address) Child(string walletId, string schemeName, string publicKeyHex, string chainCodeHex, string internalKeyHex,
        Rotor.Protocols.Keys.Hd.DerivationPath path)
    {
        var scheme = Schemes.Parse(schemeName);
        var (key, chain, inner) = Root(walletId, scheme, publicKeyHex, chainCodeHex, internalKeyHex);
        var child = Rotor.Protocols.Keys.Hd.HdDerivation.Tweak(scheme, walletId, key, chain, inner, path).EncodedChildKey;
        return (Convert.ToHexStringLower(child), Addresses.For(scheme, child));
    }

    /// <summary>The root's BIP-32 xpub (secp256k1: the key; bip340: the internal key); null for ed25519 (no standard serialisation).</summary>
    public static string? Xpub(string walletId, string schemeName, string publicKeyHex, string chainCodeHex, string internalKeyHex)
    {
        var scheme = Schemes.Parse(schemeName);
        var (key, chain, inner) = Root(walletId, scheme, publicKeyHex, chainCodeHex, internalKeyHex);
        if (chain is null) throw new Rotor.Protocols.Keys.Hd.HdUnavailableException(walletId);
        return scheme == Scheme.Ed25519 ? null : Rotor.Protocols.Keys.Hd.ExtendedPublicKey.Serialize(0, 0, 0, chain, scheme == Scheme.Bip340 ? inner! : key);
    }
}
