namespace Rotor.Rpc;

/// <summary>
/// Names of nodes and quorums: 1 to 64 characters of A-Z, a-z, 0-9, '-' or '_'. They become certificate names,
/// file names (NAME-vault.db) and words in logs and terminals, so nothing else is allowed. A node may not be called
/// <see cref="Coordinator"/> (in any case): that is the coordinator's certificate name, the only client a node accepts.
/// </summary>
public static class Names
{
    /// <summary>The coordinator's certificate name, reserved: no node may take it.</summary>
    public const string Coordinator = "coordinator";

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="what"/> and the rule when <paramref name="name"/> breaks it.</summary>
    public static void Validate(string what, string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"invalid {what} name '{name}': use 1 to 64 characters of A-Z, a-z, 0-9, '-' or '_'");
    }

    /// <summary>The node name rule: <see cref="Validate"/>, and not the reserved name <see cref="Coordinator"/>.</summary>
    public static void ValidateNode(string name)
    {
        Validate("node", name);
        if (string.Equals(name, Coordinator, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"invalid node name '{name}': '{Coordinator}' is reserved for the coordinator's certificate");
    }
}
