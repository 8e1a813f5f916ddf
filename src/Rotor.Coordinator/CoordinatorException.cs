using Grpc.Core;

namespace Rotor.Coordinator;

/// <summary>An operator request the coordinator refuses or could not complete; the message names what is wrong.</summary>
public sealed class CoordinatorException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;
}
