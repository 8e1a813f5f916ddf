using System.Security.Cryptography;
using Google.Protobuf;
using Rotor.Crypto.Envelopes;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Resharing;
using Rotor.Protocols.Sessions;
using Rotor.Rpc.Node;

namespace Rotor.Rpc.Sessions;

/// <summary>
/// Rebuilds a reshare's protocol events from its start request, the same way on every node and on the
/// coordinator: one <see cref="ReshareEvent"/> per scheme, one plan per wallet (session bound to the wallet's
/// current package, the dealers, the new members and threshold, and the coordinator's nonce). Members are the
/// parties' indexes as identifiers. Used to run the reshare and, later, to check its commit certificate.
/// </summary>
public static class ReshareSetup
{
    /// <summary>
    /// The events by scheme; throws ArgumentException or ProtocolException naming what is inconsistent. The same
    /// parameters give the same events (public, immutable data), so the last few built are remembered by a digest
    /// of the parameters and nonce: a node checks a commit certificate against the event it ran without decoding
    /// and validating every wallet's package a second time. Wallets are validated on every core (<see cref="Batches"/>).
    /// </summary>
    public static IReadOnlyDictionary<Scheme, ReshareEvent> Events(ReshareParams p, ReadOnlySpan<byte> nonce)
    {
        var digest = Convert.ToHexStringLower(SHA256.HashData([.. SHA256.HashData(p.ToByteArray()), .. nonce]));
        lock (recent)
        {
            var known = recent.Find(r => r.Digest == digest);
            if (known is not null) return known.Events;
        }
        var events = Build(p, nonce);
        lock (recent)
        {
            if (recent.Count >= MaxRecent) recent.RemoveAt(0);
            recent.Add(new Built(digest, events));
        }
        return events;
    }

    /// <summary>Events remembered: a reshare's start and its commit are moments apart, and one reshare runs at a time.</summary>
    private const int MaxRecent = 2;

    private static readonly List<Built> recent = [];

    private sealed record Built(string Digest, IReadOnlyDictionary<Scheme, ReshareEvent> Events);

    private static Dictionary<Scheme, ReshareEvent> Build(ReshareParams p, ReadOnlySpan<byte> nonce)
    {
        if (p.Wallets.Count == 0) throw new ArgumentException("a reshare needs at least one wallet");
        if (p.Wallets.Select(w => w.KeyId).Distinct().Count() != p.Wallets.Count) throw new ArgumentException("a wallet is listed twice");
        var n = nonce.ToArray();
        var events = new Dictionary<Scheme, ReshareEvent>();
        foreach (var group in p.Wallets.GroupBy(w => Schemes.Parse(w.Scheme)))
        {
            var g = group.Key.Group();
            var newMembers = p.NewMembers.Select(m => Identifier.FromUInt64(g, m.Index)).ToArray();
            var newKeys = new Dictionary<Identifier, byte[]>();
            foreach (var m in p.NewMembers)
                if (!newKeys.TryAdd(Identifier.FromUInt64(g, m.Index), MemberKey(m))) throw new ArgumentException($"new member index {m.Index} is listed twice");
            var dealers = p.Dealers.Select(m => Identifier.FromUInt64(g, m.Index)).ToArray();
            var plans = Batches.Map(group.ToArray(), w =>
            {
                var current = Package(w);
                return ResharePlan.Create(SessionId.ForReshare(current, newMembers, (int)p.NewThreshold, n, newKeys), current, dealers);
            });
            events[group.Key] = ReshareEvent.Create(plans);
        }
        return events;
    }

    /// <summary>Decodes and validates a wallet's public package (once per process: <see cref="ValidatedPackages"/>).</summary>
    public static PublicKeyPackage Package(KeyPackage w) => ValidatedPackages.Shared.GetOrValidate(ValidatedPackages.Digest(w), () => Decode(w));

    private static PublicKeyPackage Decode(KeyPackage w)
    {
        var scheme = Schemes.Parse(w.Scheme);
        var g = scheme.Group();
        var shares = w.VerifyingShares.ToDictionary(kv => Identifier.FromUInt64(g, kv.Key), kv => g.DecodeElement(kv.Value.Span));
        var pub = new PublicKeyPackage(w.KeyId, scheme, w.Epoch, (int)w.Threshold, shares, g.DecodeElement(w.GroupPublicKey.Span));
        if (w.MemberKeys.Count != 0) pub = pub.WithMemberKeys(w.MemberKeys.ToDictionary(kv => Identifier.FromUInt64(g, kv.Key), kv => kv.Value.ToByteArray()));
        if (!w.ChainCode.IsEmpty) pub = pub.WithHdRoot(w.ChainCode.Span, w.InternalKey.IsEmpty ? null : g.DecodeElement(w.InternalKey.Span));
        else if (!w.InternalKey.IsEmpty) throw new ArgumentException($"key package of '{w.KeyId}': an internal key without a chain code");
        return pub;
    }

    /// <summary>
    /// The Ed25519 identity key a party's certificate carries (read, not chain-checked: the nodes check every
    /// party's certificate against the cluster CA before they use it, SessionParties; the coordinator uses its registry's).
    /// </summary>
    public static byte[] MemberKey(Party party)
    {
        try
        {
            using var cert = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(party.Certificate.Span);
            return (Rotor.Rpc.Tls.IdentityExtension.Read(cert) ?? throw new ArgumentException($"the certificate of '{party.Name}' carries no identity keys")).SigningKey.ToArray();
        }
        catch (CryptographicException e) { throw new ArgumentException($"the certificate of '{party.Name}' does not decode: {e.Message}"); }
    }

    /// <summary>The wire form of a package, members by their identifiers' small integer values (party indexes).</summary>
    public static KeyPackage ToWire(PublicKeyPackage pub, Func<Identifier, ulong> index)
    {
        var w = new KeyPackage { KeyId = pub.KeyId, Scheme = pub.Scheme.Name(), Epoch = pub.Epoch, Threshold = (uint)pub.Threshold, GroupPublicKey = ByteString.CopyFrom(pub.GroupPublicKey.ToBytes()) };
        foreach (var m in pub.Members)
        {
            w.VerifyingShares.Add(index(m), ByteString.CopyFrom(pub.VerifyingShare(m).ToBytes()));
            if (pub.MemberKey(m) is { } k) w.MemberKeys.Add(index(m), ByteString.CopyFrom(k));
        }
        if (pub.HasChainCode) w.ChainCode = ByteString.CopyFrom(pub.ChainCode);
        if (pub.InternalKey is { } ik) w.InternalKey = ByteString.CopyFrom(ik.ToBytes());
        return w;
    }

    /// <summary>
    /// Checks a commit certificate against the events rebuilt from its start request: for every scheme, a signed
    /// confirmation from every new member under that member's identity key, all for the event and with one
    /// transcript hash (Rotor.Protocols.Resharing.ReshareCertificate.Verify). Returns the certificates by scheme.
    /// </summary>
    /// <param name="identityKey">The identity keys of a new member, from a trusted source (its CA-issued certificate, or the registry).</param>
    public static IReadOnlyDictionary<Scheme, ReshareCertificate> VerifyCertificate(CommitRequest commit, Func<Party, IdentityKeys> identityKey)
    {
        var start = commit.Start ?? throw new ArgumentException("the commit certificate carries no start request");
        if (start.KindCase != StartRequest.KindOneofCase.Reshare || start.Reshare.EventId != commit.EventId)
            throw new ArgumentException($"the commit certificate's start request is not reshare {commit.EventId}");
        var events = Events(start.Reshare, start.Nonce.Span);
        var result = new Dictionary<Scheme, ReshareCertificate>();
        foreach (var (scheme, ev) in events)
        {
            var g = scheme.Group();
            var keys = start.Reshare.NewMembers.ToDictionary(m => Identifier.FromUInt64(g, m.Index), identityKey);
            var absent = start.Reshare.NewMembers.Where(m => start.Reshare.Absent.Contains(m.Name)).Select(m => Identifier.FromUInt64(g, m.Index)).ToArray();
            var confirmations = commit.Certificate.Where(c => c.Scheme == scheme.Name())
                .Select(c => SignedReshareConfirmation.Decode(scheme, c.Signed.Span)).ToList();
            result[scheme] = ReshareCertificate.Verify(ev, confirmations, keys, absent);
        }
        return result;
    }

    private static readonly byte[] RenunciationDomain = System.Text.Encoding.UTF8.GetBytes("rotor/reshare/renunciation/v1\0");

    /// <summary>What a renunciation signs: a domain prefix, then the framed event id and the node's session id of the event.</summary>
    public static byte[] RenunciationBytes(string eventId, ReadOnlySpan<byte> sessionId)
    {
        using var t = new Rotor.Crypto.Hashing.Transcript("rotor/reshare/renunciation/v1");
        return [.. RenunciationDomain, .. t.Append("event-id", eventId).Append("session-id", sessionId).Digest()];
    }

    /// <summary>
    /// Whether these renounced new members make a commit certificate of the event impossible: a certificate needs a
    /// confirmation from every new member not allowed to be absent, and from at least the new threshold of them.
    /// </summary>
    public static bool CertificateImpossible(ReshareParams p, IReadOnlyCollection<string> renounced)
    {
        var members = p.NewMembers.Select(m => m.Name).ToHashSet();
        var counted = renounced.Where(members.Contains).Distinct().ToList();
        if (counted.Any(r => !p.Absent.Contains(r))) return true;
        return members.Count - counted.Count < (int)p.NewThreshold;
    }
}
