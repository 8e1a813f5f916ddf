using Google.Protobuf;
using Grpc.Core;
using Rotor.Rpc.Node;

namespace Rotor.Node.Tests.Bindings;

/// <summary>
/// Issue 10, point 6: a key generation commits like a reshare. Each member stores its shards pending with its signed
/// confirmation of the public packages; only a verified certificate of every member's matching confirmation activates
/// them; a member's renunciation lets the others discard theirs. A malicious coordinator cannot activate or discard them
/// otherwise (every vault compared before and after).
/// </summary>
public sealed class DkgCommitTests : IDisposable
{
    private readonly NodeCluster cluster = new(4);

    public void Dispose() => cluster.Dispose();

    private TestNode[] Members => new[] { "cs1", "cs2", "cs3" }.Select(n => cluster[n]).ToArray();

    private static async Task<string> Refused(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).Status.Detail;

    [Fact]
    public async Task Shards_stay_pending_and_unusable_until_a_certificate_of_every_member_s_matching_confirmation()
    {
        var start = cluster.KeygenStart(Members, 2);
        var outputs = await cluster.RunAsync(Members, _ => start);
        Assert.All(Members, m => Assert.Matches("^w1@0:Pending:dkg-[0-9a-f]{24}$", m.Shards()));
        var full = NodeCluster.KeygenCertificate(Members, start, outputs);
        var before = Members.Select(m => m.Shards()).ToList();

        // One member's confirmation missing.
        var partial = full.Clone();
        partial.Certificate.RemoveAt(2);
        Assert.Contains("no confirmation", await Refused(() => Members[0].Service.Commit(partial, new TestCallContext())));
        // A confirmation signed by another member than the one it names.
        var forged = full.Clone();
        forged.Certificate[1].Signed = forged.Certificate[0].Signed;
        Assert.Contains("does not verify under its identity key", await Refused(() => Members[0].Service.Commit(forged, new TestCallContext())));
        // Another session's start request (a fresh nonce): not this node's pending shards.
        var other = full.Clone();
        other.Start = start.Clone();
        other.Start.Nonce = ByteString.CopyFrom(new byte[32]);
        await Refused(() => Members[0].Service.Commit(other, new TestCallContext()));
        // A discard without a member's renunciation.
        Assert.Contains("keeps its pending shards", await Refused(() => Members[0].Service.Discard(new DiscardRequest { EventId = full.EventId, Start = start }, new TestCallContext())));
        // A member that confirmed does not renounce: it returns what it confirmed.
        var renounce = await Members[1].Service.Renounce(new RenounceRequest { Start = start }, new TestCallContext());
        Assert.Null(renounce.Renunciation);
        Assert.False(renounce.ConfirmedOutput.IsEmpty);
        Assert.Equal(before, Members.Select(m => m.Shards()).ToList());

        foreach (var m in Members) Assert.Single((await m.Service.Commit(full, new TestCallContext())).Activated);
        Assert.All(Members, m => Assert.Equal("w1@0:Active:", m.Shards()));
        // Idempotent.
        foreach (var m in Members) Assert.Empty((await m.Service.Commit(full, new TestCallContext())).Activated);
    }

    [Fact]
    public async Task A_key_generation_one_member_never_confirmed_is_discarded_on_its_renunciation_and_never_activated()
    {
        var start = cluster.KeygenStart(Members, 2);
        // cs3 never takes its last step (it never receives the others' confirmations): it stores nothing and confirms nothing.
        var cs3Steps = 0;
        var outputs = await cluster.RunAsync(Members, _ => start, n => n != "cs3" || cs3Steps++ < 2);
        Assert.Equal(["cs1", "cs2"], outputs.Keys.Order().ToArray());
        Assert.Equal("", Members[2].Shards());
        var certificate = NodeCluster.KeygenCertificate(Members, start, outputs);
        Assert.Contains("no confirmation", await Refused(() => Members[0].Service.Commit(certificate, new TestCallContext())));

        var renounced = await Members[2].Service.Renounce(new RenounceRequest { Start = start }, new TestCallContext());
        Assert.NotNull(renounced.Renunciation);
        var proof = new DiscardRequest { EventId = certificate.EventId, Start = start, Reason = "failed" };
        proof.Renunciations.Add(renounced.Renunciation);
        // A renunciation altered in transit is refused.
        var altered = proof.Clone();
        altered.Renunciations[0].Signature = ByteString.CopyFrom(new byte[64]);
        Assert.Contains("does not verify", await Refused(() => Members[0].Service.Discard(altered, new TestCallContext())));
        foreach (var m in Members.Take(2)) Assert.Single((await m.Service.Discard(proof, new TestCallContext())).Discarded);
        Assert.All(Members, m => Assert.Equal("", m.Shards()));
    }
}
