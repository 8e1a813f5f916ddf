namespace Rotor.Protocols.Governance;

/// <summary>Why an action's approvals were refused. Each refusal changes nothing.</summary>
public enum ApprovalFault
{
    /// <summary>The action carries no approval at all.</summary>
    Missing,
    /// <summary>The approved description or an approval could not be decoded, or is not in canonical form.</summary>
    Malformed,
    /// <summary>Fewer distinct valid approvals than the pinned policy needs for the action's class.</summary>
    Insufficient,
    /// <summary>The approval's expiry has passed.</summary>
    Expired,
    /// <summary>The approval's request id was already used on this node.</summary>
    Replayed,
    /// <summary>The approved description differs from what the node is asked to do (another message, wallet, member...).</summary>
    Mismatched,
    /// <summary>A signature by a pinned key does not verify over the description (tampered).</summary>
    BadSignature,
    /// <summary>A policy change that does not follow the pinned policy (serial, shape).</summary>
    InvalidPolicy,
}

/// <summary>An action was refused for its approvals; <see cref="Fault"/> says which check failed.</summary>
public sealed class ApprovalException(ApprovalFault fault, string message) : Exception($"approval {Describe(fault)}: {message}")
{
    public ApprovalFault Fault { get; } = fault;

    public static string Describe(ApprovalFault fault) => fault switch
    {
        ApprovalFault.Missing => "missing",
        ApprovalFault.Malformed => "malformed",
        ApprovalFault.Insufficient => "insufficient",
        ApprovalFault.Expired => "expired",
        ApprovalFault.Replayed => "replayed",
        ApprovalFault.Mismatched => "mismatched",
        ApprovalFault.BadSignature => "bad signature",
        ApprovalFault.InvalidPolicy => "invalid policy",
        _ => fault.ToString(),
    };
}
