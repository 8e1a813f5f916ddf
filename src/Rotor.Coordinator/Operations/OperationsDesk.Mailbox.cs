using Google.Protobuf;
using Grpc.Core;
using Rotor.Coordinator.Audit;
using Rotor.Rpc.Node;
using Rotor.Rpc.NodeOps;

namespace Rotor.Coordinator.Operations;

/// <summary>Where the repairs a failed mailbox delivery needs stand: every one done, some waiting for approval, or some failed or expired.</summary>
public enum RepairState { Done, Waiting, Closed }

/// <summary>
/// The requests the coordinator files for the operators' approval of work it would otherwise do by itself (the request
/// desk): repairs a member whose mail failed its checks needs, and automatic backups after a commit.
/// </summary>
public interface IRepairRequests
{
    /// <summary>Null when none was filed for this mail.</summary>
    RepairState? State(MailboxEntry mail);

    /// <summary>Files a repair request (awaiting approval) for each wallet of the mail that has none open or done.</summary>
    Task FileAsync(MailboxEntry mail);

    /// <summary>Files the request (awaiting approval) for a quorum's automatic backup of one new member after a commit.</summary>
    Task FileBackupAsync(ReshareOperation op, string node, string recipient);
}

public sealed partial class OperationsDesk
{
    /// <summary>Set by the request desk: a member whose mail failed its checks is repaired by approved requests, not directly.</summary>
    public IRepairRequests? RepairRequests { get; set; }

    /// <summary>What the engine needs for an operation's run: who may be offline, when the window closes, and where held envelopes go.</summary>
    private ReshareOptions OptionsFor(ReshareOperation op) => new(op.AllowOffline, op.Window?.End, (eventId, node, envelopes) =>
    {
        var held = new HeldEnvelopes();
        held.Envelopes.AddRange(envelopes.Select(ByteString.CopyFrom));
        store.AddMail(op.Id, eventId, node, op.Wallets.Select(w => w.Wallet).ToList(), op.Wallets.Max(w => w.Epoch) + 1, Now, held.ToByteArray());
    });

    /// <summary>True while a node has mail to receive: its settlement (which would erase its old epoch) waits for the delivery.</summary>
    public bool HoldsSettlement(string node) =>
        store.Mail(node, waitingOnly: true).Any(m => Registry.FindEvent(m.EventId)?.Status is EventStatus.Committed or EventStatus.Running);

    /// <summary>Members with shares waiting, per quorum (or all).</summary>
    public IReadOnlyList<(MailboxEntry Mail, string Quorum)> Waiting(string? quorum) =>
        store.Mail(waitingOnly: true)
            .Select(m => (Mail: m, Quorum: store.Find(m.Operation)?.Quorum ?? ""))
            .Where(x => quorum is null || x.Quorum == quorum)
            .Where(x => Registry.FindEvent(x.Mail.EventId)?.Status != EventStatus.Failed)
            .ToList();

    /// <summary>
    /// Delivers waiting mail to members that answer again: the member verifies its sub-shares against the committed
    /// transcript and activates its new shards; when a check fails it keeps nothing and is repaired from the others.
    /// Mail of an event that did not commit is voided.
    /// </summary>
    /// <remarks>Each delivery runs under its quorum's lock (skipped this heartbeat when the quorum is busy) and in its own
    /// try/catch: one member's failure never stops the others.</remarks>
    private async Task DeliverMailAsync()
    {
        foreach (var mail in store.Mail(waitingOnly: true))
        {
            var ev = Registry.FindEvent(mail.EventId);
            if (ev is null || ev.Status == EventStatus.Failed)
            {
                store.SetMailStatus(mail.Id, StoreStatus.Void);
                continue;
            }
            if (ev.Status != EventStatus.Committed) continue;
            var quorum = store.Find(mail.Operation)?.Quorum ?? ev.Quorum;
            if (engine.Locks.Holder(quorum) is not null) continue;
            try { await engine.Locks.RunAsync(quorum, $"mailbox catch-up of '{mail.Node}'", () => DeliverAsync(mail, ev, quorum), TimeSpan.Zero); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Console.Error.WriteLine($"mailbox: delivery to '{mail.Node}' (event {mail.EventId}): {e.Message}");
            }
        }
    }

    private async Task DeliverAsync(MailboxEntry mail, EventEntry ev, string quorum)
    {
        {
            if (Registry.FindNode(mail.Node) is not { } node || !(await engine.Nodes.PollAsync(node)).Online) return;
            // Mail that failed its checks waits for the repair the operators are asked to approve.
            if (RepairRequests?.State(mail) is { } filed)
            {
                if (filed == RepairState.Done) store.SetMailStatus(mail.Id, StoreStatus.Repaired);
                else if (filed == RepairState.Closed) await RepairRequests.FileAsync(mail);
                return;
            }
            var request = new CatchUpRequest { Certificate = CommitRequest.Parser.ParseFrom(ev.Certificate) };
            request.Envelopes.AddRange(HeldEnvelopes.Parser.ParseFrom(mail.Payload).Envelopes);
            CatchUpReply reply;
            try { reply = await NodeOps(node).CatchUpAsync(request, deadline: DateTime.UtcNow.AddMinutes(2)); }
            catch (RpcException) { return; }
            if (reply.Activated)
            {
                if (Environment.GetEnvironmentVariable("ROTOR_TEST_CRASH_AT") == "coordinator-after-delivering")
                    Environment.FailFast("ROTOR_TEST_CRASH_AT: coordinator-after-delivering");
                store.SetMailStatus(mail.Id, StoreStatus.Delivered);
                Record(AuditKinds.MailboxDelivered, quorum, mail.Node, new { event_id = ev.Id, operation = mail.Operation, wallets = mail.Wallets, epoch = mail.NewEpoch, activated = true },
                    OperatorContext.Coordinator);
                return;
            }
            Record(AuditKinds.MailboxDelivered, quorum, mail.Node, new { event_id = ev.Id, operation = mail.Operation, activated = false, problem = reply.Problem, then = "repair" },
                OperatorContext.Coordinator);
            if (RepairRequests is not null)
            {
                // The nodes repair only with the operators' approval: ask for it, and wait.
                await RepairRequests.FileAsync(mail);
                return;
            }
            var repaired = true;
            foreach (var wallet in mail.Wallets)
            {
                try { await RepairAsync(mail.Node, wallet, [], OperatorContext.Coordinator); }
                catch (CoordinatorException) { repaired = false; }
            }
            if (repaired) store.SetMailStatus(mail.Id, StoreStatus.Repaired);
        }
    }
}
