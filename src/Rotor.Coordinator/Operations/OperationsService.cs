using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto;
using Rotor.Rpc.Backups;
using Rotor.Protocols;
using Rotor.Rpc.Operations;

namespace Rotor.Coordinator.Operations;

/// <summary>The operations API (admin token checked before any method runs, like the Coordinator service).</summary>
public sealed class OperationsService(OperationsDesk desk) : Rpc.Operations.Operations.OperationsBase
{
    public override Task<ReshareOperationRecord> PlanReshare(ReshareSpec request, ServerCallContext context) =>
        Guard(async () => ToRecord(await desk.PlanAsync(ToRequest(request)), "plan"));

    public override Task<ReshareOperationRecord> StartReshare(ReshareSpec request, ServerCallContext context) =>
        Guard(async () => ToRecord(await desk.ViewOf(await desk.StartAsync(ToRequest(request)))));

    public override Task<ReshareOperationRecord> CancelReshare(OperationRef request, ServerCallContext context) =>
        Guard(async () => ToRecord(await desk.ViewOf(desk.Cancel(request.Id))));

    public override Task<ReshareOperationRecord> ShowReshare(OperationRef request, ServerCallContext context) =>
        Guard(async () => ToRecord(await desk.ViewOf(desk.Require(request.Id))));

    public override Task<ReshareOperationList> ListReshares(ListResharesRequest request, ServerCallContext context) => Guard(() =>
    {
        var list = new ReshareOperationList();
        list.Operations.AddRange(desk.Store.List(request.Quorum.Length > 0 ? request.Quorum : null)
            .Select(o => ToRecord(new OperationView(o, [], new PreflightResult([], []), []))));
        return Task.FromResult(list);
    });

    public override Task<PolicyRecord> SetPolicy(PolicySpec request, ServerCallContext context) =>
        Guard(() => Task.FromResult(ToRecord(desk.SetPolicy(request.Quorum, request.Every, request.Window))));

    public override Task<PolicyList> ShowPolicies(PolicyQuery request, ServerCallContext context) => Guard(() =>
    {
        var list = new PolicyList();
        if (request.Quorum.Length > 0 && desk.Engine.Registry.FindQuorum(request.Quorum) is null)
            throw new CoordinatorException(StatusCode.NotFound, $"no quorum named '{request.Quorum}'");
        list.Policies.AddRange(desk.Policies(request.Quorum.Length > 0 ? request.Quorum : null).Select(ToRecord));
        return Task.FromResult(list);
    });

    public override Task<PolicyList> ClearPolicy(PolicyQuery request, ServerCallContext context) => Guard(() =>
    {
        desk.ClearPolicy(request.Quorum);
        var list = new PolicyList();
        list.Policies.AddRange(desk.Policies().Select(ToRecord));
        return Task.FromResult(list);
    });

    public override Task<QuorumOptions> SetQuorumOptions(QuorumOptions request, ServerCallContext context) => Guard(() =>
    {
        var recipient = desk.SetAutoBackup(request.Quorum, request.Clear || request.AutoBackupRecipient.Length == 0 ? null : request.AutoBackupRecipient);
        return Task.FromResult(new QuorumOptions { Quorum = request.Quorum, AutoBackupRecipient = recipient ?? "" });
    });

    public override Task<LogEntry> RecordConsoleEvent(ConsoleEvent request, ServerCallContext context) => Guard(() =>
    {
        if (request.Kind is not ("sign-in" or "sign-out")) throw new ArgumentException($"console event '{request.Kind}' is not sign-in or sign-out");
        var name = Rotor.Coordinator.Audit.OperatorContext.Clean(request.Operator) ?? throw new ArgumentException("a console event names no operator");
        if (request.Kind == "sign-in")
        {
            if (request.Key.Length != 32 || request.Signature.Length != 64 || request.Challenge.Length is < 16 or > 256)
                throw new ArgumentException("a console sign-in needs a 32-byte key, a 64-byte signature and a 16..256-byte challenge");
            var key = NSec.Cryptography.PublicKey.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, request.Key.Span, NSec.Cryptography.KeyBlobFormat.RawPublicKey);
            if (!NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(key, request.Challenge.Span, request.Signature.Span))
                throw new ArgumentException("the console sign-in signature does not verify under the operator's key");
        }
        var e = desk.Audit.Append("console-" + request.Kind, name, null, null, new
        {
            key = Convert.ToHexStringLower(request.Key.Span), challenge = Convert.ToHexStringLower(request.Challenge.Span),
            signature = Convert.ToHexStringLower(request.Signature.Span),
        });
        return Task.FromResult(new LogEntry
        {
            Seq = e.Seq, Time = e.Time, Kind = e.Kind, Quorum = e.Quorum ?? "", Subject = e.Subject ?? "", Actor = e.Actor, Details = e.Details,
            Hash = Convert.ToHexStringLower(e.Hash), PrevHash = ByteString.CopyFrom(e.PrevHash), Signature = ByteString.CopyFrom(e.Signature),
        });
    });

    public override Task<LogEntries> ReadLog(LogQuery request, ServerCallContext context) => Guard(() =>
    {
        var reply = new LogEntries { PublicKey = Convert.ToHexStringLower(desk.Audit.PublicKey) };
        reply.Entries.AddRange(desk.Audit.Read(request.Quorum.Length > 0 ? request.Quorum : null).Select(e => new LogEntry
        {
            Seq = e.Seq, Time = e.Time, Kind = e.Kind, Quorum = e.Quorum ?? "", Subject = e.Subject ?? "", Actor = e.Actor, Details = e.Details,
            Hash = Convert.ToHexStringLower(e.Hash), PrevHash = ByteString.CopyFrom(e.PrevHash), Signature = ByteString.CopyFrom(e.Signature),
        }));
        if (desk.Audit.Head() is { } head)
        {
            reply.HeadSeq = head.Seq;
            reply.HeadHash = ByteString.CopyFrom(head.Hash);
            reply.HeadSignature = ByteString.CopyFrom(head.Signature);
        }
        return Task.FromResult(reply);
    });

    public override Task<WitnessStatements> WitnessLog(WitnessQuery request, ServerCallContext context) => Guard(async () =>
    {
        var reply = new WitnessStatements();
        foreach (var a in await desk.AttestAsync(request.Nonce.ToByteArray()))
        {
            var w = new NodeWitness { Node = a.Node.Name, Certificate = ByteString.CopyFrom(a.Node.Certificate), Problem = a.Problem ?? "" };
            if (a.Statement is not null) w.Statement = a.Statement;
            reply.Nodes.Add(w);
        }
        return reply;
    });

    public override Task<LogVerification> VerifyLog(LogQuery request, ServerCallContext context) => Guard(() =>
    {
        var v = desk.Audit.Verify();
        return Task.FromResult(new LogVerification
        {
            Intact = v.Intact, Entries = v.Entries, FirstBadSeq = v.FirstBadSeq ?? 0, Problem = v.Problem ?? "", HeadHash = v.HeadHash ?? "", PublicKey = v.PublicKey,
        });
    });

    public override Task<BackupRecord> CreateBackup(CreateBackupRequest request, ServerCallContext context) => Guard(() => CreateBackup(desk, request));

    /// <summary>Runs a backup request through the desk; the record carries the file.</summary>
    internal static async Task<BackupRecord> CreateBackup(OperationsDesk desk, CreateBackupRequest request)
    {
        var lockRequest = request.LockCase switch
        {
            CreateBackupRequest.LockOneofCase.Passphrase => new BackupLockRequest(new Rotor.Rpc.NodeOps.SealedSecret { Kind = request.Passphrase.Kind, Box = request.Passphrase.Box }, null),
            CreateBackupRequest.LockOneofCase.Recipient => new BackupLockRequest(null, Hex(request.Recipient, "--recipient")),
            _ => new BackupLockRequest(null, null),
        };
        var (entry, file) = await desk.CreateBackupAsync(request.Node, request.Wallets.ToList(), request.BackupId, lockRequest, request.KeepOnNode);
        var record = ToRecord(entry);
        record.File = ByteString.CopyFrom(file);
        return record;
    }

    public override Task<BackupVerdicts> VerifyBackup(VerifyBackupRequest request, ServerCallContext context) => Guard(() =>
    {
        var (file, verdicts, registered) = desk.VerifyBackup(request.File.Span, request.Authenticated, request.Node);
        var reply = new BackupVerdicts { BackupId = file.Id, Node = file.Node, RegisteredStatus = registered, Authenticated = request.Authenticated };
        reply.Shards.AddRange(verdicts.Select(v => new ShardVerdict
        {
            Wallet = v.Wallet, BackupEpoch = v.BackupEpoch, CurrentEpoch = v.CurrentEpoch ?? 0, Current = v.IsCurrent,
            Reason = v.Reason.Name(), Explanation = v.Explanation,
        }));
        return Task.FromResult(reply);
    });

    public override Task<RestoreReply> RestoreBackup(RestoreBackupRequest request, ServerCallContext context) => Guard(() => RestoreBackup(desk, request));

    /// <summary>Runs a restore request through the desk.</summary>
    internal static async Task<RestoreReply> RestoreBackup(OperationsDesk desk, RestoreBackupRequest request)
    {
        var r = await desk.RestoreBackupAsync(request.Node, request.File.ToByteArray(),
            new Rotor.Rpc.NodeOps.SealedSecret { Kind = request.Key.Kind, Box = request.Key.Box });
        var file = BackupFile.Parse(request.File.Span);
        var reply = new RestoreReply { BackupId = file.Id, Node = request.Node };
        reply.Restored.AddRange(r.Restored);
        reply.AlreadyHeld.AddRange(r.AlreadyHeld);
        return reply;
    }

    public override Task<BackupList> ListBackups(ListBackupsRequest request, ServerCallContext context) => Guard(() =>
    {
        var list = new BackupList();
        list.Backups.AddRange(desk.Store.ListBackups(request.Node.Length > 0 ? request.Node : null)
            .Where(b => request.Wallet.Length == 0 || b.Shards.Any(s => s.Wallet == request.Wallet)).Select(ToRecord));
        return Task.FromResult(list);
    });

    public override Task<RepairReply> Repair(RepairRequest request, ServerCallContext context) => Guard(async () =>
    {
        var r = await desk.RepairAsync(request.Node, request.Wallet, request.Helpers.ToList());
        var reply = new RepairReply { Node = r.Node, Wallet = r.Wallet, Epoch = r.Epoch };
        reply.Helpers.AddRange(r.Helpers);
        return reply;
    });

    public override Task<MailboxStatus> Mailbox(MailboxQuery request, ServerCallContext context) => Guard(() =>
    {
        var reply = new MailboxStatus();
        reply.Items.AddRange(desk.Waiting(request.Quorum.Length > 0 ? request.Quorum : null).Select(x =>
        {
            var item = new MailboxItem { Node = x.Mail.Node, Operation = x.Mail.Operation, EventId = x.Mail.EventId, NewEpoch = x.Mail.NewEpoch, Since = x.Mail.Created, Status = x.Mail.Status };
            item.Wallets.AddRange(x.Mail.Wallets);
            return item;
        }));
        return Task.FromResult(reply);
    });

    // ------------------------------------------------------------------ mapping

    internal static ReshareRequest ToRequest(ReshareSpec s) => new(s.Quorum, s.Wallets.ToList(), s.Reason, s.Note, s.Members.ToList(), (int)s.Threshold,
        s.AllowOffline.ToList(), s.WindowStart.Length > 0 ? s.WindowStart : null, s.WindowEnd.Length > 0 ? s.WindowEnd : null);

    internal static ReshareOperationRecord ToRecord(OperationView v, string? kind = null)
    {
        var o = v.Operation;
        var r = new ReshareOperationRecord
        {
            Id = kind == "plan" ? "" : o.Id, Quorum = o.Quorum, AllWallets = o.AllWallets, Reason = o.Reason.KindName, Note = o.Reason.Note,
            RequestedBy = o.RequestedBy, OldThreshold = (uint)o.OldThreshold, NewThreshold = (uint)o.NewThreshold,
            WindowStart = o.Window is { } w ? MaintenanceWindow.Format(w.Start) : "", WindowEnd = o.Window is { } w2 ? MaintenanceWindow.Format(w2.End) : "",
            Status = kind == "plan" ? "plan" : o.Status.Name(), Created = o.Created, Started = o.Started ?? 0, Finished = o.Finished ?? 0,
            EventId = o.EventId ?? "", TranscriptHash = o.TranscriptHash ?? "", Certificate = o.Certificate is { } c ? Convert.ToHexStringLower(c) : "",
            Problem = o.Problem ?? "", Policy = o.Policy ?? "", Kind = o.IsRestructure ? "restructure" : "refresh",
        };
        r.Wallets.AddRange(o.Wallets.Select(w => new WalletChange { Wallet = w.Wallet, OldEpoch = w.Epoch, NewEpoch = w.Epoch + 1 }));
        r.OldMembers.AddRange(o.OldMembers);
        r.NewMembers.AddRange(o.NewMembers);
        r.AllowOffline.AddRange(o.AllowOffline);
        r.Nodes.AddRange(v.Nodes.Select(n => new Rpc.Operations.NodeReadiness { Name = n.Name, Role = n.Role, Online = n.Online, AllowedOffline = n.AllowedOffline }));
        r.Preflight.AddRange(v.Preflight.Invalid.Concat(v.Preflight.Blocking));
        r.ObsoleteBackups.AddRange(v.ObsoleteBackups);
        return r;
    }

    internal static PolicyRecord ToRecord(PolicyView v) => new()
    {
        Quorum = v.Policy.Quorum, Every = v.Policy.Every.Text, Window = v.Policy.Window.ToString(), SetBy = v.Policy.SetBy, SetAt = v.Policy.SetAt,
        LastRefresh = v.LastRefresh, NextWindowStart = MaintenanceWindow.Format(v.Next.Start), NextWindowEnd = MaintenanceWindow.Format(v.Next.End),
        NextOperation = v.NextOperation ?? "",
    };

    private static BackupRecord ToRecord(BackupEntry b)
    {
        var r = new BackupRecord
        {
            Id = b.Id, Node = b.Node, Created = b.Created, Status = b.Status, Fingerprint = b.Fingerprint, Mode = b.Mode, ObsoletedBy = b.ObsoletedBy ?? "",
            NodePath = b.NodePath ?? "",
        };
        r.Shards.AddRange(b.Shards.Select(s => new BackupShardRecord { Wallet = s.Wallet, Epoch = s.Epoch }));
        return r;
    }

    private static byte[] Hex(string value, string what)
    {
        try { return Convert.FromHexString(value); }
        catch (FormatException) { throw new CoordinatorException(StatusCode.InvalidArgument, $"{what} must be hex, got '{value}'"); }
    }

    /// <summary>Maps refusals to gRPC errors whose message names what is wrong.</summary>
    internal static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try { return await action(); }
        catch (CoordinatorException e) { throw new RpcException(new Status(e.Code, e.Message)); }
        catch (ProtocolException e) { throw new RpcException(new Status(StatusCode.Aborted, e.Message)); }
        catch (Exception e) when (e is ArgumentException or RotorCryptoException or InvalidOperationException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }
}
