using System.Diagnostics;

namespace Rotor.TestSupport;

/// <summary>
/// A SoftHSM2 token made for a test in its own folder (its own softhsm2.conf and token directory), so that no test
/// touches the machine's tokens. <see cref="Activate"/> points this process's SOFTHSM2_CONF at it; child processes
/// inherit it. SoftHSM2 is the Debian package softhsm2 (.ci/run installs it).
/// </summary>
public sealed class SoftHsm
{
    public const string UserPin = "271828", SoPin = "31415926";

    /// <summary>A token folder with a softhsm2.conf; with <paramref name="tokenLabel"/> a token is initialised in it.</summary>
    public SoftHsm(string dir, string? tokenLabel = "rotor-test")
    {
        Dir = Path.GetFullPath(dir);
        Directory.CreateDirectory(Path.Combine(Dir, "tokens"));
        ConfPath = Path.Combine(Dir, "softhsm2.conf");
        File.WriteAllText(ConfPath, $"directories.tokendir = {Path.Combine(Dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        TokenLabel = tokenLabel;
        if (tokenLabel is null) return;
        var psi = new ProcessStartInfo("softhsm2-util") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--init-token", "--free", "--label", tokenLabel, "--so-pin", SoPin, "--pin", UserPin }) psi.ArgumentList.Add(a);
        psi.Environment["SOFTHSM2_CONF"] = ConfPath;
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("softhsm2-util not found: install the softhsm2 package (apt-get install softhsm2; .ci/run does it)", e);
        }
        using (p)
        {
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"softhsm2-util --init-token failed ({p.ExitCode}): {output}");
        }
    }

    public string Dir { get; }
    public string ConfPath { get; }
    public string? TokenLabel { get; }

    /// <summary>The SoftHSM2 PKCS#11 module.</summary>
    public static string Library =>
        new[] { "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so" }
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("libsofthsm2.so not found: install the softhsm2 package (apt-get install softhsm2; .ci/run does it)");

    /// <summary>Points this process (the native environment the PKCS#11 module reads too) and the processes it starts at this token folder.</summary>
    public void Activate() => SetEnvironment("SOFTHSM2_CONF", ConfPath);

    /// <summary>Sets a variable in .NET's environment (seen by child processes) and in the C library's (seen by native code such as a PKCS#11 module).</summary>
    public static void SetEnvironment(string name, string? value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsWindows()) return;
        if (value is null) unsetenv(name);
        else setenv(name, value, 1);
    }

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern int unsetenv(string name);
}
