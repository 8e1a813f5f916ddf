using System.Numerics;

namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>
/// The prime-order subgroup of edwards25519 (order L = 2^252 + 27742317777372353535851937790883648493).
/// Secret-dependent work is constant time: k·G and k·P by libsodium, scalar arithmetic by <see cref="MontgomeryField"/>; public-point arithmetic uses
/// variable-time extended coordinates over BouncyCastle's field. Scalars encode as 32 bytes little-endian.
/// </summary>
public sealed unsafe class Ed25519Group : Group
{
    public static readonly Ed25519Group Instance = new();

    private static readonly BigInteger L = OrderValue();

    private static BigInteger OrderValue() => BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493");
    private static readonly UInt256 LInt = UInt256.FromBigInteger(L);
    private static readonly UInt256 EightInt = new(8, 0, 0, 0);

    private readonly Element identity;
    private readonly Element generator;
    private readonly MontgomeryField field = new(OrderValue());   // not L: Instance is made before the statics below it

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

    // ---------------------------------------------------------------- scalars
    // Constant-time Montgomery arithmetic modulo L (MontgomeryField), as for secp256k1's order. libsodium's
    // crypto_core_ed25519_scalar_* were used before; through P/Invoke their timing was not stable in the dudect-style
    // tests (issue 12, docs/performance.md); ours measured stable, and agrees with theirs (GroupPerformancePathTests).

    internal override UInt256 ScalarBytesToInt(ReadOnlySpan<byte> bytes) => UInt256.FromLittleEndian(bytes);

    internal override bool IsCanonical(in UInt256 v) => UInt256.LessThanMask(v, LInt) != 0;

    public override void EncodeScalar(Scalar s, Span<byte> destination)
    {
        CheckMine(s);
        s.Value.WriteLittleEndian(destination[..32]);
    }

    public override Scalar ReduceWide(ReadOnlySpan<byte> bytes) => new(this, field.ReduceLittleEndian(bytes));

    internal override Scalar ScalarAdd(Scalar a, Scalar b) => new(this, field.Add(a.Value, b.Value));
    internal override Scalar ScalarSub(Scalar a, Scalar b) => new(this, field.Sub(a.Value, b.Value));
    internal override Scalar ScalarMul(Scalar a, Scalar b) => new(this, field.Mul(a.Value, b.Value));
    internal override MontgomeryField ScalarField => this.field;
    internal override Scalar ScalarNegate(Scalar a) => new(this, field.Negate(a.Value));

    internal override Scalar ScalarInvert(Scalar a) => InvertBlinded(a, LInt);

    // ---------------------------------------------------------------- elements

    public override Element DecodeElement(ReadOnlySpan<byte> bytes, bool allowIdentity)
    {
        if (bytes.Length != 32) throw new InvalidEncodingException(ElementWhat, EncodingError.WrongLength, $"{bytes.Length} bytes, expected 32");
        // libsodium's check (canonical, on the curve, not of small order, in the prime-order subgroup) is several
        // times faster than ours; the point is decompressed when first used in arithmetic. Refused encodings go
        // through DecodeChecked, which says why.
        fixed (byte* b = bytes)
            if (Sodium.crypto_core_ed25519_is_valid_point(b) == 1) return new Ed25519Element(this, bytes.ToArray());
        return DecodeChecked(bytes, allowIdentity);
    }

    private const string ElementWhat = "Ed25519 element";

    /// <summary>Decoding with every check done here, step by step, so that a refusal names its reason.</summary>
    internal Element DecodeChecked(ReadOnlySpan<byte> bytes, bool allowIdentity)
    {
        var p = EdwardsPoint.Decompress(bytes, out bool nonCanonical);
        if (p is null)
            throw nonCanonical
                ? new InvalidEncodingException(ElementWhat, EncodingError.NonCanonical, "y is not below p, or x = 0 with the sign bit set")
                : new InvalidEncodingException(ElementWhat, EncodingError.NotOnCurve, "");
        if (p.IsIdentity())
        {
            if (allowIdentity) return identity;
            throw new InvalidEncodingException(ElementWhat, EncodingError.Identity, "");
        }
        if (EdwardsMul.Mul(p, EightInt).IsIdentity()) throw new InvalidEncodingException(ElementWhat, EncodingError.SmallOrder, "");
        if (!EdwardsMul.Mul(p, LInt).IsIdentity()) throw new InvalidEncodingException(ElementWhat, EncodingError.NotInPrimeOrderSubgroup, "");
        return new Ed25519Element(this, p, bytes.ToArray());
    }

    internal override byte[] EncodeElement(Element e) => Point(e).Compress();

    /// <summary>
    /// Encodes many elements with one field inversion (Montgomery's trick) instead of one each, caching each
    /// element's encoding; for elements that already know their encoding nothing is computed.
    /// </summary>
    public override void EncodeMany(ReadOnlySpan<Element> elements)
    {
        var pending = new List<Ed25519Element>();
        foreach (var e in elements)
        {
            CheckMine(e);
            var ee = (Ed25519Element)e;
            if (!ee.HasEncoding) pending.Add(ee);
        }
        var points = new EdwardsPoint[pending.Count];
        for (int i = 0; i < points.Length; i++) points[i] = pending[i].P;
        var encodings = EdwardsPoint.CompressMany(points);
        for (int i = 0; i < points.Length; i++) pending[i].SetKnownEncoding(encodings[i]);
    }

    public override Element MulBase(Scalar k)
    {
        CheckMine(k);
        UInt256 n = k.Value;
        byte* q = stackalloc byte[32];
        // libsodium returns -1 when the result is the identity, i.e. for k = 0 (k is reduced, so k·G = O only then).
        if (Sodium.crypto_scalarmult_ed25519_base_noclamp(q, (byte*)&n) != 0) return identity;
        return new Ed25519Element(this, new ReadOnlySpan<byte>(q, 32).ToArray());
    }

    /// <summary>
    /// k·P by libsodium's constant-time crypto_scalarmult_ed25519_noclamp, blinded: (k − b)·P + b·P with a fresh random
    /// b, both multiplications and the addition (crypto_core_ed25519_add) constant time. Each multiplication works on
    /// fresh random data whatever k is; only the addition sees k·P. Without the blinding, this machine timed a repeated
    /// secret differently from fresh ones, in C around libsodium alone as well (docs/performance.md, session 8).
    /// </summary>
    public override Element Mul(Element p, Scalar k)
    {
        CheckMine(k);
        CheckMine(p);
        // every element is a point of the prime-order subgroup: k·O = O without a multiplication (libsodium refuses O)
        if (p.Equals(identity)) return identity;
        var b = RandomScalar();
        UInt256 n1 = (k - b).Value, n2 = b.Value;
        byte* q1 = stackalloc byte[32];
        byte* q2 = stackalloc byte[32];
        byte* q = stackalloc byte[32];
        int rc1, rc2;
        fixed (byte* pe = p.Encoding)
        {
            rc1 = Sodium.crypto_scalarmult_ed25519_noclamp(q1, (byte*)&n1, pe);
            rc2 = Sodium.crypto_scalarmult_ed25519_noclamp(q2, (byte*)&n2, pe);
        }
        n1 = default;
        n2 = default;
        // libsodium returns -1 when a product is the identity, here only for k − b = 0 or b = 0 (probability 2^-251):
        // the other term is then the result
        if (rc1 != 0 || rc2 != 0)
        {
            var only = rc1 != 0 ? q2 : q1;
            return (rc1 != 0 && rc2 != 0) ? identity : new Ed25519Element(this, new ReadOnlySpan<byte>(only, 32).ToArray());
        }
        if (Sodium.crypto_core_ed25519_add(q, q1, q2) != 0) throw new InvalidOperationException("libsodium refused to add two valid points");
        new Span<byte>(q1, 32).Clear();
        new Span<byte>(q2, 32).Clear();
        var encoding = new ReadOnlySpan<byte>(q, 32).ToArray();
        // the sum is the identity (encoded 01 00 … 00) exactly when k = 0
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(encoding, identity.Encoding) ? identity : new Ed25519Element(this, encoding);
    }

    public override Element Add(Element a, Element b)
    {
        var r = new EdwardsPoint();
        EdwardsPoint.Add(Point(a), Point(b), r, EdwardsPoint.Temps.Current);
        return new Ed25519Element(this, r);
    }

    public override Element Negate(Element a) => new Ed25519Element(this, EdwardsPoint.Negate(Point(a)));

    /// <summary>P + k·G for public k and P by a fixed-base table (<see cref="EdwardsFixedBase"/>), with the result's encoding.</summary>
    public override Element AddMulBaseVartime(Element p, Scalar k)
    {
        CheckMine(k);
        var r = EdwardsFixedBase.AddMulBase(Point(p), k.Value, Point(generator));
        return new Ed25519Element(this, r, r.Compress());
    }

    /// <summary>k·P, or (−k)·(−P) when −k is the shorter scalar (a factor −1 or −3 is then a tiny multiplication).</summary>
    public override Element MulVartime(Element p, Scalar k)
    {
        CheckMine(k);
        var neg = -k;
        if (MsmDigits.MaxBitLength([neg.Value]) < MsmDigits.MaxBitLength([k.Value])) (p, k) = (Negate(p), neg);
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

    public override bool IsIdentity(Element e)
    {
        CheckMine(e);
        var ee = (Ed25519Element)e;
        return ee.HasPoint && ee.P.IsIdentity();
    }

    internal override bool ElementEquals(Element a, Element b)
    {
        Ed25519Element x = (Ed25519Element)a, y = (Ed25519Element)b;
        // encodings are canonical; comparing them spares a decompression
        if (!x.HasPoint || !y.HasPoint) return x.Encoding.SequenceEqual(y.Encoding);
        return x.P.EqualsPoint(y.P);
    }

    private EdwardsPoint Point(Element e)
    {
        CheckMine(e);
        return ((Ed25519Element)e).P;
    }

    /// <summary>An element known by its point, its encoding or both; a valid encoding is decompressed when first needed.</summary>
    private sealed class Ed25519Element : Element
    {
        private EdwardsPoint? p;

        public Ed25519Element(Ed25519Group g, EdwardsPoint p, byte[]? encoding = null) : base(g)
        {
            this.p = p;
            if (encoding is not null) SetEncoding(encoding);
        }

        /// <summary>From the canonical encoding of a non-identity point of the prime-order subgroup.</summary>
        public Ed25519Element(Ed25519Group g, byte[] validEncoding) : base(g) => SetEncoding(validEncoding);

        public EdwardsPoint P => p ??= EdwardsPoint.Decompress(Encoding, out _) ?? throw new InvalidOperationException("an Ed25519 element holds an invalid encoding");

        public bool HasPoint => p is not null;

        public void SetKnownEncoding(byte[] encoding) => SetEncoding(encoding);
    }
}
