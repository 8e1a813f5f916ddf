using System.Numerics;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Endo;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Rotor.Crypto.Groups.Secp256k1;

/// <summary>
/// secp256k1 (SEC 2) through BouncyCastle. Elements encode as 33-byte SEC1 compressed points; the identity,
/// which has no SEC1 compressed form, encodes as 33 zero bytes (RFC 9591 never serialises it). Scalars encode
/// as 32 bytes big-endian; their arithmetic is constant time (<see cref="MontgomeryField"/>). Multiplications by a
/// secret scalar (k·G, k·P) are NBitcoin.Secp256k1's constant-time ones (<see cref="Secp256k1NBitcoinMul"/>, a port of
/// libsecp256k1): BouncyCastle's secp256k1 field arithmetic branches on its data. Public multiplications are Straus with the GLV
/// endomorphism or Pippenger over BouncyCastle's points (<see cref="Secp256k1Mul"/>).
/// </summary>
public sealed class Secp256k1Group : Group
{
    public static readonly Secp256k1Group Instance = new();

    internal readonly ECCurve Curve;
    internal readonly ECPoint G;
    private readonly MontgomeryField field;
    private readonly BigInteger order;
    private readonly Element identity;
    private readonly Element generator;
    private readonly Secp256k1NBitcoinMul constantTime;
    private readonly GlvEndomorphism glv;

    private Secp256k1Group()
    {
        var p = CustomNamedCurves.GetByName("secp256k1");
        Curve = p.Curve;
        G = p.G;
        order = new BigInteger(p.N.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);
        field = new MontgomeryField(order);
        identity = new Secp256k1Element(this, Curve.Infinity);
        generator = new Secp256k1Element(this, G);
        constantTime = new Secp256k1NBitcoinMul(Curve);
        glv = (GlvEndomorphism)Curve.GetEndomorphism();
    }

    public override string Name => "secp256k1";
    public override int ScalarLength => 32;
    public override int ElementLength => 33;
    public override BigInteger Order => order;
    public override Element Identity => identity;
    public override Element Generator => generator;

    // ---------------------------------------------------------------- scalars

    internal override UInt256 ScalarBytesToInt(ReadOnlySpan<byte> bytes) => UInt256.FromBigEndian(bytes);

    internal override bool IsCanonical(in UInt256 v) => field.IsCanonicalMask(v) != 0;

    public override void EncodeScalar(Scalar s, Span<byte> destination)
    {
        CheckMine(s);
        s.Value.WriteBigEndian(destination[..32]);
    }

    public override Scalar ReduceWide(ReadOnlySpan<byte> bytes) => new(this, field.ReduceBigEndian(bytes));

    internal override Scalar ScalarAdd(Scalar a, Scalar b) => new(this, field.Add(a.Value, b.Value));
    internal override Scalar ScalarSub(Scalar a, Scalar b) => new(this, field.Sub(a.Value, b.Value));
    internal override Scalar ScalarMul(Scalar a, Scalar b) => new(this, field.Mul(a.Value, b.Value));
    internal override MontgomeryField ScalarField => this.field;
    internal override Scalar ScalarNegate(Scalar a) => new(this, field.Negate(a.Value));

    internal override Scalar ScalarInvert(Scalar a) => InvertBlinded(a, field.Modulus);

    // ---------------------------------------------------------------- elements

    public override Element DecodeElement(ReadOnlySpan<byte> bytes, bool allowIdentity)
    {
        const string what = "secp256k1 element";
        if (bytes.Length != 33) throw new InvalidEncodingException(what, EncodingError.WrongLength, $"{bytes.Length} bytes, expected 33 (SEC1 compressed)");
        if (bytes.IndexOfAnyExcept((byte)0) < 0)
        {
            if (allowIdentity) return identity;
            throw new InvalidEncodingException(what, EncodingError.Identity, "");
        }
        if (bytes[0] != 0x02 && bytes[0] != 0x03)
            throw new InvalidEncodingException(what, EncodingError.NonCanonical, $"prefix 0x{bytes[0]:x2}, expected 0x02 or 0x03");
        var x = new BcBigInteger(1, bytes[1..].ToArray());
        if (x.CompareTo(Curve.Field.Characteristic) >= 0)
            throw new InvalidEncodingException(what, EncodingError.NonCanonical, "x is not below the field prime");
        ECPoint p;
        try
        {
            p = Curve.DecodePoint(bytes.ToArray());
        }
        catch (ArgumentException)
        {
            throw new InvalidEncodingException(what, EncodingError.NotOnCurve, "x has no matching y");
        }
        if (!p.IsValid()) throw new InvalidEncodingException(what, EncodingError.NotOnCurve, "");
        return new Secp256k1Element(this, p.Normalize(), bytes.ToArray());
    }

    internal override byte[] EncodeElement(Element e)
    {
        var p = Point(e);
        return p.IsInfinity ? new byte[33] : p.GetEncoded(true);
    }

    public override Element MulBase(Scalar k)
    {
        CheckMine(k);
        var (point, encoding) = constantTime.MulBase(k.Value);
        return new Secp256k1Element(this, point, encoding);
    }

    /// <summary>
    /// k·P in constant time, blinded: (k − b)·P + b·P with a fresh random b (<see cref="Secp256k1NBitcoinMul.Mul"/>), so
    /// that a secret used again and again never makes the multiplications work on the same data twice.
    /// </summary>
    public override Element Mul(Element p, Scalar k)
    {
        CheckMine(k);
        var b = RandomScalar();
        var kb = k - b;
        var (point, encoding) = constantTime.Mul(Point(p), kb.Value, b.Value);
        return new Secp256k1Element(this, point, encoding);
    }

    /// <summary>k·P by one ecmult_const, not blinded (see <see cref="Group.MulSingleUse"/>): half the cost of <see cref="Mul"/>.</summary>
    public override Element MulSingleUse(Element p, Scalar k)
    {
        CheckMine(k);
        var (point, encoding) = constantTime.MulUnblinded(Point(p), k.Value);
        return new Secp256k1Element(this, point, encoding);
    }

    /// <summary>
    /// k_i·P for many secret k_i, each multiplication by one ecmult_const, <b>not blinded</b> as <see cref="Mul"/> is:
    /// every product of a batch is of another scalar, so no two of them work on the same data, and the one caller (the
    /// base-OT receiver, b_i·A) draws its k_i fresh for each setup. Blinding doubles the cost of every product, and
    /// the base OTs are most of an ECDSA key generation's or refresh's work (docs/performance.md, session 8).
    /// </summary>
    public override Element[] MulMany(Element p, ReadOnlySpan<Scalar> scalars)
    {
        var ks = new UInt256[scalars.Length];
        for (int i = 0; i < ks.Length; i++)
        {
            CheckMine(scalars[i]);
            ks[i] = scalars[i].Value;
        }
        var r = constantTime.MulMany(Point(p), ks);
        Array.Clear(ks);
        return Wrap(r);
    }

    public override Element[] MulBaseMany(ReadOnlySpan<Scalar> scalars)
    {
        var ks = new UInt256[scalars.Length];
        for (int i = 0; i < ks.Length; i++)
        {
            CheckMine(scalars[i]);
            ks[i] = scalars[i].Value;
        }
        var r = constantTime.MulBaseMany(ks);
        Array.Clear(ks);
        return Wrap(r);
    }

    /// <summary>
    /// k·P_i for one secret k and many public P_i, <b>not blinded</b> as <see cref="Mul"/> is: every product of a
    /// batch is of another point, so no two of them work on the same data, and the one caller (the base-OT sender,
    /// a·B_i) draws its k fresh for each setup.
    /// </summary>
    public override Element[] MulMany(ReadOnlySpan<Element> points, Scalar k)
    {
        CheckMine(k);
        var ps = new ECPoint[points.Length];
        for (int i = 0; i < ps.Length; i++) ps[i] = Point(points[i]);
        return Wrap(constantTime.MulMany(ps, k.Value));
    }

    private Element[] Wrap((ECPoint Point, byte[]? Encoding)[] r)
    {
        var e = new Element[r.Length];
        for (int i = 0; i < e.Length; i++) e[i] = new Secp256k1Element(this, r[i].Point, r[i].Encoding);
        return e;
    }

    public override Element Add(Element a, Element b) => new Secp256k1Element(this, Point(a).Add(Point(b)));

    public override Element Negate(Element a)
    {
        CheckMine(a);
        var e = (Secp256k1Element)a;
        if (!e.HasAffine) return new Secp256k1Element(this, e.P.Negate());
        var y = Secp256k1FixedBase.Neg(e.AffineY);
        return new Secp256k1Element(this, e.AffineX, y, Compressed(e.AffineX, y));
    }

    /// <summary>
    /// P + k·G for public k and P by a fixed-base table and allocation-free field arithmetic
    /// (<see cref="Secp256k1FixedBase"/>), with the result's encoding; its BouncyCastle point is made only if used.
    /// </summary>
    public override Element AddMulBaseVartime(Element p, Scalar k)
    {
        CheckMine(k);
        CheckMine(p);
        var e = (Secp256k1Element)p;
        bool infinity = !e.TryAffine(out var px, out var py);  // a root key's point: made affine once, then kept
        if (!Secp256k1FixedBase.AddMulBase(G, infinity, px, py, k.Value, out var x, out var y)) return identity;
        return new Secp256k1Element(this, x, y, Compressed(x, y));
    }

    private static byte[] Compressed(in UInt256 x, in UInt256 y)
    {
        var enc = new byte[33];
        enc[0] = (byte)(0x02 | (y.L0 & 1));
        x.WriteBigEndian(enc.AsSpan(1));
        return enc;
    }

    public override Element MulVartime(Element p, Scalar k)
    {
        CheckMine(k);
        return new Secp256k1Element(this, Secp256k1Mul.Straus(Curve, glv, [k.Value], [Point(p)]));
    }

    public override Element MultiMulVartime(ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        if (scalars.Length != points.Length) throw new ArgumentException("as many scalars as points are needed");
        if (points.Length == 0) return identity;
        var ps = new ECPoint[points.Length];
        for (int i = 0; i < ps.Length; i++)
        {
            CheckMine(scalars[i]);
            ps[i] = Point(points[i]);
        }
        var ks = new UInt256[ps.Length];
        for (int i = 0; i < ks.Length; i++) ks[i] = scalars[i].Value;
        return new Secp256k1Element(this, ps.Length >= Secp256k1Mul.PippengerThreshold
            ? Secp256k1Mul.Pippenger(Curve, ks, ps)
            : Secp256k1Mul.Straus(Curve, glv, ks, ps));
    }

    /// <summary>Normalises the points of many elements with one field inversion and caches their encodings.</summary>
    public override void EncodeMany(ReadOnlySpan<Element> elements)
    {
        var pending = new List<Secp256k1Element>();
        foreach (var e in elements)
        {
            CheckMine(e);
            var se = (Secp256k1Element)e;
            if (!se.HasEncoding && !se.P.IsInfinity) pending.Add(se);
        }
        var points = new ECPoint[pending.Count];
        for (int i = 0; i < points.Length; i++) points[i] = pending[i].P;
        Curve.NormalizeAll(points);
        for (int i = 0; i < points.Length; i++) pending[i].SetKnownEncoding(points[i].GetEncoded(true));
    }

    public override bool IsIdentity(Element e)
    {
        CheckMine(e);
        var se = (Secp256k1Element)e;
        return !se.HasAffine && se.P.IsInfinity;    // affine coordinates are never the point at infinity's
    }

    internal override bool ElementEquals(Element a, Element b)
    {
        if (ReferenceEquals(a, b)) return true;
        // canonical encodings (compressed; the identity as zeros) are equal exactly when the points are
        if (a.HasEncoding && b.HasEncoding) return a.Encoding.SequenceEqual(b.Encoding);
        return Point(a).Equals(Point(b));
    }

    /// <summary>The BouncyCastle point behind an element (for BIP-340 and ECDSA code in this assembly).</summary>
    internal ECPoint Point(Element e)
    {
        CheckMine(e);
        return ((Secp256k1Element)e).P;
    }

    internal Element FromPoint(ECPoint p) => new Secp256k1Element(this, p);

    internal static BcBigInteger ToBc(in Scalar k)
    {
        Span<byte> b = stackalloc byte[32];
        k.Value.WriteBigEndian(b);
        return new BcBigInteger(1, b);
    }

    private sealed class Secp256k1Element : Element
    {
        private ECPoint? p;

        public Secp256k1Element(Secp256k1Group g, ECPoint p, byte[]? encoding = null) : base(g)
        {
            this.p = p;
            if (encoding is not null) SetEncoding(encoding);
        }

        /// <summary>From affine coordinates computed by <see cref="Secp256k1FixedBase"/> (a point of the curve) and their encoding.</summary>
        public Secp256k1Element(Secp256k1Group g, in UInt256 x, in UInt256 y, byte[] encoding) : base(g)
        {
            affine = new Affine(x, y);
            SetEncoding(encoding);
        }

        /// <summary>The BouncyCastle point, made from the affine coordinates when first needed.</summary>
        internal ECPoint P => p ??= MakePoint();

        /// <summary>Affine coordinates of a point that is not the point at infinity (set once, read without a lock).</summary>
        private sealed class Affine(UInt256 x, UInt256 y)
        {
            public readonly UInt256 X = x, Y = y;
        }

        private Affine? affine;

        /// <summary>Whether the affine coordinates are known (the element came from the fixed-base code, or <see cref="TryAffine"/> ran).</summary>
        internal bool HasAffine => affine is not null;
        internal UInt256 AffineX => affine!.X;
        internal UInt256 AffineY => affine!.Y;

        /// <summary>
        /// The affine coordinates (false for the point at infinity), computed from the BouncyCastle point on the first
        /// call and kept: x = X/Z², y = Y/Z³ with one variable-time inversion (the point is public), which a root key
        /// used for many derivations pays once.
        /// </summary>
        internal bool TryAffine(out UInt256 x, out UInt256 y)
        {
            var a = Volatile.Read(ref affine);
            if (a is null)
            {
                var q = P;
                if (q.IsInfinity) { x = y = default; return false; }
                if (q.IsNormalized() || q.Curve.CoordinateSystem != ECCurve.COORD_JACOBIAN)
                {
                    var n = q.Normalize();
                    a = new Affine(UInt256.FromBigEndian(n.AffineXCoord.GetEncoded()), UInt256.FromBigEndian(n.AffineYCoord.GetEncoded()));
                }
                else
                {
                    var zi = Secp256k1FixedBase.Inverse(UInt256.FromBigEndian(q.GetZCoord(0).GetEncoded()));
                    var zi2 = Secp256k1FixedBase.Sqr(zi);
                    a = new Affine(Secp256k1FixedBase.Mul(UInt256.FromBigEndian(q.XCoord.GetEncoded()), zi2),
                        Secp256k1FixedBase.Mul(UInt256.FromBigEndian(q.YCoord.GetEncoded()), Secp256k1FixedBase.Mul(zi2, zi)));
                }
                Volatile.Write(ref affine, a);
            }
            x = a.X;
            y = a.Y;
            return true;
        }

        private ECPoint MakePoint()
        {
            Span<byte> b = stackalloc byte[32];
            AffineX.WriteBigEndian(b);
            var x = new BcBigInteger(1, b);
            AffineY.WriteBigEndian(b);
            return ((Secp256k1Group)Group).Curve.CreatePoint(x, new BcBigInteger(1, b));
        }

        public void SetKnownEncoding(byte[] encoding) => SetEncoding(encoding);
    }
}
