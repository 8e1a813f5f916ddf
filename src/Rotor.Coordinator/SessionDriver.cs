using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Envelopes;
using Rotor.Rpc.Node;

namespace Rotor.Coordinator;

/// <summary>
/// Runs one multi-party session by relay: starts it on every party, then, round after round, hands each party
/// the envelopes addressed to it and collects what it sends next, until every party is done. The coordinator
/// reads only envelope headers (recipient) and the parties' public outputs; it cannot open or alter an
/// envelope without the recipient noticing. Any error aborts the session on every party.
/// </summary>
public sealed class SessionDriver(NodeClients clients, TimeSpan callTimeout)
{
    /// <summary>Most rounds any protocol takes, plus slack; a session still running after that is aborted.</summary>
    private const int MaxRounds = 12;

    /// <summary>Test hook: when set, every relayed envelope passes through it (to check that an altered one is rejected).</summary>
    public Func<byte[], byte[]>? RelayFilter { get; set; }

    /// <summary>Runs the session and returns each party's final public output.</summary>
    /// <param name="onRound">Called after each round with the parties' replies (e.g. to hit test crash points or record progress).</param>
    /// <param name="keys">How many keys the session handles: each call's deadline grows with it (batches of thousands of wallets).</param>
    /// <param name="hold">Receives envelopes addressed to members that are not parties of this run (offline members allowed
    /// to catch up later); without it such an envelope aborts the session.</param>
    public async Task<IReadOnlyDictionary<string, byte[]>> RunAsync(IReadOnlyList<NodeEntry> parties, StartRequest start, string what, int keys,
        Action<int, IReadOnlyDictionary<string, StepReply>>? onRound = null, CancellationToken cancel = default, Action<string, byte[]>? hold = null)
    {
        Governance.ActionContext.Attach(start);
        var (sessionId, replies) = await StartAsync(parties, start, what, keys, cancel);
        try { onRound?.Invoke(0, replies); }
        catch
        {
            await AbortAll(parties, sessionId, what);
            throw;
        }
        return await ContinueAsync(parties, sessionId, replies, what, keys, null, onRound, cancel, hold);
    }

    /// <summary>
    /// Starts a session on every party (the request as given: no approval is attached here) and returns its id, which
    /// every party must have derived alike, with their replies (the first round's envelopes).
    /// </summary>
    public async Task<(byte[] SessionId, IReadOnlyDictionary<string, StepReply> Replies)> StartAsync(IReadOnlyList<NodeEntry> parties, StartRequest start,
        string what, int keys, CancellationToken cancel = default)
    {
        var replies = await CallAll(parties, (c, n) => c.StartAsync(start, deadline: Deadline(keys), cancellationToken: cancel).ResponseAsync, what, "start");
        try { return (AgreeOnSession(replies, what), replies); }
        catch
        {
            foreach (var id in replies.Values.Select(r => r.SessionId.ToByteArray()).DistinctBy(Convert.ToHexStringLower))
                await AbortAll(parties, id, what);
            throw;
        }
    }

    /// <summary>
    /// Relays a started session's rounds (from its start replies) until every party is done, and returns each party's
    /// final public output. <paramref name="coordinatorInput"/> gives the input every party receives with a round's
    /// step (by round, from 1), or null. Any failure aborts the session on every party.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> ContinueAsync(IReadOnlyList<NodeEntry> parties, byte[] sessionId,
        IReadOnlyDictionary<string, StepReply> replies, string what, int keys, Func<int, ByteString?>? coordinatorInput = null,
        Action<int, IReadOnlyDictionary<string, StepReply>>? onRound = null, CancellationToken cancel = default, Action<string, byte[]>? hold = null)
    {
        try
        {
            var outputs = new Dictionary<string, byte[]>();
            var running = parties.ToList();
            for (int round = 1; ; round++)
            {
                foreach (var r in replies.Where(r => r.Value.Done)) outputs[r.Key] = r.Value.Output.ToByteArray();
                var inbound = Route(replies, parties, what, hold);
                running = running.Where(p => !replies[p.Name].Done).ToList();
                foreach (var addressed in inbound.Keys)
                    if (!running.Any(p => p.Name == addressed))
                        throw new CoordinatorException(StatusCode.Aborted, $"{what}: '{addressed}' was sent messages after it finished");
                if (running.Count == 0) return outputs;
                if (round > MaxRounds) throw new CoordinatorException(StatusCode.Aborted, $"{what}: not finished after {MaxRounds} rounds");
                var sid = ByteString.CopyFrom(sessionId);
                var input = coordinatorInput?.Invoke(round);
                replies = await CallAll(running, (c, n) =>
                {
                    var req = new StepRequest { SessionId = sid };
                    if (input is not null) req.CoordinatorInput = input;
                    if (inbound.TryGetValue(n.Name, out var list)) req.Envelopes.AddRange(list);
                    return c.StepAsync(req, deadline: Deadline(keys), cancellationToken: cancel).ResponseAsync;
                }, what, $"round {round}");
                onRound?.Invoke(round, replies);
            }
        }
        catch
        {
            await AbortAll(parties, sessionId, what);
            throw;
        }
    }

    private DateTime Deadline(int keys) => DateTime.UtcNow + callTimeout + TimeSpan.FromMilliseconds(20.0 * keys);

    /// <summary>Calls every party in parallel; the first failure is reported naming the node and its own message.</summary>
    public async Task<Dictionary<string, T>> CallAll<T>(IReadOnlyList<NodeEntry> parties, Func<SignerNode.SignerNodeClient, NodeEntry, Task<T>> call, string what, string step)
    {
        var tasks = parties.Select(async p =>
        {
            try { return (p.Name, Reply: await call(clients.For(p), p)); }
            catch (RpcException e) { throw NodeFailure(p.Name, e, what, step); }
        }).ToList();
        try { await Task.WhenAll(tasks); }
        catch { }
        var failed = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).ToList();
        if (failed.Count > 0)
        {
            var first = failed.OfType<CoordinatorException>().FirstOrDefault();
            throw first ?? failed[0];
        }
        return tasks.ToDictionary(t => t.Result.Name, t => t.Result.Reply);
    }

    public DateTime Deadline() => DateTime.UtcNow + callTimeout;

    public static CoordinatorException NodeFailure(string node, RpcException e, string what, string step)
    {
        var unreachable = e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded;
        var detail = unreachable ? $"node '{node}' is unreachable ({e.StatusCode})" : e.Status.Detail;
        return new CoordinatorException(unreachable ? StatusCode.Unavailable : e.StatusCode, $"{what} failed at {step}: {detail}");
    }

    private static byte[] AgreeOnSession(IReadOnlyDictionary<string, StepReply> replies, string what)
    {
        var ids = replies.Values.Select(r => Convert.ToHexStringLower(r.SessionId.Span)).Distinct().ToList();
        if (ids.Count != 1) throw new CoordinatorException(StatusCode.Aborted, $"{what}: the parties derived different session ids");
        return replies.Values.First().SessionId.ToByteArray();
    }

    private Dictionary<string, List<ByteString>> Route(IReadOnlyDictionary<string, StepReply> replies, IReadOnlyList<NodeEntry> parties, string what,
        Action<string, byte[]>? hold)
    {
        var inbound = new Dictionary<string, List<ByteString>>();
        foreach (var (sender, reply) in replies)
            foreach (var bytes in reply.Envelopes)
            {
                Envelope header;
                try { header = Envelope.Decode(bytes.Span); }
                catch (EnvelopeException e) { throw new CoordinatorException(StatusCode.Aborted, $"{what}: '{sender}' sent a malformed envelope: {e.Message}"); }
                if (header.Sender == sender && hold is not null && !parties.Any(p => p.Name == header.Recipient))
                {
                    hold(header.Recipient, bytes.ToByteArray());
                    continue;
                }
                if (header.Sender != sender || !parties.Any(p => p.Name == header.Recipient))
                    throw new CoordinatorException(StatusCode.Aborted, $"{what}: '{sender}' sent an envelope from '{header.Sender}' to '{header.Recipient}'");
                var relayed = RelayFilter is null ? bytes : ByteString.CopyFrom(RelayFilter(bytes.ToByteArray()));
                if (!inbound.TryGetValue(header.Recipient, out var list)) inbound[header.Recipient] = list = [];
                list.Add(relayed);
            }
        return inbound;
    }

    public async Task AbortAll(IReadOnlyList<NodeEntry> parties, byte[] sessionId, string what)
    {
        var req = new AbortRequest { SessionId = ByteString.CopyFrom(sessionId), Reason = what + " aborted" };
        await Task.WhenAll(parties.Select(async p =>
        {
            try { await clients.For(p).AbortAsync(req, deadline: DateTime.UtcNow.AddSeconds(3)); }
            catch (RpcException) { }
        }));
    }
}
