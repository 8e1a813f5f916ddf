namespace Rotor.Rpc.Payloads;

/// <summary>
/// The public result of a key generation or reshare for one key, as a node reports it to the coordinator
/// (JSON in <c>StepReply.output</c>): group key and every member's verification share, hex encoded.
/// Unvalidated: the coordinator rebuilds and checks a PublicKeyPackage from it.
/// </summary>
public sealed class KeyPackageSummary
{
    public string KeyId { get; set; } = "";
    public string Scheme { get; set; } = "";
    public ulong Epoch { get; set; }
    public int Threshold { get; set; }
    public string GroupPublicKey { get; set; } = "";

    /// <summary>Member index (protocol identifier) → verification share, hex.</summary>
    public Dictionary<ulong, string> VerifyingShares { get; set; } = [];

    /// <summary>Member index → that member's node identity key (Ed25519, hex), as the key's package records it.</summary>
    public Dictionary<ulong, string> MemberKeys { get; set; } = [];

    /// <summary>The key's HD chain code, hex; empty for a key without one.</summary>
    public string ChainCode { get; set; } = "";

    /// <summary>bip340: the BIP-341 internal key (33-byte compressed), hex; empty otherwise.</summary>
    public string InternalKey { get; set; } = "";
}

/// <summary>What a node outputs when a DKG session finishes: one summary per key.</summary>
public sealed class DkgOutput
{
    public List<KeyPackageSummary> Keys { get; set; } = [];

    /// <summary>The member's signed confirmation of the public packages (hex, DkgCommit.Confirm): what a commit certificate is made of.</summary>
    public string? Confirmation { get; set; }
}

/// <summary>What a node outputs when a reshare session finishes.</summary>
public sealed class ReshareOutput
{
    /// <summary>A new holder's signed confirmations (hex of their wire form) by scheme, one per scheme in the event; empty for a dealer that is not a new holder.</summary>
    public Dictionary<string, string> Confirmations { get; set; } = [];

    /// <summary>The new epochs' public packages (new holders only).</summary>
    public List<KeyPackageSummary> Keys { get; set; } = [];
}
