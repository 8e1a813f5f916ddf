using System.Text.Json;

namespace Rotor.TestSupport;

/// <summary>Locates the third-party test vectors in <c>../shared/vectors</c> beside the repository.</summary>
public static class Vectors
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string Path(string relative) => System.IO.Path.Combine(Root.Value, relative);

    public static JsonDocument Json(string relative) => JsonDocument.Parse(File.ReadAllText(Path(relative)));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "vectors");
            if (Directory.Exists(candidate)) return candidate;
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Rotor.slnx")))
            {
                var beside = System.IO.Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared", "vectors");
                if (Directory.Exists(beside)) return beside;
            }
        }
        throw new DirectoryNotFoundException("shared/vectors not found beside the repository (expected ../shared/vectors)");
    }
}
