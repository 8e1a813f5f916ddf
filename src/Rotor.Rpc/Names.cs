namespace Rotor.Rpc;

/// <summary>
/// Names of nodes and quorums: 1 to 64 characters of A-Z, a-z, 0-9, '-' or '_'. They become certificate names,
/// file names (NAME-vault.db) and words in logs and terminals, so nothing else is allowed.
/// </summary>
public static class Names
{
    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="what"/> and the rule when <paramref name="name"/> breaks it.</summary>
    public static void Validate(string what, string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"invalid {what} name '{name}': use 1 to 64 characters of A-Z, a-z, 0-9, '-' or '_'");
    }
}
