using Rotor.Crypto.Signatures;
using Rotor.TestSupport;

namespace Rotor.Crypto.Tests.Signatures;

public class Bip340Tests
{
    public static TheoryData<int> Rows() => new(Enumerable.Range(0, Csv().Length));

    /// <summary>Every row of the BIP's test-vectors.csv: the verification result, and for rows with a secret key the public key and the signature.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void MatchesTheBipTestVectors(int index)
    {
        var row = Csv()[index];
        Assert.Equal(index.ToString(), row[0]);
        var pk = Convert.FromHexString(row[2]);
        var msg = Convert.FromHexString(row[4]);
        var sig = Convert.FromHexString(row[5]);
        bool expected = row[6] == "TRUE";
        Assert.Equal(expected, Bip340.Verify(pk, msg, sig));
        if (row[1].Length > 0)
        {
            var sk = Convert.FromHexString(row[1]);
            Assert.Equal(pk, Bip340ReferenceSigner.PublicKey(sk));
            Assert.Equal(sig, Bip340ReferenceSigner.Sign(sk, msg, Convert.FromHexString(row[3])));
        }
    }

    [Fact]
    public void WrongLengthsAreRefused()
    {
        var row = Csv()[1];
        var pk = Convert.FromHexString(row[2]);
        var msg = Convert.FromHexString(row[4]);
        var sig = Convert.FromHexString(row[5]);
        Assert.True(Bip340.Verify(pk, msg, sig));
        Assert.False(Bip340.Verify(pk[..31], msg, sig));
        Assert.False(Bip340.Verify(pk, msg, sig[..63]));
        Assert.False(Bip340.Verify([0x02, .. pk], msg, sig));
    }

    private static string[][] Csv() => File.ReadAllLines(Vectors.Path("bip340.csv")).Skip(1)
        .Where(l => l.Length > 0).Select(l => l.Split(',', 8)).ToArray();
}
