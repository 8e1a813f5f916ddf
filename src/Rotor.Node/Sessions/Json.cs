using System.Text.Json;

namespace Rotor.Node.Sessions;

/// <summary>JSON for the public payloads exchanged with the coordinator (wire forms of the protocol types).</summary>
internal static class Json
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static byte[] Encode<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Decode<T>(ReadOnlySpan<byte> bytes, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, Options) ?? throw new SessionRefusedException($"{what} is empty");
        }
        catch (JsonException e)
        {
            throw new SessionRefusedException($"{what} is not readable: {Rotor.Crypto.JsonErrors.Describe(e)}");
        }
    }
}
