using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Rotor.Crypto.Groups;
using Rotor.Crypto.Sharing;

namespace Rotor.Protocols.Keys;

/// <summary>
/// The shares whose s·G = Y_i check <see cref="KeyShare.Create"/> has already passed in this process, per package
/// object: a node reads its share from the vault for every signature, and the check is a secret base multiplication
/// (about 180 µs on secp256k1), the same every time for the same stored record. Each share is remembered as
/// HMAC-SHA-256 under a key made at random for this process and never written anywhere, over the identifier and the
/// share: nothing of the share can be learned from it, and only the very same (package, member, share) matches.
/// Entries go with their package object (a <see cref="ConditionalWeakTable{TKey,TValue}"/>), and a package keeps at most
/// <see cref="PerPackage"/> of them.
/// </summary>
internal static class VerifiedShares
{
    private const int PerPackage = 64;
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly ConditionalWeakTable<PublicKeyPackage, ConcurrentDictionary<UInt128, byte>> Seen = new();

    public static bool Contains(PublicKeyPackage pub, Identifier id, Scalar share) =>
        Seen.TryGetValue(pub, out var set) && set.ContainsKey(Tag(pub.Group, id, share));

    public static void Add(PublicKeyPackage pub, Identifier id, Scalar share)
    {
        var set = Seen.GetValue(pub, _ => new ConcurrentDictionary<UInt128, byte>());
        if (set.Count >= PerPackage) set.Clear();
        set.TryAdd(Tag(pub.Group, id, share), 0);
    }

    private static UInt128 Tag(Group g, Identifier id, Scalar share)
    {
        Span<byte> input = stackalloc byte[2 * g.ScalarLength];
        Span<byte> mac = stackalloc byte[32];
        try
        {
            id.Scalar.WriteTo(input[..g.ScalarLength]);
            share.WriteTo(input[g.ScalarLength..]);
            HMACSHA256.HashData(Key, input, mac);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(mac);
        }
    }
}
