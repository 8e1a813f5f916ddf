using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Payloads;

namespace Rotor.Node.Sessions;

/// <summary>Helpers shared by the batch sessions (DKG, reshare): collecting one round's batch messages and reporting public results.</summary>
internal static class Rounds
{
    /// <summary>
    /// The batch messages of one round: exactly one per expected sender, all under <paramref name="label"/>.
    /// A missing, extra or mislabelled message is refused naming the sender.
    /// </summary>
    public static Dictionary<string, Dictionary<string, byte[]>> Collect(IReadOnlyList<PeerMessage> inbound, string label, IEnumerable<string> expectedSenders) =>
        Collect(inbound, label, expectedSenders, (payload, from) => BatchPayload.Decode(payload, from));

    /// <summary>The payloads of one round as sent (no batch decoding), with the same checks.</summary>
    public static Dictionary<string, byte[]> CollectPayloads(IReadOnlyList<PeerMessage> inbound, string label, IEnumerable<string> expectedSenders) =>
        Collect(inbound, label, expectedSenders, (payload, _) => payload);

    /// <summary>
    /// One round's messages: exactly one per expected sender, all under <paramref name="label"/>, each decoded by
    /// <paramref name="decode"/> (given the payload and its sender). A missing, extra, duplicated or mislabelled message
    /// is refused naming the sender.
    /// </summary>
    private static Dictionary<string, T> Collect<T>(IReadOnlyList<PeerMessage> inbound, string label, IEnumerable<string> expectedSenders, Func<byte[], string, T> decode)
    {
        var expected = expectedSenders.ToHashSet();
        var result = new Dictionary<string, T>();
        foreach (var m in inbound)
        {
            if (m.Label != label) throw new SessionRefusedException($"expected '{label}' messages, got '{m.Label}' from '{m.Peer}'");
            if (!expected.Contains(m.Peer)) throw new SessionRefusedException($"'{m.Peer}' is not expected to send '{label}'");
            if (!result.TryAdd(m.Peer, decode(m.Payload, m.Peer))) throw new SessionRefusedException($"'{m.Peer}' sent '{label}' twice");
        }
        var missing = expected.Except(result.Keys).ToList();
        if (missing.Count > 0) throw new SessionRefusedException($"no '{label}' message from {string.Join(", ", missing)}");
        return result;
    }

    /// <summary>The message for <paramref name="keyId"/> in a sender's batch, refusing its absence.</summary>
    public static byte[] For(Dictionary<string, byte[]> batch, string keyId, string sender) =>
        batch.TryGetValue(keyId, out var m) ? m : throw new SessionRefusedException($"'{sender}' sent nothing for key '{keyId}'");

    /// <summary>The public summary of a key package, members by party index.</summary>
    public static KeyPackageSummary Summary(PublicKeyPackage pub, SessionParties parties)
    {
        var byId = parties.Names.ToDictionary(n => parties.IdentifierOf(pub.Scheme, n), parties.IndexOf);
        return new KeyPackageSummary
        {
            KeyId = pub.KeyId, Scheme = pub.Scheme.Name(), Epoch = pub.Epoch, Threshold = pub.Threshold,
            GroupPublicKey = pub.GroupPublicKey.ToHex(),
            VerifyingShares = pub.Members.ToDictionary(m => byId.TryGetValue(m, out var i) ? i : throw new SessionRefusedException($"member {m} is not a party"),
                m => pub.VerifyingShare(m).ToHex()),
            MemberKeys = pub.IsBound ? pub.Members.ToDictionary(m => byId[m], m => Convert.ToHexStringLower(pub.MemberKey(m)!)) : [],
            ChainCode = pub.HasChainCode ? Convert.ToHexStringLower(pub.ChainCode) : "",
            InternalKey = pub.InternalKey?.ToHex() ?? "",
        };
    }

    public static Identifier[] Identifiers(SessionParties parties, Scheme scheme) => parties.Names.Select(n => parties.IdentifierOf(scheme, n)).ToArray();
}
