using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Rotor.Rpc;
using Rotor.Rpc.Node;
using Rotor.Rpc.Tls;

namespace Rotor.Coordinator;

/// <summary>gRPC clients of the nodes, over mutual TLS with the coordinator's client certificate; one channel per node endpoint.</summary>
public sealed class NodeClients(PeerTrust trust, X509Certificate2 clientCertificate) : IDisposable
{
    private readonly ConcurrentDictionary<(string Name, string Endpoint), GrpcChannel> channels = new();

    public PeerTrust Trust => trust;

    public SignerNode.SignerNodeClient For(string name, string endpoint) =>
        new(channels.GetOrAdd((name, endpoint), k => RpcChannels.Create(k.Endpoint, trust, k.Name, clientCertificate)));

    public SignerNode.SignerNodeClient For(NodeEntry node) => For(node.Name, node.Endpoint);

    /// <summary>A call invoker on the node's channel, for the node's other services.</summary>
    public Grpc.Core.CallInvoker Invoker(NodeEntry node) =>
        channels.GetOrAdd((node.Name, node.Endpoint), k => RpcChannels.Create(k.Endpoint, trust, k.Name, clientCertificate)).CreateCallInvoker();

    public void Dispose()
    {
        foreach (var c in channels.Values) c.Dispose();
    }
}
