using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Rotor.Crypto.Groups.Ed25519;

namespace Rotor.Crypto.Envelopes;

/// <summary>
/// X25519 (RFC 7748) by libsodium's <c>crypto_scalarmult_curve25519</c>, on caller-provided buffers. NSec's key and
/// shared-secret objects each take a fresh guarded allocation (<c>sodium_malloc</c>: pages mapped, locked and
/// protected), which cost more than the scalar multiplication itself; an envelope makes one ephemeral key and
/// one agreement per message. The long-term private keys stay in guarded memory (<see cref="X25519PrivateKey"/>);
/// ephemeral secrets and shared secrets live on the caller's stack for one call and are wiped by it.
/// The keys and results are the same as NSec's: a raw 32-byte private key, its public key
/// <c>crypto_scalarmult_curve25519_base</c>, and no agreement with a low-order peer (an all-zero result).
/// </summary>
internal static unsafe partial class X25519
{
    public const int KeyBytes = 32;

    /// <summary>The public key of a raw private key.</summary>
    public static void PublicKeyOf(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        Check(privateKey, "private key");
        Check(publicKey, "public key buffer");
        Sodium.EnsureInitialized();
        fixed (byte* n = privateKey)
        fixed (byte* q = publicKey)
        {
            if (crypto_scalarmult_curve25519_base(q, n) != 0) throw new CryptographicException("X25519 base multiplication failed");
        }
    }

    /// <summary>X25519(privateKey, peer) into <paramref name="shared"/>; false when the peer key has low order (all-zero result).</summary>
    public static bool Agree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peer, Span<byte> shared)
    {
        Check(privateKey, "private key");
        Check(shared, "shared secret buffer");
        if (peer.Length != KeyBytes) return false;
        Sodium.EnsureInitialized();
        fixed (byte* n = privateKey)
        fixed (byte* p = peer)
        fixed (byte* q = shared)
            return crypto_scalarmult_curve25519(q, n, p) == 0;
    }

    /// <summary>A fresh private key from the operating system's CSPRNG into <paramref name="privateKey"/> and its public key.</summary>
    public static void Generate(Span<byte> privateKey, Span<byte> publicKey)
    {
        Check(privateKey, "private key buffer");
        RandomNumberGenerator.Fill(privateKey);
        PublicKeyOf(privateKey, publicKey);
    }

    private static void Check(ReadOnlySpan<byte> b, string what)
    {
        if (b.Length != KeyBytes) throw new ArgumentException($"X25519 {what} of {b.Length} bytes, expected {KeyBytes}");
    }

    [LibraryImport("libsodium")] private static partial int crypto_scalarmult_curve25519_base(byte* q, byte* n);
    [LibraryImport("libsodium")] private static partial int crypto_scalarmult_curve25519(byte* q, byte* n, byte* p);
    [LibraryImport("libsodium")] internal static partial nint sodium_malloc(nuint size);
    [LibraryImport("libsodium")] internal static partial void sodium_free(nint ptr);
}

/// <summary>
/// A long-term X25519 private key in libsodium's guarded memory (<c>sodium_malloc</c>: locked against swapping,
/// guard pages around it, wiped by <c>sodium_free</c> when released). A <see cref="SafeHandle"/>, so a use racing
/// <see cref="Dispose"/> keeps the memory until it returns, and a key never disposed is still wiped by the finalizer.
/// Secret; never printed.
/// </summary>
internal sealed unsafe class X25519PrivateKey : IDisposable
{
    private readonly GuardedMemory secret;

    private X25519PrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != X25519.KeyBytes) throw new ArgumentException($"X25519 private key is {privateKey.Length} bytes, expected {X25519.KeyBytes}");
        Sodium.EnsureInitialized();
        secret = GuardedMemory.Allocate(X25519.KeyBytes);
        var pub = new byte[X25519.KeyBytes];
        bool added = false;
        try
        {
            secret.DangerousAddRef(ref added);
            privateKey.CopyTo(secret.Bytes);
            X25519.PublicKeyOf(secret.Bytes, pub);
        }
        finally { if (added) secret.DangerousRelease(); }
        PublicKey = pub;
    }

    /// <summary>A fresh key from the operating system's CSPRNG.</summary>
    public static X25519PrivateKey Create()
    {
        Span<byte> k = stackalloc byte[X25519.KeyBytes];
        try
        {
            RandomNumberGenerator.Fill(k);
            return new X25519PrivateKey(k);
        }
        finally { CryptographicOperations.ZeroMemory(k); }
    }

    /// <summary>Imports a raw 32-byte private key (the caller wipes its copy).</summary>
    public static X25519PrivateKey Import(ReadOnlySpan<byte> privateKey) => new(privateKey);

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>X25519 with <paramref name="peer"/> into <paramref name="shared"/>; false for a low-order peer key.</summary>
    public bool Agree(ReadOnlySpan<byte> peer, Span<byte> shared)
    {
        bool added = false;
        try
        {
            secret.DangerousAddRef(ref added);
            return X25519.Agree(secret.Bytes, peer, shared);
        }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(nameof(X25519PrivateKey)); }
        finally { if (added) secret.DangerousRelease(); }
    }

    /// <summary>The raw private key. Secret: the caller stores it protected and wipes it.</summary>
    public byte[] Export()
    {
        bool added = false;
        try
        {
            secret.DangerousAddRef(ref added);
            return secret.Bytes.ToArray();
        }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(nameof(X25519PrivateKey)); }
        finally { if (added) secret.DangerousRelease(); }
    }

    public void Dispose() => secret.Dispose();

    public override string ToString() => "X25519PrivateKey(x25519:" + Convert.ToHexStringLower(PublicKey.AsSpan(0, 8)) + ")";

    private sealed class GuardedMemory : SafeHandle
    {
        private int length;

        private GuardedMemory() : base(0, ownsHandle: true) { }

        public static GuardedMemory Allocate(int length)
        {
            var m = new GuardedMemory();
            var p = X25519.sodium_malloc((nuint)length);
            if (p == 0) throw new OutOfMemoryException("libsodium could not allocate guarded memory for a key");
            m.SetHandle(p);
            m.length = length;
            return m;
        }

        public override bool IsInvalid => handle == 0;

        /// <summary>The memory; only between <see cref="SafeHandle.DangerousAddRef"/> and <see cref="SafeHandle.DangerousRelease"/>.</summary>
        public Span<byte> Bytes => new((void*)handle, length);

        protected override bool ReleaseHandle()
        {
            X25519.sodium_free(handle);
            return true;
        }
    }
}
