using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;

namespace Rotor.Coordinator;

/// <summary>What the coordinator sends about parties and reads back from nodes' session outputs (public data only).</summary>
internal static class NodeReplies
{
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>A node's JSON session output, or Aborted naming the node when it does not decode.</summary>
    internal static T Decode<T>(byte[] bytes, string node)
    {
        try { return JsonSerializer.Deserialize<T>(bytes, Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new CoordinatorException(StatusCode.Aborted, $"node '{node}' returned an unreadable output: {Rotor.Crypto.JsonErrors.Describe(e)}"); }
    }

    internal static Party ToParty(NodeEntry n) => new() { Name = n.Name, Index = n.Index, Certificate = ByteString.CopyFrom(n.Certificate) };

    /// <summary>Checks that every party reported the same public package for every key; returns them by key id.</summary>
    internal static Dictionary<string, KeyPackageSummary> AgreedPackages(Dictionary<string, List<KeyPackageSummary>> byNode, string what)
    {
        Dictionary<string, KeyPackageSummary>? reference = null;
        string? referenceNode = null;
        foreach (var (node, list) in byNode)
        {
            var map = list.ToDictionary(k => k.KeyId);
            if (reference is null)
            {
                reference = map;
                referenceNode = node;
                continue;
            }
            foreach (var (id, s) in reference)
            {
                if (!map.TryGetValue(id, out var other) || !Same(other, s))
                    throw new CoordinatorException(StatusCode.Aborted, $"{what}: nodes '{referenceNode}' and '{node}' disagree on the public key package of '{id}'");
            }
        }
        return reference ?? throw new CoordinatorException(StatusCode.Aborted, $"{what}: no output");
    }

    private static bool Same(KeyPackageSummary a, KeyPackageSummary b) =>
        a.KeyId == b.KeyId && a.Scheme == b.Scheme && a.Epoch == b.Epoch && a.Threshold == b.Threshold && a.GroupPublicKey == b.GroupPublicKey
        && a.VerifyingShares.Count == b.VerifyingShares.Count && a.VerifyingShares.All(kv => b.VerifyingShares.TryGetValue(kv.Key, out var y) && y == kv.Value)
        && a.MemberKeys.Count == b.MemberKeys.Count && a.MemberKeys.All(kv => b.MemberKeys.TryGetValue(kv.Key, out var k) && k == kv.Value)
        && a.ChainCode == b.ChainCode && a.InternalKey == b.InternalKey;
}
