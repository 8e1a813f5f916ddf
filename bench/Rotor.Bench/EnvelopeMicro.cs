using System.Diagnostics;
using Rotor.Crypto.Envelopes;

namespace Rotor.Bench;

/// <summary>
/// <c>envelope</c>: a quick stopwatch run of sealing and opening a node-to-node envelope (what every relayed
/// protocol message costs its sender and its recipient), at a small size and at the size of an ECDSA signing's
/// round-2 message (about 66 KB).
/// </summary>
public static class EnvelopeMicro
{
    public static int Run(string[] args)
    {
        using var alice = NodeIdentity.Create();
        using var bob = NodeIdentity.Create();
        var sid = new byte[32];
        foreach (var size in new[] { 1024, 66 * 1024 })
        {
            var payload = new byte[size];
            Random.Shared.NextBytes(payload);
            double seal = double.MaxValue, open = double.MaxValue;
            for (int round = 0; round < 7; round++)
            {
                const int n = 300;
                var encoded = new byte[n][];
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) encoded[i] = Envelope.Seal(alice, "alice", "bob", bob.Public, sid, "bench", payload).Encode();
                seal = Math.Min(seal, sw.Elapsed.TotalMicroseconds / n);
                sw.Restart();
                for (int i = 0; i < n; i++) Envelope.Decode(encoded[i]).Open(bob, "bob", sid, s => s == "alice" ? alice.Public : null);
                open = Math.Min(open, sw.Elapsed.TotalMicroseconds / n);
            }
            Console.WriteLine($"{size,6} bytes: seal+encode {seal,7:F1} µs, decode+open {open,7:F1} µs (best of 7 rounds of 300)");
        }
        return 0;
    }
}
