using Rotor.Rpc.Node;

namespace Rotor.Coordinator.Governance;

/// <summary>
/// The operators' approval of the action the coordinator is carrying out on this async flow. The request desk sets it
/// when it runs an approved request (and the scheduler when it runs a refresh under an approved rotation policy);
/// every start request and node operation sent on that flow carries it, and each node verifies it itself. The
/// coordinator only relays approvals: it can neither make nor alter one.
/// </summary>
public static class ActionContext
{
    private static readonly AsyncLocal<Authorization?> current = new();

    public static Authorization? Current => current.Value;

    /// <summary>Runs what follows on this flow under <paramref name="authorization"/> until disposed.</summary>
    public static IDisposable Use(Authorization? authorization)
    {
        var previous = current.Value;
        current.Value = authorization;
        return new Restore(previous);
    }

    /// <summary>Puts the current approval on a start request.</summary>
    public static StartRequest Attach(StartRequest start)
    {
        if (current.Value is { } a) start.Authorization = a;
        return start;
    }

    private sealed class Restore(Authorization? previous) : IDisposable
    {
        public void Dispose() => current.Value = previous;
    }
}
