using F = Org.BouncyCastle.Math.EC.Rfc7748.X25519Field;

namespace Rotor.Crypto.Groups.Ed25519;

/// <summary>
/// A point of edwards25519 in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, over
/// BouncyCastle's field arithmetic. Variable time: only for public points and public scalars
/// (verification, commitments, multi-scalar multiplication). Secret scalars go through libsodium.
/// Formulas: RFC 8032 section 5.1.4 (add-2008-hwcd-3, dbl-2008-hwcd for a = -1).
/// </summary>
internal sealed class EdwardsPoint
{
    public readonly int[] X = F.Create(), Y = F.Create(), Z = F.Create(), T = F.Create();

    internal static readonly System.Numerics.BigInteger P = System.Numerics.BigInteger.Pow(2, 255) - 19;
    private static readonly int[] D = FieldFromBigInteger(ParseD());
    private static readonly int[] D2 = FieldFromBigInteger(2 * ParseD() % P);

    private static System.Numerics.BigInteger ParseD()
    {
        // d = -121665 / 121666 mod p
        var inv = System.Numerics.BigInteger.ModPow(121666, P - 2, P);
        return ((P - 121665) * inv) % P;
    }

    private static int[] FieldFromBigInteger(System.Numerics.BigInteger v)
    {
        var b = new byte[32];
        v.TryWriteBytes(b, out _, isUnsigned: true, isBigEndian: false);
        var f = F.Create();
        F.Decode(b, 0, f);
        return f;
    }

    public static EdwardsPoint NewIdentity()
    {
        var p = new EdwardsPoint();
        F.One(p.Y);
        F.One(p.Z);
        return p;
    }

    public EdwardsPoint Clone()
    {
        var r = new EdwardsPoint();
        r.CopyFrom(this);
        return r;
    }

    public void CopyFrom(EdwardsPoint p)
    {
        F.Copy(p.X, 0, X, 0); F.Copy(p.Y, 0, Y, 0); F.Copy(p.Z, 0, Z, 0); F.Copy(p.T, 0, T, 0);
    }

    public void SetIdentity()
    {
        F.Zero(X); F.One(Y); F.One(Z); F.Zero(T);
    }

    /// <summary>Decompresses a 32-byte encoding (RFC 8032 5.1.3). Returns null for a non-canonical y or sign, or when off the curve;
    /// <paramref name="nonCanonical"/> tells the two apart. Does not check the subgroup.</summary>
    public static EdwardsPoint? Decompress(ReadOnlySpan<byte> enc, out bool nonCanonical)
    {
        nonCanonical = false;
        if (!IsCanonicalY(enc)) { nonCanonical = true; return null; }
        var buf = enc.ToArray();
        int sign = buf[31] >> 7;
        buf[31] &= 0x7F;
        var p = new EdwardsPoint();
        F.Decode(buf, 0, p.Y);
        F.One(p.Z);
        var u = F.Create(); var v = F.Create(); var y2 = F.Create();
        F.Sqr(p.Y, y2);
        F.Mul(D, y2, v);
        F.SubOne(y2); F.Carry(y2);    // u = y^2 - 1
        F.Copy(y2, 0, u, 0);
        F.AddOne(v); F.Carry(v);      // v = d y^2 + 1
        if (!F.SqrtRatioVar(u, v, p.X)) return null; // not on the curve
        F.Normalize(p.X);
        bool xIsZero = F.IsZeroVar(p.X);
        if (xIsZero && sign == 1) { nonCanonical = true; return null; }
        var xb = new byte[32];
        F.Encode(p.X, xb, 0);
        if ((xb[0] & 1) != sign) { F.Negate(p.X, p.X); F.Normalize(p.X); }
        F.Mul(p.X, p.Y, p.T);
        return p;
    }

    private static bool IsCanonicalY(ReadOnlySpan<byte> enc)
    {
        // y (low 255 bits) must be < p = 2^255 - 19
        if ((enc[31] & 0x7F) != 0x7F) return true;
        for (int i = 30; i >= 1; i--) if (enc[i] != 0xFF) return true;
        return enc[0] < 0xED;
    }

    public byte[] Compress()
    {
        var zi = F.Create();
        F.InvVar(Z, zi);
        return CompressWith(this, zi);
    }

    private static byte[] CompressWith(EdwardsPoint p, int[] zInv)
    {
        var x = F.Create(); var y = F.Create();
        F.Mul(p.X, zInv, x); F.Normalize(x);
        F.Mul(p.Y, zInv, y); F.Normalize(y);
        var yb = new byte[32];
        F.Encode(y, yb, 0);
        yb[31] |= (byte)((x[0] & 1) << 7);          // normalized: x[0]'s low bit is x mod 2
        return yb;
    }

    public bool IsIdentity()
    {
        // X == 0 and Y == Z
        var x = F.Create(); F.Copy(X, 0, x, 0); F.Normalize(x);
        if (!F.IsZeroVar(x)) return false;
        var d = F.Create(); F.Sub(Y, Z, d); F.Normalize(d);
        return F.IsZeroVar(d);
    }

    public bool EqualsPoint(EdwardsPoint q)
    {
        var a = F.Create(); var b = F.Create();
        F.Mul(X, q.Z, a); F.Mul(q.X, Z, b); F.Sub(a, b, a); F.Normalize(a);
        if (!F.IsZeroVar(a)) return false;
        F.Mul(Y, q.Z, a); F.Mul(q.Y, Z, b); F.Sub(a, b, a); F.Normalize(a);
        return F.IsZeroVar(a);
    }

    // Carry discipline (limb bounds of BouncyCastle's X25519Field, as its own Ed25519 code uses them): a Mul/Sqr
    // output or a carried value is "1x"; a sum or difference of two 1x values is "2x", and so on. Mul accepts
    // operands whose bound factors multiply to at most 6 (2x·2x, 3x·2x, 1x·4x); anything larger is carried first.

    /// <summary>r = p + q in extended coordinates (r may alias p or q).</summary>
    public static void Add(EdwardsPoint p, EdwardsPoint q, EdwardsPoint r, Temps t)
    {
        F.Apm(p.Y, p.X, t.B, t.A);                  // 2x
        F.Apm(q.Y, q.X, t.D, t.C);
        F.Mul(t.A, t.C, t.A);                       // A = (Y1-X1)(Y2-X2)
        F.Mul(t.B, t.D, t.B);                       // B = (Y1+X1)(Y2+X2)
        F.Mul(p.T, q.T, t.C); F.Mul(t.C, D2, t.C);  // C = 2d T1 T2
        F.Mul(p.Z, q.Z, t.D); F.Add(t.D, t.D, t.D); // D = 2 Z1 Z2 (2x)
        Finish(t, r, computeT: true);
    }

    /// <summary>r = p - q (r may alias p or q).</summary>
    public static void Sub(EdwardsPoint p, EdwardsPoint q, EdwardsPoint r, Temps t)
    {
        F.Apm(p.Y, p.X, t.B, t.A);
        F.Apm(q.Y, q.X, t.C, t.D);                  // -q = (-X, Y, Z, -T): Y+X and Y-X swap
        F.Mul(t.A, t.C, t.A);
        F.Mul(t.B, t.D, t.B);
        F.Mul(p.T, q.T, t.C); F.Mul(t.C, D2, t.C); F.Negate(t.C, t.C);
        F.Mul(p.Z, q.Z, t.D); F.Add(t.D, t.D, t.D);
        Finish(t, r, computeT: true);
    }

    /// <summary>r = p ± q for q in cached form; T of r is only computed when <paramref name="computeT"/> (a doubling next needs none).</summary>
    public static void AddCached(EdwardsPoint p, Cached q, bool negate, EdwardsPoint r, Temps t, bool computeT = true)
    {
        F.Apm(p.Y, p.X, t.B, t.A);                  // 2x
        F.Mul(t.A, negate ? q.YpX : q.YmX, t.A);
        F.Mul(t.B, negate ? q.YmX : q.YpX, t.B);
        F.Mul(p.T, q.T2d, t.C);
        if (negate) F.Negate(t.C, t.C);
        F.Mul(p.Z, q.Z2, t.D);                      // 1x
        Finish(t, r, computeT);
    }

    /// <summary>r = p ± q for q in affine Niels form (Z = 1).</summary>
    public static void AddAffine(EdwardsPoint p, AffineNiels q, bool negate, EdwardsPoint r, Temps t, bool computeT = true)
    {
        F.Apm(p.Y, p.X, t.B, t.A);
        F.Mul(t.A, negate ? q.YpX : q.YmX, t.A);
        F.Mul(t.B, negate ? q.YmX : q.YpX, t.B);
        F.Mul(p.T, q.T2d, t.C);
        if (negate) F.Negate(t.C, t.C);
        F.Add(p.Z, p.Z, t.D);                       // 2x
        Finish(t, r, computeT);
    }

    /// <summary>Shared tail of the additions: A, B, C, D in t (A, B, C 1x; D at most 2x).</summary>
    private static void Finish(Temps t, EdwardsPoint r, bool computeT)
    {
        F.Apm(t.B, t.A, t.H, t.E);                  // H = B + A, E = B - A (2x)
        F.Apm(t.D, t.C, t.G, t.Fv);                 // G = D + C, F = D - C (up to 3x)
        F.Carry(t.G);                               // G 1x: E·F 2x·3x, G·H 1x·2x, F·G 3x·1x, E·H 2x·2x
        F.Mul(t.E, t.Fv, r.X);
        F.Mul(t.G, t.H, r.Y);
        F.Mul(t.Fv, t.G, r.Z);
        if (computeT) F.Mul(t.E, t.H, r.T);
    }

    /// <summary>r = 2p (r may alias p); T of r only when <paramref name="computeT"/>. Reads only X, Y, Z of p.</summary>
    public static void Double(EdwardsPoint p, EdwardsPoint r, Temps t, bool computeT = true)
    {
        F.Sqr(p.X, t.A);                            // A = X1^2
        F.Sqr(p.Y, t.B);                            // B = Y1^2
        F.Sqr(p.Z, t.C); F.Add(t.C, t.C, t.C);      // C = 2 Z1^2 (2x)
        F.Apm(t.A, t.B, t.H, t.G);                  // H = A + B, G = A - B (2x)
        F.Add(p.X, p.Y, t.E); F.Sqr(t.E, t.E);
        F.Sub(t.H, t.E, t.E);                       // E = H - (X1+Y1)^2 (3x)
        F.Add(t.C, t.G, t.Fv); F.Carry(t.Fv);       // F = C + G (1x)
        F.Mul(t.E, t.Fv, r.X);
        F.Mul(t.G, t.H, r.Y);
        F.Mul(t.Fv, t.G, r.Z);
        if (computeT) F.Mul(t.E, t.H, r.T);
    }

    /// <summary>The cached form of p for repeated additions.</summary>
    public Cached ToCached()
    {
        var c = new Cached();
        F.Apm(Y, X, c.YpX, c.YmX); F.Carry(c.YpX); F.Carry(c.YmX);
        F.Add(Z, Z, c.Z2); F.Carry(c.Z2);
        F.Mul(T, D2, c.T2d);
        return c;
    }

    /// <summary>
    /// The affine Niels forms of many points with a single field inversion (Montgomery's trick).
    /// Every point must have Z ≠ 0, which holds for all points of the curve in extended coordinates.
    /// </summary>
    public static AffineNiels[] ToAffineNiels(ReadOnlySpan<EdwardsPoint> points)
    {
        var r = new AffineNiels[points.Length];
        var zInv = BatchInvertZ(points);
        var x = F.Create(); var y = F.Create();
        for (int i = 0; i < points.Length; i++)
        {
            var a = r[i] = new AffineNiels();
            F.Mul(points[i].X, zInv[i], x);
            F.Mul(points[i].Y, zInv[i], y);
            F.Apm(y, x, a.YpX, a.YmX); F.Carry(a.YpX); F.Carry(a.YmX);
            F.Mul(x, y, a.T2d); F.Mul(a.T2d, D2, a.T2d);
        }
        return r;
    }

    /// <summary>The canonical encodings of many points with a single field inversion.</summary>
    public static byte[][] CompressMany(ReadOnlySpan<EdwardsPoint> points)
    {
        var r = new byte[points.Length][];
        var zInv = BatchInvertZ(points);
        for (int i = 0; i < points.Length; i++) r[i] = CompressWith(points[i], zInv[i]);
        return r;
    }

    /// <summary>1/Z of every point: one inversion and 3(n-1) multiplications.</summary>
    private static int[][] BatchInvertZ(ReadOnlySpan<EdwardsPoint> points)
    {
        int n = points.Length;
        var inv = new int[n][];
        if (n == 0) return inv;
        // prefix products: inv[i] = Z0·...·Zi
        inv[0] = F.Create(); F.Copy(points[0].Z, 0, inv[0], 0);
        for (int i = 1; i < n; i++) { inv[i] = F.Create(); F.Mul(inv[i - 1], points[i].Z, inv[i]); }
        var acc = F.Create();
        F.InvVar(inv[n - 1], acc);                  // (Z0·...·Z(n-1))^-1
        for (int i = n - 1; i > 0; i--)
        {
            F.Mul(acc, inv[i - 1], inv[i]);         // 1/Zi
            F.Mul(acc, points[i].Z, acc);           // (Z0·...·Z(i-1))^-1
        }
        F.Copy(acc, 0, inv[0], 0);
        return inv;
    }

    public static EdwardsPoint Negate(EdwardsPoint p)
    {
        var r = new EdwardsPoint();
        F.Negate(p.X, r.X); F.Copy(p.Y, 0, r.Y, 0); F.Copy(p.Z, 0, r.Z, 0); F.Negate(p.T, r.T);
        return r;
    }

    /// <summary>Scratch field elements for one thread's point operations.</summary>
    internal sealed class Temps
    {
        public readonly int[] A = F.Create(), B = F.Create(), C = F.Create(), D = F.Create(),
            E = F.Create(), Fv = F.Create(), G = F.Create(), H = F.Create();

        [ThreadStatic] private static Temps? current;
        public static Temps Current => current ??= new Temps();
    }

    /// <summary>A point as (Y+X, Y-X, 2Z, 2dT): an addition of it costs 8 multiplications instead of 9.</summary>
    internal sealed class Cached
    {
        public readonly int[] YpX = F.Create(), YmX = F.Create(), Z2 = F.Create(), T2d = F.Create();
    }

    /// <summary>An affine point as (y+x, y-x, 2dxy): an addition of it costs 7 multiplications.</summary>
    internal sealed class AffineNiels
    {
        public readonly int[] YpX = F.Create(), YmX = F.Create(), T2d = F.Create();
    }
}
