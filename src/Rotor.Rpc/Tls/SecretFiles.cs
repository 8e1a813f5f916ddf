using System.Text;

namespace Rotor.Rpc.Tls;

/// <summary>Files that hold secrets: created with mode 0600 and refused when group or others can read them.</summary>
public static class SecretFiles
{
    private const UnixFileMode Loose = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                                       UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Writes <paramref name="contents"/> to a new file only its owner can read and write.</summary>
    public static void Write(string path, string contents) => Write(path, Encoding.UTF8.GetBytes(contents));

    /// <summary>Writes <paramref name="contents"/> to a new file only its owner can read and write.</summary>
    public static void Write(string path, byte[] contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var f = new FileStream(path, options);
        f.Write(contents);
        f.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Creates <paramref name="path"/> empty with mode 0600 if it does not exist, so that a database opened there
    /// afterwards (and its journal, which SQLite creates with the database's mode) is private to its owner.
    /// </summary>
    public static void CreatePrivate(string path)
    {
        if (File.Exists(path)) return;
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var _ = new FileStream(path, options);
    }

    /// <summary>Reads a secret file after <see cref="CheckPermissions"/>.</summary>
    public static string Read(string path)
    {
        CheckPermissions(path);
        return File.ReadAllText(path);
    }

    /// <summary>Reads a secret file's bytes after <see cref="CheckPermissions"/>.</summary>
    public static byte[] ReadBytes(string path)
    {
        CheckPermissions(path);
        return File.ReadAllBytes(path);
    }

    /// <summary>Throws if the file is missing or group/others have any access to it.</summary>
    public static void CheckPermissions(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"secret file not found: {path}");
        if (OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(path);
        if ((mode & Loose) != 0)
            throw new UnauthorizedAccessException($"secret file {path} is accessible by group or others (mode {Convert.ToString((int)mode, 8)}); run chmod 600 on it");
    }
}
