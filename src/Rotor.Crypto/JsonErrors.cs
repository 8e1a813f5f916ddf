using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rotor.Crypto;

/// <summary>
/// Turns a System.Text.Json error into a message for an operator: where (JSON path, line) and what is wrong, without
/// .NET type names ("System.Nullable`1[System.UInt64]") or member-mapping jargon.
/// </summary>
public static partial class JsonErrors
{
    public static string Describe(JsonException e)
    {
        var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
        var line = e.LineNumber is { } l ? $" (line {l + 1})" : "";
        var m = e.Message;
        if (Unmapped().Match(m) is { Success: true } u) return $"unknown field '{u.Groups[1].Value}'{line}";
        if (m.Contains("could not be converted", StringComparison.Ordinal))
            return $"a value{where} has the wrong type ({Expected(m)}){line}";
        if (m.Contains("missing required properties", StringComparison.Ordinal) && Missing().Match(m) is { Success: true } miss)
            return $"missing field{(miss.Groups[1].Value.Contains(',') ? "s" : "")} {miss.Groups[1].Value}{line}";
        if (m.Contains("expected end of string", StringComparison.OrdinalIgnoreCase) || m.Contains("reached the end", StringComparison.OrdinalIgnoreCase)
            || m.Contains("incomplete", StringComparison.OrdinalIgnoreCase))
            return $"the JSON ends too early (truncated?){where}{line}";
        // Keep the reader's first sentence (what it read), without the path tail it repeats.
        var first = m.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
        first = TypeName().Replace(first, "a value");
        return $"not valid JSON{where}{line}: {first}";
    }

    private static string Expected(string message) =>
        message switch
        {
            _ when message.Contains("Int", StringComparison.Ordinal) || message.Contains("Double", StringComparison.Ordinal) => "expected a number",
            _ when message.Contains("Boolean", StringComparison.Ordinal) => "expected true or false",
            _ when message.Contains("String", StringComparison.Ordinal) => "expected a string",
            _ when message.Contains("List", StringComparison.Ordinal) || message.Contains("[]", StringComparison.Ordinal) => "expected a list",
            _ => "expected another kind of value",
        };

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex Unmapped();

    [GeneratedRegex("missing required properties[^:]*: ?'?([^.']*)'?")]
    private static partial Regex Missing();

    [GeneratedRegex(@"System\.[A-Za-z0-9_.`\[\], ]+")]
    private static partial Regex TypeName();
}
