using System.Numerics;

namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>
/// The prime-order subgroup of edwards25519 (order L = 2^252 + 27742317777372353535851937790883648493).
/// Secret-dependent work (scalar arithmetic, k·G) is done by libsodium; public-point arithmetic uses
/// variable-time extended coordinates over BouncyCastle's field. Scalars encode as 32 bytes little-endian.
/// </summary>
public sealed unsafe class Ed25519Group : Group
{
    public static readonly Ed25519Group Instance = new();

    private static readonly BigInteger L = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493");
    private static readonly UInt256 LInt = UInt256.FromBigInteger(L);
    private static readonly UInt256 EightInt = new(8, 0, 0, 0);

    private readonly Element identity;
    private readonly Element generator;

    private Ed25519Group()
    {
        Sodium.EnsureInitialized();
        identity = new Ed25519Element(this, EdwardsPoint.NewIdentity());
        var gEnc = Convert.FromHexString("5866666666666666666666666666666666666666666666666666666666666666");
        generator = new Ed25519Element(this, EdwardsPoint.Decompress(gEnc, out _)!);
    }

    public override string Name => "Ed25519";
    public override int ScalarLength => 32;
    public override int ElementLength => 32;
    public override BigInteger Order => L;
    public override Element Identity => identity;
    public override Element Generator => generator;

    // ---------------------------------------------------------------- scalars (libsodium)

    internal override UInt256 ScalarBytesToInt(ReadOnlySpan<byte> bytes) => UInt256.FromLittleEndian(bytes);

    internal override bool IsCanonical(in UInt256 v) => UInt256.LessThanMask(v, LInt) != 0;

    public override void EncodeScalar(Scalar s, Span<byte> destination)
    {
        CheckMine(s);
        s.Value.WriteLittleEndian(destination[..32]);
    }

    public override Scalar ReduceWide(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 64) throw new ArgumentException("at most 64 bytes");
        byte* wide = stackalloc byte[64];
        var span = new Span<byte>(wide, 64);
        span.Clear();
        bytes.CopyTo(span);
        UInt256 r;
        Sodium.crypto_core_ed25519_scalar_reduce((byte*)&r, wide);
        span.Clear();
        return new Scalar(this, r);
    }

    internal override Scalar ScalarAdd(Scalar a, Scalar b)
    {
        UInt256 x = a.Value, y = b.Value, z;
        Sodium.crypto_core_ed25519_scalar_add((byte*)&z, (byte*)&x, (byte*)&y);
        return new Scalar(this, z);
    }

    internal override Scalar ScalarSub(Scalar a, Scalar b)
    {
        UInt256 x = a.Value, y = b.Value, z;
        Sodium.crypto_core_ed25519_scalar_sub((byte*)&z, (byte*)&x, (byte*)&y);
        return new Scalar(this, z);
    }

    internal override Scalar ScalarMul(Scalar a, Scalar b)
    {
        UInt256 x = a.Value, y = b.Value, z;
        Sodium.crypto_core_ed25519_scalar_mul((byte*)&z, (byte*)&x, (byte*)&y);
        return new Scalar(this, z);
    }

    internal override Scalar ScalarNegate(Scalar a)
    {
        UInt256 x = a.Value, z;
        Sodium.crypto_core_ed25519_scalar_negate((byte*)&z, (byte*)&x);
        return new Scalar(this, z);
    }

    internal override Scalar ScalarInvert(Scalar a)
    {
        CheckMine(a);
        UInt256 x = a.Value, z;
        if (Sodium.crypto_core_ed25519_scalar_invert((byte*)&z, (byte*)&x) != 0)
            throw new DivideByZeroException("zero has no inverse");
        return new Scalar(this, z);
    }

    // ---------------------------------------------------------------- elements

    public override Element DecodeElement(ReadOnlySpan<byte> bytes, bool allowIdentity)
    {
        const string what = "Ed25519 element";
        if (bytes.Length != 32) throw new InvalidEncodingException(what, EncodingError.WrongLength, $"{bytes.Length} bytes, expected 32");
        var p = EdwardsPoint.Decompress(bytes, out bool nonCanonical);
        if (p is null)
            throw nonCanonical
                ? new InvalidEncodingException(what, EncodingError.NonCanonical, "y is not below p, or x = 0 with the sign bit set")
                : new InvalidEncodingException(what, EncodingError.NotOnCurve, "");
        if (p.IsIdentity())
        {
            if (allowIdentity) return identity;
            throw new InvalidEncodingException(what, EncodingError.Identity, "");
        }
        if (EdwardsMul.Mul(p, EightInt).IsIdentity()) throw new InvalidEncodingException(what, EncodingError.SmallOrder, "");
        if (!EdwardsMul.Mul(p, LInt).IsIdentity()) throw new InvalidEncodingException(what, EncodingError.NotInPrimeOrderSubgroup, "");
        return new Ed25519Element(this, p, bytes.ToArray());
    }

    internal override byte[] EncodeElement(Element e) => Point(e).Compress();

    public override Element MulBase(Scalar k)
    {
        CheckMine(k);
        UInt256 n = k.Value;
        byte* q = stackalloc byte[32];
        // libsodium returns -1 when the result is the identity, i.e. for k = 0 (k is reduced, so k·G = O only then).
        if (Sodium.crypto_scalarmult_ed25519_base_noclamp(q, (byte*)&n) != 0) return identity;
        var enc = new ReadOnlySpan<byte>(q, 32).ToArray();
        var p = EdwardsPoint.Decompress(enc, out _) ?? throw new InvalidOperationException("libsodium returned an invalid point");
        return new Ed25519Element(this, p, enc);
    }

    public override Element Add(Element a, Element b)
    {
        var r = new EdwardsPoint();
        EdwardsPoint.Add(Point(a), Point(b), r, EdwardsPoint.Temps.Current);
        return new Ed25519Element(this, r);
    }

    public override Element Negate(Element a) => new Ed25519Element(this, EdwardsPoint.Negate(Point(a)));

    public override Element MulVartime(Element p, Scalar k)
    {
        CheckMine(k);
        return new Ed25519Element(this, EdwardsMul.Mul(Point(p), k.Value));
    }

    public override Element MultiMulVartime(ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        if (scalars.Length != points.Length) throw new ArgumentException("as many scalars as points are needed");
        var ks = new UInt256[scalars.Length];
        var ps = new EdwardsPoint[points.Length];
        for (int i = 0; i < ks.Length; i++)
        {
            CheckMine(scalars[i]);
            ks[i] = scalars[i].Value;
            ps[i] = Point(points[i]);
        }
        return new Ed25519Element(this, EdwardsMul.MultiMul(ks, ps));
    }

    public override bool IsIdentity(Element e) => Point(e).IsIdentity();

    internal override bool ElementEquals(Element a, Element b) => Point(a).EqualsPoint(Point(b));

    private EdwardsPoint Point(Element e)
    {
        CheckMine(e);
        return ((Ed25519Element)e).P;
    }

    private sealed class Ed25519Element : Element
    {
        internal readonly EdwardsPoint P;

        public Ed25519Element(Ed25519Group g, EdwardsPoint p, byte[]? encoding = null) : base(g)
        {
            P = p;
            if (encoding is not null) SetEncoding(encoding);
        }
    }
}
