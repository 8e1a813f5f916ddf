using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

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

/// <summary>
/// Checks the admin token on the HTTP request's headers, before anything reads the request body: a call without the
/// right token is answered at once with gRPC status Unauthenticated (a trailers-only response) and its body is never
/// read nor deserialized, so an unauthenticated caller cannot make the coordinator buffer or parse a large message.
/// </summary>
public static class AdminTokenGate
{
    public const string Problem = "missing or wrong admin token";

    public static IApplicationBuilder UseAdminToken(this IApplicationBuilder app, string expectedToken) => app.Use(async (context, next) =>
    {
        var header = context.Request.Headers[AdminToken.Header];
        if (header.Count != 1 || !AdminToken.Matches(header[0], expectedToken))
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)StatusCode.Unauthenticated).ToString();
            context.Response.Headers["grpc-message"] = Problem;
            return;
        }
        await next(context);
    });
}

/// <summary>Refuses every call whose admin token is missing or wrong with Unauthenticated (a second check, after <see cref="AdminTokenGate"/>).</summary>
public sealed class AdminTokenInterceptor(string expectedToken) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (!AdminToken.Matches(context.RequestHeaders.GetValue(AdminToken.Header), expectedToken))
            throw new RpcException(new Status(StatusCode.Unauthenticated, AdminTokenGate.Problem));
        return continuation(request, context);
    }
}
