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
        var zi = F.Create(); var x = F.Create(); var y = F.Create();
        F.InvVar(Z, zi);
        F.Mul(X, zi, x); F.Normalize(x);
        F.Mul(Y, zi, y); F.Normalize(y);
        var xb = new byte[32]; var yb = new byte[32];
        F.Encode(x, xb, 0);
        F.Encode(y, yb, 0);
        yb[31] |= (byte)((xb[0] & 1) << 7);
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

    /// <summary>r = p + q (r may alias p or q).</summary>
    public static void Add(EdwardsPoint p, EdwardsPoint q, EdwardsPoint r, Temps t)
    {
        F.Sub(p.Y, p.X, t.A); F.Carry(t.A);
        F.Sub(q.Y, q.X, t.B); F.Carry(t.B);
        F.Mul(t.A, t.B, t.A);                       // A = (Y1-X1)(Y2-X2)
        F.Add(p.Y, p.X, t.B); F.Carry(t.B);
        F.Add(q.Y, q.X, t.C); F.Carry(t.C);
        F.Mul(t.B, t.C, t.B);                       // B = (Y1+X1)(Y2+X2)
        F.Mul(p.T, q.T, t.C); F.Mul(t.C, D2, t.C);  // C = 2d T1 T2
        F.Mul(p.Z, q.Z, t.D); F.Add(t.D, t.D, t.D); F.Carry(t.D); // D = 2 Z1 Z2
        F.Sub(t.B, t.A, t.E); F.Carry(t.E);         // E = B - A
        F.Sub(t.D, t.C, t.Fv); F.Carry(t.Fv);         // F = D - C
        F.Add(t.D, t.C, t.G); F.Carry(t.G);         // G = D + C
        F.Add(t.B, t.A, t.H); F.Carry(t.H);         // H = B + A
        F.Mul(t.E, t.Fv, r.X);
        F.Mul(t.G, t.H, r.Y);
        F.Mul(t.E, t.H, r.T);
        F.Mul(t.Fv, t.G, r.Z);
    }

    /// <summary>r = p - q.</summary>
    public static void Sub(EdwardsPoint p, EdwardsPoint q, EdwardsPoint r, Temps t)
    {
        var nq = t.Neg;
        F.Negate(q.X, nq.X); F.Copy(q.Y, 0, nq.Y, 0); F.Copy(q.Z, 0, nq.Z, 0); F.Negate(q.T, nq.T);
        Add(p, nq, r, t);
    }

    /// <summary>r = 2p (r may alias p).</summary>
    public static void Double(EdwardsPoint p, EdwardsPoint r, Temps t)
    {
        F.Sqr(p.X, t.A);                            // A = X1^2
        F.Sqr(p.Y, t.B);                            // B = Y1^2
        F.Sqr(p.Z, t.C); F.Add(t.C, t.C, t.C); F.Carry(t.C); // C = 2 Z1^2
        F.Add(t.A, t.B, t.H); F.Carry(t.H);         // H = A + B
        F.Add(p.X, p.Y, t.E); F.Carry(t.E); F.Sqr(t.E, t.E);
        F.Sub(t.H, t.E, t.E); F.Carry(t.E);         // E = H - (X1+Y1)^2
        F.Sub(t.A, t.B, t.G); F.Carry(t.G);         // G = A - B
        F.Add(t.C, t.G, t.Fv); F.Carry(t.Fv);         // F = C + G
        F.Mul(t.E, t.Fv, r.X);
        F.Mul(t.G, t.H, r.Y);
        F.Mul(t.E, t.H, r.T);
        F.Mul(t.Fv, t.G, r.Z);
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
        public readonly EdwardsPoint Neg = new();

        [ThreadStatic] private static Temps? current;
        public static Temps Current => current ??= new Temps();
    }
}
