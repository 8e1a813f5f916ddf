namespace Rotor.Rpc.Payloads;

/// <summary>What the target of a repair reports when its share is rebuilt and stored (public data only).</summary>
public sealed class RepairOutput
{
    public string KeyId { get; set; } = "";
    public ulong Epoch { get; set; }

    /// <summary>Hex of the target's verification share, which the rebuilt share was checked against.</summary>
    public string VerifyingShare { get; set; } = "";
}
