using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Hashing;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Rpc.Tls;

namespace Rotor.Node.Sessions;

/// <summary>A node-to-node protocol message before sealing or after opening.</summary>
public sealed record PeerMessage(string Peer, string Label, byte[] Payload);

/// <summary>What one step of a session produces: messages for peers, public output for the coordinator, and whether it is over.</summary>
/// <param name="Presigned">Signing only: commitments made in advance for later signatures (public).</param>
public sealed record StepResult(IReadOnlyList<PeerMessage> Messages, byte[] Output, bool Done, IReadOnlyList<byte[]>? Presigned = null)
{
    public static StepResult Send(IReadOnlyList<PeerMessage> messages) => new(messages, [], false);
    public static StepResult Finish(byte[] output) => new([], output, true);
}

/// <summary>
/// One protocol run on this node. The host opens inbound envelopes before <see cref="Step"/> and seals what it
/// returns; a session sees only authenticated plaintext from the session's parties.
/// </summary>
public interface INodeSession : IDisposable
{
    /// <summary>The session id every envelope of this run is bound to (derived by the node from the parameters).</summary>
    byte[] Id { get; }

    /// <summary>What the session does, for errors and status: e.g. "dkg of 2 keys".</summary>
    string Description { get; }

    StepResult Start();

    StepResult Step(IReadOnlyList<PeerMessage> inbound, ReadOnlySpan<byte> coordinatorInput);
}

/// <summary>
/// The parties of a session, as the coordinator presented them, each checked: its certificate chains to the
/// cluster CA and names it, and the identity keys it carries are the ones envelopes are sealed to and verified
/// against. The coordinator therefore cannot slip in a key of its own.
/// </summary>
public sealed class SessionParties
{
    private readonly Dictionary<string, (ulong Index, IdentityKeys Keys)> parties = [];

    public SessionParties(IEnumerable<Rotor.Rpc.Node.Party> given, PeerTrust trust, string self, IdentityKeys selfKeys)
    {
        foreach (var p in given)
        {
            if (p.Index == 0) throw new ArgumentException($"party '{p.Name}' has index 0");
            var keys = trust.NodeIdentity(p.Certificate.Span, p.Name);
            if (!parties.TryAdd(p.Name, (p.Index, keys))) throw new ArgumentException($"party '{p.Name}' is listed twice");
        }
        if (parties.Values.Select(v => v.Index).Distinct().Count() != parties.Count) throw new ArgumentException("two parties share an index");
        Self = self;
        if (parties.TryGetValue(self, out var mine) && !mine.Keys.Equals(selfKeys))
            throw new UnauthorizedAccessException($"the certificate presented for this node ('{self}') does not carry its identity keys");
    }

    public string Self { get; }

    public IEnumerable<string> Names => parties.Keys;

    public bool Contains(string name) => parties.ContainsKey(name);

    public ulong IndexOf(string name) => parties.TryGetValue(name, out var p) ? p.Index : throw new ArgumentException($"'{name}' is not a party of this session");

    public Identifier IdentifierOf(Scheme scheme, string name) => Identifier.FromUInt64(scheme.Group(), IndexOf(name));

    public string NameOf(ulong index) => parties.First(p => p.Value.Index == index).Key;

    public IdentityKeys? KeysOf(string name) => parties.TryGetValue(name, out var p) ? p.Keys : null;

    /// <summary>Each party's identity signing key (raw Ed25519) by its identifier under <paramref name="scheme"/>.</summary>
    public Dictionary<Identifier, byte[]> MemberKeys(Scheme scheme, IEnumerable<string> names) =>
        names.ToDictionary(n => IdentifierOf(scheme, n), n => parties[n].Keys.SigningKey.ToArray());

    /// <summary>
    /// Refuses a party whose authenticated identity (its CA-issued certificate) is not the node that
    /// <paramref name="package"/> records for the identifier the party is given: it does not hold that identifier.
    /// A package that records no member identities is refused as well.
    /// </summary>
    public void CheckHolds(Rotor.Protocols.Keys.PublicKeyPackage package, string name, string role)
    {
        if (!package.IsBound)
            throw new SessionRefusedException($"key '{package.KeyId}' epoch {package.Epoch} records no member identities: refused (it cannot tell who holds which identifier)");
        var id = IdentifierOf(package.Scheme, name);
        var recorded = package.MemberKey(id);
        if (recorded is null)
            throw new SessionRefusedException($"{role} '{name}' is given identifier {IndexOf(name)}, which is not a member of key '{package.KeyId}' epoch {package.Epoch}");
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(recorded, parties[name].Keys.SigningKey))
            throw new SessionRefusedException($"{role} '{name}' is not the node recorded for identifier {IndexOf(name)} of key '{package.KeyId}' epoch {package.Epoch} (its certificate carries another identity key)");
    }

    /// <summary>Appends every party's name, index and identity keys, in name order, to a transcript.</summary>
    public void AppendTo(Transcript t, string label)
    {
        t.Append(label + ".count", (ulong)parties.Count);
        foreach (var (name, p) in parties.OrderBy(p => p.Key, StringComparer.Ordinal))
            t.Append(label + ".name", name).Append(label + ".index", p.Index).Append(label + ".keys", p.Keys.ToBytes());
    }
}
