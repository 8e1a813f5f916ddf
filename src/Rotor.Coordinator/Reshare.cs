using System.Security.Cryptography;
using System.Text.Json;
using Rotor.Crypto.Envelopes;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Protocols;
using Rotor.Rpc;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

using static Rotor.Coordinator.NodeReplies;

namespace Rotor.Coordinator;

public sealed partial class Engine
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Node, string Event), byte> committing = new();

    /// <summary>Test-only: ROTOR_TEST_CRASH_AT=coordinator-before-commit or coordinator-after-commit kills the coordinator there.</summary>
    private static readonly string? CrashAt = Environment.GetEnvironmentVariable("ROTOR_TEST_CRASH_AT");

    /// <summary>
    /// Reshares wallets of a quorum to a new epoch (refresh when members and threshold stay; restructure otherwise)
    /// with an atomic commit: every new holder stores its new shard as pending and returns a signed confirmation
    /// over the transcript; only when all have confirmed does the coordinator record the commit certificate and tell
    /// the nodes to activate. Until then the old epoch stays active and signing goes on; a failure before the commit
    /// discards every pending shard. Refused up front, naming them, when required nodes are offline.
    /// <paramref name="options"/> (the operations desk): new members that may be offline, whose envelopes are held
    /// for them, and a time after which the reshare must not commit.
    /// </summary>
    /// <remarks>Runs under the quorum's lock (<see cref="Locks"/>), and reads the quorum, wallets and epochs under it;
    /// with <see cref="ReshareOptions.Expected"/> it refuses, naming what moved, when they no longer match the plan.</remarks>
    public async Task<EventEntry> ReshareAsync(string quorumName, IReadOnlyList<string> walletIds, string reason, IReadOnlyList<string> memberNames, int threshold,
        ReshareOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new CoordinatorException(StatusCode.InvalidArgument, "a reshare needs a reason (--reason)");
        RequireQuorum(quorumName);
        return await Locks.RunAsync(quorumName, $"reshare of quorum '{quorumName}'", () => ReshareLockedAsync(quorumName, walletIds, reason, memberNames, threshold, options));
    }

    private async Task<EventEntry> ReshareLockedAsync(string quorumName, IReadOnlyList<string> walletIds, string reason, IReadOnlyList<string> memberNames, int threshold,
        ReshareOptions? options)
    {
        var quorum = RequireQuorum(quorumName);
        if (options?.Expected?.Drift(registry, quorumName) is { Count: > 0 } moved)
            throw new CoordinatorException(StatusCode.FailedPrecondition,
                $"reshare of quorum '{quorumName}' refused, nothing changed: the quorum moved since it was planned: {string.Join("; ", moved)}");
        var all = registry.ListWallets(quorum.Name);
        var wallets = walletIds.Count == 0 ? all.ToList() : walletIds.Select(RequireWallet).ToList();
        foreach (var w in wallets)
            if (w.Quorum != quorum.Name) throw new CoordinatorException(StatusCode.InvalidArgument, $"wallet '{w.Id}' belongs to quorum '{w.Quorum}', not '{quorum.Name}'");
        if (wallets.Count == 0) throw new CoordinatorException(StatusCode.FailedPrecondition, $"quorum '{quorum.Name}' has no wallets to reshare");
        var newMembers = memberNames.Count == 0 ? quorum.Members : memberNames.Distinct().ToList();
        var newThreshold = threshold == 0 ? quorum.Threshold : threshold;
        if (newThreshold < 1 || newThreshold > newMembers.Count)
            throw new CoordinatorException(StatusCode.InvalidArgument, $"threshold {newThreshold} is outside 1..{newMembers.Count}");
        var restructure = newThreshold != quorum.Threshold || !newMembers.OrderBy(m => m).SequenceEqual(quorum.Members.OrderBy(m => m));
        if (restructure && wallets.Count != all.Count)
            throw new CoordinatorException(StatusCode.InvalidArgument, "changing members or threshold reshares every wallet of the quorum: leave out --wallets");
        var epochs = wallets.Select(w => registry.FindEpoch(w.Id, w.Epoch)!).ToList();
        var oldMembers = epochs[0].Members;
        var oldThreshold = epochs[0].Threshold;
        if (epochs.Any(e => e.Threshold != oldThreshold || !e.Members.SequenceEqual(oldMembers)))
            throw new CoordinatorException(StatusCode.FailedPrecondition, "the wallets are held by different member sets; reshare them separately");
        if (oldThreshold != quorum.Threshold || !oldMembers.Order().SequenceEqual(quorum.Members.Order()))
            throw new CoordinatorException(StatusCode.FailedPrecondition,
                $"quorum '{quorum.Name}' is {quorum.Threshold}-of-[{string.Join(", ", quorum.Members)}] but its wallets are held {oldThreshold}-of-[{string.Join(", ", oldMembers)}]; nothing changed");
        var newNodes = newMembers.Select(RequireNode).ToList();
        var oldNodes = oldMembers.Select(RequireNode).ToList();

        if (!await reshareGate.WaitAsync(TimeSpan.FromSeconds(1)))
            throw new CoordinatorException(StatusCode.FailedPrecondition, "another reshare is running; try again when it has finished");
        try
        {
            // Refuse up front when the reshare cannot complete: every new holder and a threshold of old holders must be online.
            var polled = (await Task.WhenAll(oldNodes.Concat(newNodes).DistinctBy(n => n.Name).Select(async n => (n, await PollAsync(n))))).ToDictionary(p => p.n.Name, p => p.Item2.Online);
            var absent = newNodes.Where(n => !polled[n.Name] && options?.AllowOffline.Contains(n.Name) == true).ToList();
            var offlineNew = newNodes.Where(n => !polled[n.Name] && !absent.Contains(n)).Select(n => n.Name).ToList();
            var onlineOld = oldNodes.Where(n => polled[n.Name]).ToList();
            if (newNodes.Count - absent.Count < newThreshold)
                throw new CoordinatorException(StatusCode.Unavailable, $"reshare of quorum '{quorum.Name}' cannot complete: fewer than the new threshold {newThreshold} of new members online");
            if (offlineNew.Count > 0 || onlineOld.Count < oldThreshold)
            {
                var offline = offlineNew.Concat(oldNodes.Where(n => !polled[n.Name]).Select(n => n.Name)).Distinct();
                throw new CoordinatorException(StatusCode.Unavailable,
                    $"reshare of quorum '{quorum.Name}' cannot complete: {string.Join(", ", offline)} offline (needs every new member and {oldThreshold} of the old members online)");
            }
            var dealers = onlineOld.Take(oldThreshold).ToList();
            var parties = dealers.Concat(newNodes.Except(absent)).DistinctBy(n => n.Name).ToList();
            var ev = new EventEntry($"ev-{DateTimeOffset.UtcNow:yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
                quorum.Name, reason, EventStatus.Running, wallets.Select(w => (w.Id, w.Epoch)).ToList(), oldMembers, newMembers,
                oldThreshold, newThreshold, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null);
            registry.AddEvent(ev);
            Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.ReshareStatus, quorum.Name, ev.Id, new
            {
                status = EventStatus.Running, reason, wallets = ev.Wallets.Select(w => new { wallet = w.Wallet, epoch = w.OldEpoch }),
                dealers = dealers.Select(d => d.Name), new_members = newMembers, new_threshold = newThreshold, absent = absent.Select(a => a.Name),
            });

            var start = new StartRequest { Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)), Reshare = new ReshareParams { EventId = ev.Id, NewThreshold = (uint)newThreshold } };
            start.Reshare.Wallets.AddRange(wallets.Select((w, i) => ToKeyPackage(w, epochs[i])));
            start.Reshare.Dealers.AddRange(dealers.Select(ToParty));
            start.Reshare.NewMembers.AddRange(newNodes.Select(ToParty));
            start.Reshare.Absent.AddRange(absent.Select(a => a.Name));
            // Kept with its approval (settlement rebuilds the event from it, and a completed event's certificate carries it).
            registry.SetEventStart(ev.Id, Governance.ActionContext.Attach(start).ToByteArray());
            var held = absent.ToDictionary(a => a.Name, _ => new List<byte[]>());

            CommitRequest certificate;
            List<WalletEpoch> newEpochs;
            try
            {
                byte[]? sessionId = null;
                var outputs = await Driver.RunAsync(parties, start, $"reshare {ev.Id}", wallets.Count, (_, replies) => sessionId ??= replies.Values.First().SessionId.ToByteArray(),
                    hold: absent.Count == 0 ? null : (to, envelope) => (held.TryGetValue(to, out var list) ? list
                        : throw new CoordinatorException(StatusCode.Aborted, $"reshare {ev.Id}: an envelope for '{to}', who is not a member of this reshare")).Add(envelope));
                var results = newNodes.Except(absent).ToDictionary(n => n.Name, n => Decode<ReshareOutput>(outputs[n.Name], n.Name));
                (certificate, newEpochs) = BuildCertificate(ev.Id, start, sessionId!, wallets, newNodes, newThreshold, results);
                if (options?.CommitBy is { } by && DateTimeOffset.UtcNow >= by)
                    throw new CoordinatorException(StatusCode.DeadlineExceeded, $"the maintenance window closed at {by:u} before the commit");
                foreach (var (to, envelopes) in held) options!.Hold(ev.Id, to, envelopes);
                if (CrashAt == "coordinator-before-commit") Environment.FailFast("ROTOR_TEST_CRASH_AT: coordinator-before-commit");
            }
            catch (Exception e) when (e is CoordinatorException or RpcException or ProtocolException or ArgumentException)
            {
                registry.FailEvent(ev.Id, e.Message);
                Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.ReshareStatus, quorum.Name, ev.Id, new { status = EventStatus.Failed, error = e.Message });
                discardProofs.TryRemove(ev.Id, out _);
                await SettleAsync(parties.Concat(oldNodes).DistinctBy(n => n.Name).ToList());
                throw new CoordinatorException(e is CoordinatorException ce ? ce.Code : StatusCode.Aborted,
                    $"{e.Message} (reshare {ev.Id} did not commit: every wallet stays at its current epoch)");
            }

            // The commit point: from here on the new epochs are the wallets' epochs. The registry checks, in the same
            // transaction, that the wallets are still at the old epochs and the quorum still has the old members.
            try { registry.CommitEvent(ev.Id, certificate.ToByteArray(), newEpochs, quorum.Name, newThreshold, newMembers); }
            catch (InvalidOperationException e)
            {
                registry.FailEvent(ev.Id, e.Message);
                Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.ReshareStatus, quorum.Name, ev.Id, new { status = EventStatus.Failed, error = e.Message });
                await SettleAsync(parties.Concat(oldNodes).DistinctBy(n => n.Name).ToList());
                throw new CoordinatorException(StatusCode.FailedPrecondition, $"{e.Message} (reshare {ev.Id} did not commit: every wallet stays at its current epoch)");
            }
            ForgetPresigned(wallets.Select(w => w.Id).ToHashSet());
            Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.ReshareStatus, quorum.Name, ev.Id, new
            {
                status = EventStatus.Committed, wallets = newEpochs.Select(e => new { wallet = e.WalletId, epoch = e.Epoch }),
                confirmed_by = certificate.Certificate.Select(c => c.Node).Distinct(), absent = absent.Select(a => a.Name),
            });
            if (CrashAt == "coordinator-after-commit") Environment.FailFast("ROTOR_TEST_CRASH_AT: coordinator-after-commit");
            await SendCommitAsync(parties.Concat(oldNodes).DistinctBy(n => n.Name).ToList(), ev.Id, certificate);
            return registry.FindEvent(ev.Id)!;
        }
        finally { reshareGate.Release(); }
    }

    /// <summary>
    /// Checks the new holders' outputs (one public package per wallet, all alike, the group key kept, members' identity keys
    /// the registry's) and assembles and verifies the commit certificate, exactly as the nodes will verify it.
    /// </summary>
    private (CommitRequest Certificate, List<WalletEpoch> NewEpochs) BuildCertificate(string eventId, StartRequest start, byte[] sessionId,
        IReadOnlyList<WalletEntry> wallets, IReadOnlyList<NodeEntry> newNodes, int newThreshold, Dictionary<string, ReshareOutput> results)
    {
        var packages = AgreedPackages(results.ToDictionary(r => r.Key, r => r.Value.Keys), $"reshare {eventId}");
        var newEpochs = Batches.Map(wallets, w => CheckNewEpoch(w, packages, newNodes, newThreshold, eventId)).ToList();
        var certificate = new CommitRequest { EventId = eventId, SessionId = ByteString.CopyFrom(sessionId), Start = start };
        foreach (var (node, r) in results)
        {
            if (r.Confirmations.Count == 0) throw new CoordinatorException(StatusCode.Aborted, $"reshare {eventId}: '{node}' sent no confirmation");
            certificate.Certificate.AddRange(r.Confirmations.Select(c => new Confirmation { Node = node, Scheme = c.Key, Signed = ByteString.CopyFrom(Convert.FromHexString(c.Value)) }));
        }
        // Kept for older nodes only: no node reads it (it is outside the verified certificate).
        certificate.Wallets.AddRange(newEpochs.Select(e => new Rotor.Rpc.Node.WalletEpoch { KeyId = e.WalletId, Epoch = e.Epoch }));
        // The coordinator checks the certificate exactly as the nodes will before it records the commit.
        ReshareSetup.VerifyCertificate(certificate, party => new IdentityKeys(Convert.FromHexString(RequireNode(party.Name).SigningKey), Convert.FromHexString(RequireNode(party.Name).AgreementKey)));
        return (certificate, newEpochs);
    }

    internal static KeyPackage ToKeyPackage(WalletEntry w, WalletEpoch e)
    {
        var p = new KeyPackage { KeyId = w.Id, Scheme = w.Scheme, Epoch = e.Epoch, Threshold = (uint)e.Threshold, GroupPublicKey = ByteString.CopyFrom(Convert.FromHexString(w.PublicKey)) };
        foreach (var (index, share) in e.VerifyingShares) p.VerifyingShares.Add(index, ByteString.CopyFrom(Convert.FromHexString(share)));
        if (e.MemberKeys is { } keys)
            foreach (var (index, key) in keys) p.MemberKeys.Add(index, ByteString.CopyFrom(Convert.FromHexString(key)));
        if (w.ChainCode is { } cc) p.ChainCode = ByteString.CopyFrom(Convert.FromHexString(cc));
        if (w.InternalKey is { } ik) p.InternalKey = ByteString.CopyFrom(Convert.FromHexString(ik));
        return p;
    }

    /// <summary>Checks a wallet's new epoch as the new holders reported it: same group key, next epoch, new members and threshold.</summary>
    private WalletEpoch CheckNewEpoch(WalletEntry w, Dictionary<string, KeyPackageSummary> packages, IReadOnlyList<NodeEntry> newNodes, int newThreshold, string eventId)
    {
        if (!packages.TryGetValue(w.Id, out var s)) throw new CoordinatorException(StatusCode.Aborted, $"reshare {eventId}: no new package for wallet '{w.Id}'");
        if (!string.Equals(s.GroupPublicKey, w.PublicKey, StringComparison.OrdinalIgnoreCase))
            throw new CoordinatorException(StatusCode.Aborted, $"reshare {eventId}: wallet '{w.Id}' would change its public key");
        if (!string.Equals(s.ChainCode ?? "", w.ChainCode ?? "", StringComparison.OrdinalIgnoreCase) || !string.Equals(s.InternalKey ?? "", w.InternalKey ?? "", StringComparison.OrdinalIgnoreCase))
            throw new CoordinatorException(StatusCode.Aborted, $"reshare {eventId}: wallet '{w.Id}' would change its chain code (every derived address would change)");
        if (s.Epoch != w.Epoch + 1 || s.Threshold != newThreshold || !s.VerifyingShares.Keys.Order().SequenceEqual(newNodes.Select(n => n.Index).Order()))
            throw new CoordinatorException(StatusCode.Aborted, $"reshare {eventId}: wallet '{w.Id}' came back at epoch {s.Epoch}, threshold {s.Threshold}, {s.VerifyingShares.Count} members");
        foreach (var n in newNodes)
            if (!s.MemberKeys.TryGetValue(n.Index, out var k) || !string.Equals(k, n.SigningKey, StringComparison.OrdinalIgnoreCase))
                throw new CoordinatorException(StatusCode.Aborted, $"reshare {eventId}: wallet '{w.Id}' came back without '{n.Name}''s identity key for identifier {n.Index}");
        var epoch = new WalletEpoch(w.Id, s.Epoch, s.Threshold, newNodes.Select(n => n.Name).ToList(), s.VerifyingShares, eventId, s.MemberKeys);
        PublicPackage(w, epoch);
        return epoch;
    }

    // ------------------------------------------------------------------ settling

    /// <summary>True for a node whose settlement must wait (the operations desk: its mailbox is to be delivered first).</summary>
    public Func<string, bool>? HoldSettlement { get; set; }

    /// <summary>
    /// Brings nodes in line with the registry: a node holding pending shards of a committed event gets the
    /// event's commit certificate (it activates them and erases the old epoch); of a failed event, a discard;
    /// a node still holding an epoch older than a committed one (e.g. a member that left) gets the certificate
    /// too, to erase it. Events still running are left alone. Unreachable nodes are settled on a later pass.
    /// </summary>
    public async Task SettleAsync(IReadOnlyList<NodeEntry> nodes)
    {
        var wallets = registry.ListWallets().ToDictionary(w => w.Id);
        await Task.WhenAll(nodes.Select(async n =>
        {
            try
            {
                var status = await clients.For(n).GetStatusAsync(new GetStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                await SettleNodeAsync(n, status, wallets);
            }
            catch (RpcException) { }
        }));
    }

    /// <summary>
    /// Right after the commit point: sends the commit certificate to every participant and old member at once (no
    /// status round trip first; a commit is idempotent on the node). A node the operations desk holds (its mailbox
    /// comes first), one already being sent this commit, or one that fails is left to the heartbeat's settlement.
    /// </summary>
    private async Task SendCommitAsync(IReadOnlyList<NodeEntry> nodes, string eventId, CommitRequest certificate)
    {
        await Task.WhenAll(nodes.Select(async n =>
        {
            if (HoldSettlement?.Invoke(n.Name) == true || !committing.TryAdd((n.Name, eventId), 0)) return;
            try { await clients.For(n).CommitAsync(certificate, deadline: DateTime.UtcNow.AddMinutes(10)); }
            catch (RpcException) { }
            finally { committing.TryRemove((n.Name, eventId), out _); }
        }));
    }

    /// <summary>Settles one node given the status it just reported.</summary>
    public async Task SettleNodeAsync(NodeEntry node, NodeStatus status, IReadOnlyDictionary<string, WalletEntry> wallets)
    {
        if (HoldSettlement?.Invoke(node.Name) == true) return;
        var client = clients.For(node);
        var toCommit = new HashSet<string>();
        var toDiscard = new HashSet<string>();
        var supersede = new Dictionary<string, byte[]>();
        var events = new Dictionary<string, EventEntry?>();
        var committedBy = new Dictionary<(string, ulong), string?>();
        EventEntry? Event(string id) => events.TryGetValue(id, out var e) ? e : events[id] = registry.FindEvent(id);
        foreach (var s in status.Shards)
        {
            if (s.State == "pending")
            {
                var ev = Event(s.EventId);
                // A later committed event took the wallet to this epoch or beyond: its certificate supersedes the pending shard.
                if (ev?.Status != EventStatus.Committed && wallets.TryGetValue(s.KeyId, out var sw) && sw.Epoch >= s.Epoch
                    && CommittedBy(sw) is { } later && later != s.EventId && Event(later)?.Certificate is { } laterCert)
                    supersede[s.EventId] = laterCert;
                else if (ev is null || ev.Status == EventStatus.Failed) toDiscard.Add(s.EventId);
                else if (ev.Status == EventStatus.Committed) toCommit.Add(ev.Id);
            }
            else if (wallets.TryGetValue(s.KeyId, out var w) && s.Epoch < w.Epoch && CommittedBy(w) is { } evId)
                toCommit.Add(evId);
        }
        string? CommittedBy(WalletEntry w) => committedBy.TryGetValue((w.Id, w.Epoch), out var id) ? id : committedBy[(w.Id, w.Epoch)] = registry.FindEpoch(w.Id, w.Epoch)?.EventId;
        foreach (var (id, cert) in supersede)
            await client.DiscardAsync(new DiscardRequest { EventId = id, Reason = "superseded", SupersededBy = CommitRequest.Parser.ParseFrom(cert) },
                deadline: DateTime.UtcNow.AddSeconds(30));
        foreach (var id in toDiscard.Except(supersede.Keys))
        {
            // A node discards only with proof that the event can never commit; without one its pending shards stay.
            var proof = await DiscardProofAsync(id, Event(id));
            if (proof is not null) await client.DiscardAsync(proof, deadline: DateTime.UtcNow.AddSeconds(10));
        }
        foreach (var id in toCommit)
        {
            // A commit already on its way to this node is not sent again (a big batch takes longer than a heartbeat).
            if (!committing.TryAdd((node.Name, id), 0)) continue;
            try
            {
                var cert = CommitRequest.Parser.ParseFrom(Event(id)!.Certificate!);
                await client.CommitAsync(cert, deadline: DateTime.UtcNow.AddMinutes(10));
            }
            finally { committing.TryRemove((node.Name, id), out _); }
        }
    }

    /// <summary>Proofs that failed events can never commit, by event id (renunciations are signed once and do not change).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DiscardRequest> discardProofs = new();

    /// <summary>
    /// The proof that lets nodes discard their pending shards of a failed event: the new members that did not confirm it
    /// are asked to renounce it (each records that it never will, and signs so); once the renunciations rule out any
    /// commit certificate, the discard carries them with the start request. When instead every required member had
    /// confirmed (the coordinator stopped between their confirmations and its commit point), their kept outputs make a
    /// valid certificate and the event is completed: committed and sent to the nodes, so nothing is lost either way.
    /// Null while neither is possible (members offline): the pending shards stay, and a later heartbeat tries again.
    /// </summary>
    private async Task<DiscardRequest?> DiscardProofAsync(string eventId, EventEntry? ev)
    {
        if (discardProofs.TryGetValue(eventId, out var known)) return known;
        if (ev is null || registry.EventStart(eventId) is not { } bytes) return null;
        var start = StartRequest.Parser.ParseFrom(bytes);
        var p = start.Reshare;
        var renunciations = new List<Renunciation>();
        var confirmed = new Dictionary<string, ReshareOutput>();
        await Task.WhenAll(p.NewMembers.Select(async m =>
        {
            if (registry.FindNode(m.Name) is not { } node) return;
            try
            {
                var reply = await clients.For(node).RenounceAsync(new RenounceRequest { Start = start }, deadline: DateTime.UtcNow.AddSeconds(10));
                lock (confirmed)
                {
                    if (reply.Renunciation is { } r) renunciations.Add(r);
                    else if (!reply.ConfirmedOutput.IsEmpty) confirmed[m.Name] = Decode<ReshareOutput>(reply.ConfirmedOutput.ToByteArray(), m.Name);
                }
            }
            catch (RpcException) { }
        }));
        if (ReshareSetup.CertificateImpossible(p, renunciations.Select(r => r.Node).ToList()))
        {
            var proof = new DiscardRequest { EventId = eventId, Reason = ev.Error ?? "failed", Start = start };
            proof.Renunciations.AddRange(renunciations.OrderBy(r => r.Node, StringComparer.Ordinal));
            return discardProofs[eventId] = proof;
        }
        if (renunciations.Count == 0 && p.NewMembers.All(m => confirmed.ContainsKey(m.Name) || p.Absent.Contains(m.Name)))
            await CompleteAsync(ev, start, confirmed);
        return null;
    }

    /// <summary>Commits a failed event from the confirmations its members kept (see <see cref="DiscardProofAsync"/>).</summary>
    private async Task CompleteAsync(EventEntry ev, StartRequest start, Dictionary<string, ReshareOutput> confirmed)
    {
        if (!await reshareGate.WaitAsync(TimeSpan.FromSeconds(1))) return;
        try
        {
            var wallets = ev.Wallets.Select(w => RequireWallet(w.Wallet)).ToList();
            if (wallets.Zip(ev.Wallets).Any(x => x.First.Epoch != x.Second.OldEpoch)) return;
            var newNodes = start.Reshare.NewMembers.Select(m => RequireNode(m.Name)).ToList();
            var threshold = (int)start.Reshare.NewThreshold;
            var (certificate, newEpochs) = BuildCertificate(ev.Id, start, [], wallets, newNodes, threshold, confirmed);
            registry.CommitEvent(ev.Id, certificate.ToByteArray(), newEpochs, ev.Quorum, threshold, newNodes.Select(n => n.Name).ToList(), completing: true);
            ForgetPresigned(wallets.Select(w => w.Id).ToHashSet());
            Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.ReshareStatus, ev.Quorum, ev.Id, new
            {
                status = EventStatus.Committed, completed_after = ev.Error, wallets = newEpochs.Select(e => new { wallet = e.WalletId, epoch = e.Epoch }),
                confirmed_by = confirmed.Keys,
            });
            var nodes = start.Reshare.NewMembers.Select(m => m.Name).Concat(ev.OldMembers).Distinct().Select(RequireNode).ToList();
            await SendCommitAsync(nodes, ev.Id, certificate);
        }
        catch (Exception e) when (e is CoordinatorException or ProtocolException or ArgumentException or InvalidOperationException) { }
        finally { reshareGate.Release(); }
    }

    /// <summary>After a restart: an event left running (the coordinator died before its commit) has failed.</summary>
    public void FailInterruptedEvents()
    {
        foreach (var ev in registry.ListEvents(EventStatus.Running))
            if (registry.FailEvent(ev.Id, "the coordinator restarted before the commit"))
                Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.ReshareStatus, ev.Quorum, ev.Id, new { status = EventStatus.Failed, error = "the coordinator restarted before the commit" });
    }
}
