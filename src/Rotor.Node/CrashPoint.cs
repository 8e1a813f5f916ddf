namespace Rotor.Node;

/// <summary>
/// Test-only fault injection: when the environment variable ROTOR_TEST_CRASH_AT names a phase, the node process
/// dies abruptly (Environment.FailFast: no cleanup, no graceful shutdown) the first time it reaches that phase. Phases of a reshare:
/// before-dealing, after-dealing, after-storing-pending, after-confirming, before-activating.
/// </summary>
public static class CrashPoint
{
    public const string Variable = "ROTOR_TEST_CRASH_AT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable);

    public static void Hit(string phase)
    {
        if (Armed is not null && string.Equals(Armed, phase, StringComparison.Ordinal))
        {
            Environment.FailFast($"ROTOR_TEST_CRASH_AT: test crash at {phase}");
        }
    }
}
