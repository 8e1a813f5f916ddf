using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Rotor.Rpc;

/// <summary>The operator's bearer token for the coordinator API: made at <c>cluster up</c>, kept in a 0600 file.</summary>
public static class AdminToken
{
    public const string Header = "authorization", Scheme = "Bearer";

    /// <summary>A fresh 256-bit token, hex encoded.</summary>
    public static string Create() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Constant-time check of an "authorization" header value against the expected token.</summary>
    public static bool Matches(string? headerValue, string expected)
    {
        var prefix = Scheme + " ";
        if (headerValue is null || !headerValue.StartsWith(prefix, StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(headerValue[prefix.Length..]), Encoding.UTF8.GetBytes(expected));
    }
}

/// <summary>Refuses every call whose admin token is missing or wrong with Unauthenticated.</summary>
public sealed class AdminTokenInterceptor(string expectedToken) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!AdminToken.Matches(context.RequestHeaders.GetValue(AdminToken.Header), expectedToken))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing or wrong admin token"));
        return continuation(request, context);
    }
}
