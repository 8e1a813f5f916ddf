using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Coordinator.Audit;
using Rotor.Rpc.NodeOps;

namespace Rotor.Coordinator.Operations;

/// <summary>A node's answer to an attestation request: its signed statement, or why there is none.</summary>
public sealed record NodeAttestation(NodeEntry Node, WitnessStatement? Statement, string? Problem);

public sealed partial class OperationsDesk
{
    /// <summary>The head each node last witnessed in this process, and when (milliseconds).</summary>
    private readonly ConcurrentDictionary<string, (long Seq, long At)> witnessed = new();
    private readonly ConcurrentDictionary<string, string> witnessRefusals = new();

    /// <summary>How often a node is shown an unchanged head again.</summary>
    private const long WitnessRefreshMillis = 10_000;

    /// <summary>
    /// Shows every online node the audit log's signed head, when it moved since the node last witnessed it (or every
    /// 10 s). A node that refuses (the head went back, forked or is signed by another key) says so; the refusal is
    /// logged to stderr and, once per node until it witnesses again, in the audit log.
    /// </summary>
    public async Task WitnessHeadAsync()
    {
        if (audit.Head() is not { } head) return;
        var request = new AuditHead
        {
            Seq = head.Seq, Hash = ByteString.CopyFrom(head.Hash), Signature = ByteString.CopyFrom(head.Signature), PublicKey = ByteString.CopyFrom(audit.PublicKey),
        };
        var now = Now;
        var due = Registry.ListNodes().Where(n => engine.Nodes.HealthOf(n.Name).Online
            && (!witnessed.TryGetValue(n.Name, out var w) || w.Seq != head.Seq || now - w.At >= WitnessRefreshMillis)).ToList();
        await Task.WhenAll(due.Select(async node =>
        {
            try
            {
                await NodeOps(node).WitnessAuditHeadAsync(request, deadline: DateTime.UtcNow.AddSeconds(5));
                witnessed[node.Name] = (head.Seq, now);
                witnessRefusals.TryRemove(node.Name, out _);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                witnessed[node.Name] = (head.Seq, now);
                Console.Error.WriteLine($"audit witness: {e.Status.Detail}");
                // Once per node until it witnesses again: an entry moves the head, and a refusal per head would feed itself.
                if (!witnessRefusals.TryAdd(node.Name, e.Status.Detail)) return;
                Record(AuditKinds.WitnessRefused, null, node.Name, new { node = node.Name, problem = e.Status.Detail }, OperatorContext.Coordinator);
            }
            catch (RpcException) { /* offline or unimplemented: tried again at the next heartbeat */ }
        }));
    }

    /// <summary>Asks every registered node for its witness statement over the operator's nonce (relayed as is).</summary>
    public async Task<IReadOnlyList<NodeAttestation>> AttestAsync(byte[] nonce)
    {
        if (nonce.Length is < 16 or > 64) throw new CoordinatorException(StatusCode.InvalidArgument, $"the nonce must be 16 to 64 bytes, not {nonce.Length}");
        var nodes = Registry.ListNodes();
        return await Task.WhenAll(nodes.Select(async node =>
        {
            try
            {
                var s = await NodeOps(node).AttestAuditHeadAsync(new AttestRequest { Nonce = ByteString.CopyFrom(nonce) }, deadline: DateTime.UtcNow.AddSeconds(5));
                return new NodeAttestation(node, s, null);
            }
            catch (RpcException e) { return new NodeAttestation(node, null, $"{e.StatusCode}: {e.Status.Detail}"); }
        }));
    }
}
