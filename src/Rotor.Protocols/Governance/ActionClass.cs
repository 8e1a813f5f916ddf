namespace Rotor.Protocols.Governance;

/// <summary>
/// The classes of sensitive action. The pinned <see cref="GovernancePolicy"/> says how many approvals each needs;
/// every node checks them itself before it acts.
/// </summary>
public enum ActionClass
{
    CreateWallets,
    Sign,
    Refresh,
    Restructure,
    Repair,
    BackupExport,
    Restore,
    PolicyChange,
}

/// <summary>The actions an approval can describe, and their wire names.</summary>
public static class Actions
{
    public const string CreateWallets = "create-wallets";
    public const string Sign = "sign";
    public const string Refresh = "refresh";
    /// <summary>A standing approval for the scheduler to refresh a quorum (same members, same threshold) by itself.</summary>
    public const string RotationPolicy = "rotation-policy";
    public const string Restructure = "restructure";
    public const string Repair = "repair";
    public const string BackupExport = "backup-export";
    public const string Restore = "restore";
    public const string PolicyChange = "policy-change";

    public static readonly IReadOnlyList<string> All =
        [CreateWallets, Sign, Refresh, RotationPolicy, Restructure, Repair, BackupExport, Restore, PolicyChange];

    /// <summary>The class whose approval count an action needs.</summary>
    public static ActionClass ClassOf(string action) => action switch
    {
        CreateWallets => ActionClass.CreateWallets,
        Sign => ActionClass.Sign,
        Refresh or RotationPolicy => ActionClass.Refresh,
        Restructure => ActionClass.Restructure,
        Repair => ActionClass.Repair,
        BackupExport => ActionClass.BackupExport,
        Restore => ActionClass.Restore,
        PolicyChange => ActionClass.PolicyChange,
        _ => throw new ApprovalException(ApprovalFault.Malformed, $"unknown action '{action}' (known: {string.Join(", ", All)})"),
    };

    /// <summary>The wire name of a class in a policy's approval counts.</summary>
    public static string Name(ActionClass c) => c switch
    {
        ActionClass.CreateWallets => "create-wallets",
        ActionClass.Sign => "sign",
        ActionClass.Refresh => "refresh",
        ActionClass.Restructure => "restructure",
        ActionClass.Repair => "repair",
        ActionClass.BackupExport => "backup-export",
        ActionClass.Restore => "restore",
        ActionClass.PolicyChange => "policy-change",
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    public static readonly IReadOnlyList<ActionClass> Classes = Enum.GetValues<ActionClass>();

    public static ActionClass ParseClass(string name) =>
        Classes.FirstOrDefault(c => Name(c) == name, (ActionClass)(-1)) is var c && (int)c >= 0
            ? c
            : throw new ArgumentException($"unknown action class '{name}' (known: {string.Join(", ", Classes.Select(Name))})");
}
