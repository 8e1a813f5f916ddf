using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Rotor.Node;

/// <summary>
/// While the node is sealed, every call but its name, its status and a session abort is refused before it reaches a
/// service, with FailedPrecondition and the reason: no method, present or future, can touch the vault of a sealed node.
/// </summary>
public sealed class SealedGuard(NodeState node) : Interceptor
{
    private static readonly HashSet<string> Allowed =
    [
        "/rotor.node.v1.SignerNode/GetInfo",
        "/rotor.node.v1.SignerNode/GetStatus",
        "/rotor.node.v1.SignerNode/Abort",
    ];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (node.Sealed && !Allowed.Contains(context.Method))
            throw new RpcException(new Status(StatusCode.FailedPrecondition, node.SealedMessage));
        return continuation(request, context);
    }
}
