using System.Globalization;

namespace Rotor.Protocols.Keys.Hd;

/// <summary>
/// A non-hardened derivation path such as <c>m/0/7</c>: "m" followed by up to <see cref="MaxDepth"/> indexes, each a
/// decimal number below 2^31. Hardened steps (<c>0'</c>, <c>0h</c>) are refused: they need the private key, which no
/// one holds. "m" alone is the root key itself.
/// </summary>
public sealed class DerivationPath : IEquatable<DerivationPath>
{
    /// <summary>The deepest path accepted (BIP-32 serialises the depth in one byte).</summary>
    public const int MaxDepth = 255;

    /// <summary>The first hardened index, 2^31: every index must be below it.</summary>
    public const uint HardenedOffset = 0x8000_0000;

    private readonly uint[] indexes;

    private DerivationPath(uint[] indexes) => this.indexes = indexes;

    public static DerivationPath Root { get; } = new([]);

    public IReadOnlyList<uint> Indexes => indexes;

    /// <summary>The indexes themselves (never modified: a path is immutable).</summary>
    internal uint[] IndexArray => indexes;

    public int Depth => indexes.Length;

    public bool IsRoot => indexes.Length == 0;

    /// <summary>A path of the given indexes; refuses a hardened index or more than <see cref="MaxDepth"/> of them.</summary>
    public static DerivationPath FromIndexes(IEnumerable<uint> indexes)
    {
        var a = indexes.ToArray();
        if (a.Length > MaxDepth) throw new ArgumentException($"derivation path of depth {a.Length} is too deep: at most {MaxDepth} steps");
        for (int i = 0; i < a.Length; i++)
            if (a[i] >= HardenedOffset)
                throw new ArgumentException($"derivation path step {i + 1}: index {a[i]} is not below 2^31 (hardened derivation needs the private key and is not supported)");
        return a.Length == 0 ? Root : new DerivationPath(a);
    }

    /// <summary>Parses <c>m</c> or <c>m/i/j/...</c>; throws ArgumentException naming what is wrong.</summary>
    public static DerivationPath Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("derivation path is empty: expected m or m/i/j/... (for example m/0/7)");
        var parts = text.Trim().Split('/');
        if (parts[0] != "m" && parts[0] != "M")
            throw new ArgumentException($"derivation path '{text}' must start with 'm' (for example m/0/7)");
        if (parts.Length - 1 > MaxDepth)
            throw new ArgumentException($"derivation path '{Shorten(text)}' has {parts.Length - 1} steps: at most {MaxDepth}");
        var result = new uint[parts.Length - 1];
        for (int i = 1; i < parts.Length; i++)
        {
            var p = parts[i];
            if (p.Length > 0 && (p[^1] is '\'' or 'h' or 'H'))
                throw new ArgumentException($"derivation path '{Shorten(text)}' step {i} ('{p}') is hardened: only non-hardened steps can be derived from the public key");
            if (p.Length == 0 || !p.All(char.IsAsciiDigit))
                throw new ArgumentException($"derivation path '{Shorten(text)}' step {i} ('{p}') is not a decimal index");
            if (!ulong.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v >= HardenedOffset)
                throw new ArgumentException($"derivation path '{Shorten(text)}' step {i} ({Shorten(p)}) is not below 2^31 = {HardenedOffset}: hardened indexes are not supported");
            result[i - 1] = (uint)v;
        }
        return result.Length == 0 ? Root : new DerivationPath(result);
    }

    public static bool TryParse(string? text, out DerivationPath? path, out string? error)
    {
        try { path = Parse(text); error = null; return true; }
        catch (ArgumentException e) { path = null; error = e.Message; return false; }
    }

    public override string ToString() => indexes.Length == 0 ? "m" : "m/" + string.Join('/', indexes);

    public bool Equals(DerivationPath? other) => other is not null && indexes.AsSpan().SequenceEqual(other.indexes);
    public override bool Equals(object? obj) => obj is DerivationPath p && Equals(p);
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(indexes.AsSpan()));
        h.Add(indexes.Length);
        return h.ToHashCode();
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
