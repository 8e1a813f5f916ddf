namespace Rotor.Crypto.Groups;

/// <summary>
/// Batch scalar operations over spans, for the hot loops of the OT multiplication (Rotor.Protocols.Ecdsa): the same
/// constant-time Montgomery arithmetic as one operation at a time, without a group check, a virtual call and a
/// struct per operation (the inputs' group is checked once each). Every loop runs over public lengths only and every
/// secret-dependent choice is a mask, so they stay constant time in the values. Groups without a Montgomery scalar
/// field take the one-at-a-time path.
/// </summary>
public abstract partial class Group
{
    /// <summary>Σ_k factors[k]·xs[k] (one Montgomery product per term).</summary>
    public Scalar SumOfProducts(ReadOnlySpan<ScalarFactor> factors, ReadOnlySpan<Scalar> xs)
    {
        if (factors.Length != xs.Length) throw new ArgumentException("as many factors as scalars");
        var f = ScalarField;
        if (f is null)
        {
            var acc = Zero;
            for (int k = 0; k < xs.Length; k++) acc += factors[k].Times(xs[k]);
            return acc;
        }
        UInt256 sum = default;
        for (int k = 0; k < xs.Length; k++)
        {
            Mine(factors[k].Value);
            Mine(xs[k]);
            sum = f.Add(sum, f.MulByMontgomery(xs[k].Value, factors[k].Montgomery));
        }
        return new Scalar(this, sum);
    }

    /// <summary>destination[k] = a[k] − b[k] + c[k].</summary>
    public void SubAdd(ReadOnlySpan<Scalar> a, ReadOnlySpan<Scalar> b, ReadOnlySpan<Scalar> c, Span<Scalar> destination)
    {
        if (a.Length != destination.Length || b.Length != destination.Length || c.Length != destination.Length)
            throw new ArgumentException("spans of one length");
        var f = ScalarField;
        if (f is null)
        {
            for (int k = 0; k < destination.Length; k++) destination[k] = a[k] - b[k] + c[k];
            return;
        }
        for (int k = 0; k < destination.Length; k++)
        {
            Mine(a[k]); Mine(b[k]); Mine(c[k]);
            destination[k] = new Scalar(this, f.Add(f.Sub(a[k].Value, b[k].Value), c[k].Value));
        }
    }

    /// <summary>destination[k] = bit·x[k] − p[k] for a bit 0 or 1 (a mask, not a branch: the bit may be secret).</summary>
    public void SelectSub(ulong bit, ReadOnlySpan<Scalar> x, ReadOnlySpan<Scalar> p, Span<Scalar> destination)
    {
        if (x.Length != destination.Length || p.Length != destination.Length) throw new ArgumentException("spans of one length");
        var f = ScalarField;
        if (f is null)
        {
            for (int k = 0; k < destination.Length; k++) destination[k] = Scalar.Select(Zero, x[k], bit) - p[k];
            return;
        }
        ulong mask = 0UL - (bit & 1);
        for (int k = 0; k < destination.Length; k++)
        {
            Mine(x[k]); Mine(p[k]);
            destination[k] = new Scalar(this, f.Sub(UInt256.Select(mask, x[k].Value, default), p[k].Value));
        }
    }

    /// <summary>
    /// Σ_{j &lt; powers} 2^j·v[j·stride + offset] (by Horner's rule: a doubling and an addition each) plus
    /// Σ_i factors[i]·v[(powers + i)·stride + offset]: a gadget vector of powers of two followed by arbitrary entries.
    /// </summary>
    public Scalar GadgetSum(ReadOnlySpan<Scalar> v, int stride, int offset, int powers, ReadOnlySpan<ScalarFactor> factors)
    {
        if (stride < 1 || offset < 0 || offset >= stride || powers < 0 || (powers + factors.Length - 1) * stride + offset >= v.Length)
            throw new ArgumentException("gadget entries outside the vector");
        var f = ScalarField;
        if (f is null)
        {
            var acc = Zero;
            for (int j = powers - 1; j >= 0; j--) acc = acc + acc + v[j * stride + offset];
            for (int i = 0; i < factors.Length; i++) acc += factors[i].Times(v[(powers + i) * stride + offset]);
            return acc;
        }
        UInt256 sum = default;
        for (int j = powers - 1; j >= 0; j--)
        {
            var x = v[j * stride + offset];
            Mine(x);
            sum = f.Add(f.Add(sum, sum), x.Value);
        }
        for (int i = 0; i < factors.Length; i++)
        {
            var x = v[(powers + i) * stride + offset];
            Mine(factors[i].Value);
            Mine(x);
            sum = f.Add(sum, f.MulByMontgomery(x.Value, factors[i].Montgomery));
        }
        return new Scalar(this, sum);
    }

    private void Mine(in Scalar s)
    {
        if (!ReferenceEquals(s.GroupOrNull, this))
            throw new InvalidOperationException(s.GroupOrNull is null ? "uninitialised Scalar" : $"a {s.GroupOrNull.Name} scalar given to {Name}");
    }
}
