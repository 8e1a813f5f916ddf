namespace Rotor.Rpc.Payloads;

/// <summary>What a node reports when its ECDSA pair setup is stored (public data only).</summary>
public sealed class EcdsaSetupOutput
{
    public string KeyId { get; set; } = "";
    public ulong Epoch { get; set; }

    /// <summary>Hex of the ECDSA package digest the material is bound to (key id, epoch, members, verification shares, group key).</summary>
    public string PackageDigest { get; set; } = "";

    /// <summary>The peers (node names) this node now holds fresh material with.</summary>
    public List<string> Peers { get; set; } = [];

    /// <summary>Whether the node now holds material with every other member of the epoch (its key is usable for ECDSA).</summary>
    public bool Complete { get; set; }
}
