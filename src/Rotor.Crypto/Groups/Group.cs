using System.Numerics;
using System.Security.Cryptography;

namespace Rotor.Crypto.Groups;

/// <summary>
/// A prime-order group with its scalar field, as RFC 9591 section 3.1 abstracts it.
/// Operations that touch secrets (scalar arithmetic, <see cref="MulBase"/>, <see cref="Mul"/>) are constant time and
/// done by libraries (k·G, k·P: libsodium for Ed25519, NBitcoin.Secp256k1 for secp256k1) or by our constant-time
/// Montgomery scalar field;
/// operations named *Vartime work on public data only. tests/Rotor.Crypto.Tests/Timing measures this.
/// </summary>
public abstract partial class Group
{
    public abstract string Name { get; }

    /// <summary>Ns: bytes of an encoded scalar.</summary>
    public abstract int ScalarLength { get; }

    /// <summary>Ne: bytes of an encoded element.</summary>
    public abstract int ElementLength { get; }

    /// <summary>The prime order of the group (public parameter).</summary>
    public abstract BigInteger Order { get; }

    public abstract Element Identity { get; }

    public abstract Element Generator { get; }

    // ---------------------------------------------------------------- scalars

    public Scalar Zero => new(this, default);

    public Scalar One => new(this, new UInt256(1, 0, 0, 0));

    public Scalar ScalarFromUInt64(ulong v) => new(this, new UInt256(v, 0, 0, 0)); // every supported order exceeds 2^64

    /// <summary>Decodes a canonical scalar (value below the group order), rejecting anything else.</summary>
    public Scalar DecodeScalar(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != ScalarLength) throw new InvalidEncodingException($"{Name} scalar", EncodingError.WrongLength, $"{bytes.Length} bytes, expected {ScalarLength}");
        var v = ScalarBytesToInt(bytes);
        if (!IsCanonical(v)) throw new InvalidEncodingException($"{Name} scalar", EncodingError.NonCanonical, "value is not below the group order");
        return new Scalar(this, v);
    }

    /// <summary>Decodes a canonical, non-zero scalar.</summary>
    public Scalar DecodeNonZeroScalar(ReadOnlySpan<byte> bytes)
    {
        var s = DecodeScalar(bytes);
        if (s.IsZero) throw new InvalidEncodingException($"{Name} scalar", EncodingError.Zero, "");
        return s;
    }

    /// <summary>A uniformly random non-zero scalar from the operating system's CSPRNG.</summary>
    public Scalar RandomScalar()
    {
        Span<byte> wide = stackalloc byte[64];
        while (true)
        {
            RandomBytes.Fill(wide);
            var s = ReduceWide(wide);
            CryptographicOperations.ZeroMemory(wide);
            if (!s.IsZero) return s;
        }
    }

    /// <summary>Reduces a uniformly random or hashed string of up to 64 bytes, read in the group's byte order, modulo the order.</summary>
    public abstract Scalar ReduceWide(ReadOnlySpan<byte> bytes);

    /// <summary>
    /// 32 bytes (the group's scalar byte order) reduced mod the order, in constant time. Within 2^-127 of uniform
    /// for uniform input on secp256k1 (n &gt; 2^256 − 2^129); use <see cref="ReduceWide"/> with 48 or 64 bytes where a
    /// smaller bias is needed.
    /// </summary>
    public virtual Scalar Reduce32(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 32) throw new ArgumentException("32 bytes");
        var f = ScalarField;
        return f is null ? ReduceWide(bytes) : new Scalar(this, f.Reduce256(ScalarBytesToInt(bytes)));
    }

    /// <summary>The constant-time Montgomery arithmetic of the scalar field, where the group has one (for <see cref="Prepare"/>).</summary>
    internal virtual MontgomeryField? ScalarField => null;

    /// <summary>
    /// <paramref name="c"/> prepared for many multiplications (<see cref="ScalarFactor.Times"/>): each then costs one
    /// Montgomery product instead of two. Constant time; c may be secret.
    /// </summary>
    public ScalarFactor Prepare(Scalar c)
    {
        CheckMine(c);
        var f = ScalarField;
        return new ScalarFactor(c, f is null ? default : f.ToMontgomery(c.Value));
    }

    public abstract void EncodeScalar(Scalar s, Span<byte> destination);

    internal abstract UInt256 ScalarBytesToInt(ReadOnlySpan<byte> bytes);
    internal abstract bool IsCanonical(in UInt256 v);
    internal abstract Scalar ScalarAdd(Scalar a, Scalar b);
    internal abstract Scalar ScalarSub(Scalar a, Scalar b);
    internal abstract Scalar ScalarMul(Scalar a, Scalar b);
    internal abstract Scalar ScalarNegate(Scalar a);

    /// <summary>a^-1; throws for zero.</summary>
    internal abstract Scalar ScalarInvert(Scalar a);

    /// <summary>
    /// a^-1 mod n by blinding: with a fresh random r, a·r is uniform and independent of a, so inverting it in
    /// variable time reveals nothing about a; a^-1 = r·(a·r)^-1. Several times faster than a constant-time
    /// exponentiation. Throws for zero.
    /// </summary>
    private protected Scalar InvertBlinded(Scalar a, in UInt256 order)
    {
        CheckMine(a);
        var r = RandomScalar();
        var b = a * r;
        if (b.IsZero) throw new DivideByZeroException("zero has no inverse");
        return new Scalar(this, VartimeInverse.ModInverse(b.Value, order)) * r;
    }

    // ---------------------------------------------------------------- elements

    /// <summary>
    /// RFC 9591 DeserializeElement: decodes a canonical encoding of a non-identity element of the
    /// prime-order subgroup; anything else is refused with an <see cref="InvalidEncodingException"/> that says why.
    /// </summary>
    public Element DecodeElement(ReadOnlySpan<byte> bytes) => DecodeElement(bytes, allowIdentity: false);

    public abstract Element DecodeElement(ReadOnlySpan<byte> bytes, bool allowIdentity);

    /// <summary>From this many elements <see cref="DecodeElements"/> shares the work out over the processor's cores.</summary>
    internal const int ParallelDecodeThreshold = 16;

    /// <summary>
    /// Decodes concatenated element encodings, each as <see cref="DecodeElement(ReadOnlySpan{byte}, bool)"/> does,
    /// on several cores when there are many (the subgroup check makes a decoding cost tens of microseconds).
    /// When some are refused, throws the <see cref="InvalidEncodingException"/> of the first of them, saying which one.
    /// </summary>
    public Element[] DecodeElements(ReadOnlySpan<byte> bytes, bool allowIdentity = false)
    {
        int len = ElementLength;
        if (bytes.Length % len != 0)
            throw new InvalidEncodingException($"{Name} elements", EncodingError.WrongLength, $"{bytes.Length} bytes is not a multiple of {len}");
        int count = bytes.Length / len;
        var result = new Element[count];
        var errors = new InvalidEncodingException?[count];
        if (count >= ParallelDecodeThreshold && Environment.ProcessorCount > 1)
        {
            var copy = bytes.ToArray();
            Parallel.For(0, count, i =>
            {
                try { result[i] = DecodeElement(copy.AsSpan(i * len, len), allowIdentity); }
                catch (InvalidEncodingException e) { errors[i] = e; }
            });
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                try { result[i] = DecodeElement(bytes.Slice(i * len, len), allowIdentity); }
                catch (InvalidEncodingException e) { errors[i] = e; break; }
            }
        }
        for (int i = 0; i < count; i++)
            if (errors[i] is { } e)
                throw new InvalidEncodingException($"{Name} element {i} of {count}", e.Error, "");
        return result;
    }

    internal abstract byte[] EncodeElement(Element e);

    /// <summary>
    /// Computes and caches the encodings of many elements at once, which is cheaper than one by one where the
    /// group can share the work (Ed25519: one field inversion for all). <see cref="Element.Encoding"/> then costs nothing.
    /// </summary>
    public virtual void EncodeMany(ReadOnlySpan<Element> elements)
    {
        foreach (var e in elements)
        {
            CheckMine(e);
            _ = e.Encoding;
        }
    }

    /// <summary>k·G in constant time (k may be secret).</summary>
    public abstract Element MulBase(Scalar k);

    /// <summary>
    /// k·P in constant time in k (k may be secret, and used again and again; P is public, e.g. a Diffie–Hellman or
    /// oblivious-transfer counterpart's point), blinded: computed as (k − b)·P + b·P with a fresh random b, so that
    /// the same k and P never make the multiplications work on the same data twice (docs/performance.md, session 8).
    /// Several times slower than <see cref="MulVartime"/>, which must not see a secret: note that <c>k * P</c> and
    /// <c>P * k</c> are <see cref="MulVartime"/>. The batch forms (<c>MulMany</c>) may leave the blinding out, as every
    /// product of a batch is of another point or another scalar.
    /// </summary>
    public abstract Element Mul(Element p, Scalar k);

    /// <summary>
    /// k·P for a secret k drawn fresh for this one product (as DKLs23's χ in its consistency check): constant time in
    /// k like <see cref="Mul"/>, but a group may leave out <see cref="Mul"/>'s blinding, which exists for a k used
    /// again and again (one use never repeats its data) and doubles the cost. Anything else uses <see cref="Mul"/>.
    /// </summary>
    public virtual Element MulSingleUse(Element p, Scalar k) => Mul(p, k);

    /// <summary>
    /// k_i·P for many secret scalars and one public point, in constant time in every k_i (a group may share a
    /// precomputed table for P and one field inversion among them, e.g. the receiver of many base OTs).
    /// </summary>
    public virtual Element[] MulMany(Element p, ReadOnlySpan<Scalar> scalars)
    {
        var r = new Element[scalars.Length];
        for (int i = 0; i < r.Length; i++) r[i] = Mul(p, scalars[i]);
        return r;
    }

    /// <summary>k_i·G for many secret scalars, in constant time in every k_i (a group may share one field inversion among them).</summary>
    public virtual Element[] MulBaseMany(ReadOnlySpan<Scalar> scalars)
    {
        var r = new Element[scalars.Length];
        for (int i = 0; i < r.Length; i++) r[i] = MulBase(scalars[i]);
        return r;
    }

    /// <summary>k·P_i for one secret scalar and many public points, in constant time in k (e.g. the sender of many base OTs).</summary>
    public virtual Element[] MulMany(ReadOnlySpan<Element> points, Scalar k)
    {
        var r = new Element[points.Length];
        for (int i = 0; i < r.Length; i++) r[i] = Mul(points[i], k);
        return r;
    }

    public abstract Element Add(Element a, Element b);

    /// <summary>
    /// P + k·G in variable time, for a public k and P only (HD derivation tweaks, public offsets): a precomputed
    /// fixed-base table read by the digits of k, one addition per digit, no doubling; the result's encoding is
    /// computed with it (one field inversion). Never give it a secret scalar: use <see cref="MulBase"/>.
    /// </summary>
    public virtual Element AddMulBaseVartime(Element p, Scalar k) => Add(p, MulBase(k));

    /// <summary>k·G in variable time for a public k (see <see cref="AddMulBaseVartime"/>).</summary>
    public Element MulBaseVartime(Scalar k) => AddMulBaseVartime(Identity, k);

    public abstract Element Negate(Element a);

    /// <summary>k·P in variable time: k and P must be public.</summary>
    public abstract Element MulVartime(Element p, Scalar k);

    /// <summary>Σ kᵢ·Pᵢ in variable time (Straus or Pippenger): every kᵢ and Pᵢ must be public.</summary>
    public abstract Element MultiMulVartime(ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points);

    public Element Sum(IEnumerable<Element> elements)
    {
        Element acc = Identity;
        foreach (var e in elements) acc = Add(acc, e);
        return acc;
    }

    public abstract bool IsIdentity(Element e);

    internal abstract bool ElementEquals(Element a, Element b);

    protected void CheckMine(Element e)
    {
        if (!ReferenceEquals(e.Group, this)) throw new InvalidOperationException($"element of {e.Group.Name} used with {Name}");
    }

    protected void CheckMine(in Scalar s)
    {
        if (!ReferenceEquals(s.Group, this)) throw new InvalidOperationException($"scalar of {s.Group.Name} used with {Name}");
    }

    public override string ToString() => Name;
}
