using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Rotor.Coordinator.Audit;

/// <summary>
/// Who is asking, for the audit log: the name the operator's CLI sends in the <see cref="Header"/> header (its
/// ROTOR_OPERATOR, else the login name). Self-declared — the admin token authenticates, the name attributes.
/// </summary>
public static class OperatorContext
{
    public const string Header = Rotor.Rpc.RpcChannels.OperatorHeader;

    /// <summary>The actor of work the coordinator does by itself (scheduler, policies, settlement).</summary>
    public const string Coordinator = "coordinator";

    private static readonly AsyncLocal<string?> current = new();

    /// <summary>The operator of the call being served, or null outside a call.</summary>
    public static string? Current => current.Value;

    /// <summary>The name to record: the operator of the current call, else "operator".</summary>
    public static string Actor => current.Value ?? "operator";

    internal static void Set(string? name) => current.Value = name;

    /// <summary>A name fit for the log: 1..64 printable characters, else null.</summary>
    public static string? Clean(string? name)
    {
        name = name?.Trim();
        return string.IsNullOrEmpty(name) || name.Length > 64 || name.Any(char.IsControl) ? null : name;
    }
}

/// <summary>Makes the caller's declared operator name available to the audit log for the duration of each call.</summary>
public sealed class OperatorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        OperatorContext.Set(OperatorContext.Clean(context.RequestHeaders.GetValue(OperatorContext.Header)));
        try { return await continuation(request, context); }
        finally { OperatorContext.Set(null); }
    }
}
