using System.Security.Cryptography;
using Rotor.Crypto.Hashing;

namespace Rotor.Crypto.Tests;

/// <summary>libsodium's HMAC-SHA512 (HD derivation's) against the framework's, for random 32-byte keys and data of every length up to 300 bytes.</summary>
public class HmacSha512Tests
{
    [Fact]
    public void Equals_the_framework_hmac_for_random_keys_and_lengths()
    {
        var rng = new Random(321);
        for (int length = 0; length <= 300; length++)
        {
            var key = new byte[32];
            var data = new byte[length];
            rng.NextBytes(key);
            rng.NextBytes(data);
            var mac = new byte[64];
            HmacSha512.Compute(key, data, mac);
            Assert.Equal(Convert.ToHexString(HMACSHA512.HashData(key, data)), Convert.ToHexString(mac));
        }
    }

    [Fact]
    public void Refuses_a_key_that_is_not_32_bytes_and_a_short_destination()
    {
        Assert.Throws<ArgumentException>(() => HmacSha512.Compute(new byte[31], [1], new byte[64]));
        Assert.Throws<ArgumentException>(() => HmacSha512.Compute(new byte[33], [1], new byte[64]));
        Assert.Throws<ArgumentException>(() => HmacSha512.Compute(new byte[32], [1], new byte[63]));
    }
}
