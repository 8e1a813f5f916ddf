using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Rotor.Coordinator.Governance;
using Rotor.Rpc.Node;
using Rotor.Rpc.Requests;

namespace Rotor.Coordinator.Tests.Governance;

public sealed class RequestStoreTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("rotor-req-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private RequestStore Open() => new(Path.Combine(dir, RequestStore.FileName));

    private static StoredRequest Request(string id, string action, string status, long created, string? quorum, string? operation = null)
    {
        var record = new RequestRecord
        {
            Id = id, Action = action, Status = status, Created = created, Description = ByteString.CopyFromUtf8($"{{\"requestId\":\"{id}\"}}"),
            ApprovalsNeeded = 2, Expires = "2030-01-01T00:00:00Z", RequestedBy = "alice",
            Spec = new ActionSpec { Sign = new Rotor.Rpc.Coordinator.SignRequest { WalletId = "w1", Message = ByteString.CopyFrom([1, 2]) } },
        };
        record.Approvals.Add(new Approval { Approver = "alice", Key = "aa", Time = created });
        var auth = new Authorization { Description = record.Description };
        auth.Approvals.Add(new ApprovalSig { Key = ByteString.CopyFrom(new byte[32]), Signature = ByteString.CopyFrom(new byte[64]) });
        return new StoredRequest(record, auth, quorum, operation);
    }

    [Fact]
    public void Requests_round_trip_with_their_approvals_and_survive_a_reopen()
    {
        using (var s = Open())
        {
            s.Put(Request("b", "sign", RequestStatus.Awaiting, 20, "q1"));
            s.Put(Request("a", "refresh", RequestStatus.Done, 10, "q1", "rs-1"));
        }
        using (var s = Open())
        {
            var a = s.Find("a")!;
            Assert.Equal("refresh", a.Record.Action);
            Assert.Equal("w1", a.Record.Spec.Sign.WalletId);
            Assert.Equal("alice", Assert.Single(a.Record.Approvals).Approver);
            Assert.Equal(64, Assert.Single(a.Authorization.Approvals).Signature.Length);
            Assert.Equal(a.Record.Description, a.Authorization.Description);
            Assert.Equal(("q1", "rs-1"), (a.Quorum, a.Operation));
            Assert.Null(s.Find("c"));
            Assert.Equal(["a", "b"], s.List().Select(r => r.Record.Id));
            Assert.Equal(["b"], s.List(RequestStatus.Awaiting).Select(r => r.Record.Id));
            Assert.Equal("a", s.ForOperation("rs-1")!.Record.Id);
            Assert.Null(s.ForOperation("rs-2"));
        }
    }

    [Fact]
    public void Done_lists_one_actions_done_requests_of_a_quorum_newest_first()
    {
        using var s = Open();
        s.Put(Request("p1", "rotation-policy", RequestStatus.Done, 10, "q1"));
        s.Put(Request("p2", "rotation-policy", RequestStatus.Done, 30, "q1"));
        s.Put(Request("p3", "rotation-policy", RequestStatus.Failed, 40, "q1"));
        s.Put(Request("p4", "rotation-policy", RequestStatus.Done, 50, "q2"));
        s.Put(Request("r1", "refresh", RequestStatus.Done, 60, "q1"));
        Assert.Equal(["p2", "p1"], s.Done("rotation-policy", "q1").Select(r => r.Record.Id));
        // A status change replaces the row.
        var p2 = s.Find("p2")!;
        var record = p2.Record.Clone();
        record.Status = RequestStatus.Expired;
        s.Put(p2 with { Record = record });
        Assert.Equal(["p1"], s.Done("rotation-policy", "q1").Select(r => r.Record.Id));
    }
}
