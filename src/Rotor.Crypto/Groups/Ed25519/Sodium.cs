using System.Runtime.InteropServices;

namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>P/Invoke into the libsodium native library shipped by the NuGet package <c>libsodium</c>.</summary>
internal static unsafe partial class Sodium
{
    private const string Lib = "libsodium";

    static Sodium()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Rotor needs a little-endian machine");
        if (sodium_init() < 0) throw new InvalidOperationException("libsodium failed to initialise");
    }

    /// <summary>Forces the static constructor (sodium_init) to run.</summary>
    public static void EnsureInitialized() { }

    [LibraryImport(Lib)] private static partial int sodium_init();

    public const int ScalarBytes = 32;
    public const int NonReducedScalarBytes = 64;
    public const int PointBytes = 32;

    [LibraryImport(Lib)] public static partial void crypto_core_ed25519_scalar_add(byte* z, byte* x, byte* y);
    [LibraryImport(Lib)] public static partial void crypto_core_ed25519_scalar_sub(byte* z, byte* x, byte* y);
    [LibraryImport(Lib)] public static partial void crypto_core_ed25519_scalar_mul(byte* z, byte* x, byte* y);
    [LibraryImport(Lib)] public static partial void crypto_core_ed25519_scalar_negate(byte* neg, byte* s);
    /// <summary>Reduces a 64-byte little-endian integer modulo L.</summary>
    [LibraryImport(Lib)] public static partial void crypto_core_ed25519_scalar_reduce(byte* r, byte* s);
    /// <returns>0 on success, -1 when the result is the identity (so also for n = 0).</returns>
    [LibraryImport(Lib)] public static partial int crypto_scalarmult_ed25519_base_noclamp(byte* q, byte* n);
    /// <returns>0 on success, -1 when the result is the identity or p is invalid.</returns>
    [LibraryImport(Lib)] public static partial int crypto_scalarmult_ed25519_noclamp(byte* q, byte* n, byte* p);
    [LibraryImport(Lib)] public static partial int crypto_core_ed25519_is_valid_point(byte* p);
    [LibraryImport(Lib)] public static partial int crypto_core_ed25519_add(byte* r, byte* p, byte* q);
}
