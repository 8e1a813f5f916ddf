namespace Rotor.Node;

/// <summary>
/// Test-only fault injection: when the environment variable ROTOR_TEST_CRASH_AT names a phase, the node process
/// dies abruptly (Environment.FailFast: no cleanup, no graceful shutdown) the first time it reaches that phase. Phases of a reshare:
/// before-dealing, after-dealing, after-storing-pending (also a catch-up's), after-confirming, before-activating; of a key
/// generation: dkg-before-storing, dkg-after-storing; of a repair's target: repair-before-storing, repair-after-storing;
/// of a backup restore: restore-before-storing, restore-after-storing. ROTOR_TEST_FAULT names a misbehaviour instead: hang-in-commit and hang-in-discard (the call
/// hangs until its caller gives up), non-hex-confirmation (a new holder's reply carries a confirmation that is not hex;
/// what it stores is right), dkg-equivocate-confirmation (a key generation's member sends its first peer another
/// confirmation than the others).
/// </summary>
public static class CrashPoint
{
    public const string Variable = "ROTOR_TEST_CRASH_AT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable);

    public const string FaultVariable = "ROTOR_TEST_FAULT";

    private static readonly string? Fault = Environment.GetEnvironmentVariable(FaultVariable);

    /// <summary>True when the process was started to show the misbehaviour <paramref name="fault"/>.</summary>
    public static bool Faulty(string fault) => Fault is not null && string.Equals(Fault, fault, StringComparison.Ordinal);

    /// <summary>Hangs until <paramref name="cancel"/> fires (the caller's deadline) when the process shows <paramref name="fault"/>.</summary>
    public static Task HangIf(string fault, CancellationToken cancel) => Faulty(fault) ? Task.Delay(Timeout.Infinite, cancel) : Task.CompletedTask;

    public static void Hit(string phase)
    {
        if (Armed is not null && string.Equals(Armed, phase, StringComparison.Ordinal))
        {
            Environment.FailFast($"ROTOR_TEST_CRASH_AT: test crash at {phase}");
        }
    }
}
