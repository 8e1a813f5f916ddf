using Rotor.Protocols.Keys.Hd;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Rpc;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;
using Rotor.Rpc.Sessions;

using static Rotor.Coordinator.NodeReplies;

namespace Rotor.Coordinator;

/// <summary>
/// Distributed key generation for new wallets of a quorum, under the quorum's lock: one DKG session over every
/// member, every member's public package compared, the wallets recorded at epoch 0.
/// </summary>
public sealed class KeyGeneration(Engine engine, Registry registry, NodeDirectory nodes)
{
    /// <summary>
    /// Runs one DKG session over every member of the quorum for <paramref name="count"/> new wallets, checks that all
    /// members report the same public key packages, and records the wallets at epoch 0.
    /// </summary>
    public async Task<IReadOnlyList<WalletEntry>> CreateWalletsAsync(string quorumName, string schemeName, int count)
    {
        if (!Schemes.TryParse(schemeName, out var scheme))
            throw new CoordinatorException(StatusCode.InvalidArgument, $"unknown scheme '{schemeName}' (expected ed25519, secp256k1, bip340 or ecdsa-secp256k1)");
        if (count is < 1 or > 100_000) throw new CoordinatorException(StatusCode.InvalidArgument, $"count {count} is outside 1..100000");
        engine.RequireQuorum(quorumName);
        // Under the quorum's lock: the members read here are the members the wallets are recorded with.
        return await engine.Locks.RunAsync(quorumName, $"key generation in quorum '{quorumName}'", () => CreateWalletsLockedAsync(quorumName, scheme, count));
    }

    private async Task<IReadOnlyList<WalletEntry>> CreateWalletsLockedAsync(string quorumName, Scheme scheme, int count)
    {
        var quorum = engine.RequireQuorum(quorumName);
        var members = quorum.Members.Select(nodes.RequireNode).ToList();
        await nodes.RequireOnline(members, $"key generation in quorum '{quorumName}'");
        var ids = Enumerable.Range(0, count).Select(_ => $"{scheme.Name()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}").ToList();
        var start = new StartRequest
        {
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            Dkg = new DkgParams { Scheme = scheme.Name(), Threshold = (uint)quorum.Threshold },
        };
        start.Dkg.KeyIds.AddRange(ids);
        start.Dkg.Parties.AddRange(members.Select(ToParty));
        var what = $"key generation in quorum '{quorumName}'";
        byte[]? sessionId = null;
        try { return await GenerateAsync(quorum, scheme, members, ids, start, what, count, id => sessionId = id); }
        catch (Exception e) when (sessionId is not null)
        {
            // Members may hold pending shards of it: the event is recorded failed with its start request, and settlement
            // discards them on the proof that it can never commit (a member's renunciation). Nothing is active anywhere.
            var problem = e is CoordinatorException or RpcException or ProtocolException or ArgumentException ? e.Message : $"unexpected {e.GetType().Name}: {e.Message}";
            try
            {
                var eventId = DkgCommit.EventIdOf(sessionId);
                if (registry.FindEvent(eventId) is null)
                {
                    registry.AddEvent(new EventEntry(eventId, quorumName, "key generation", EventStatus.Running, ids.Select(i => (i, 0ul)).ToList(),
                        quorum.Members, quorum.Members, quorum.Threshold, quorum.Threshold, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), problem));
                    registry.SetEventStart(eventId, start.ToByteArray());
                    registry.FailEvent(eventId, problem);
                }
                await engine.SettleAsync(members);
            }
            catch (Exception x) when (x is not OperationCanceledException) { Console.Error.WriteLine($"{what}: recording its failure: {x.Message}"); }
            throw e is CoordinatorException ce ? new CoordinatorException(ce.Code, $"{ce.Message}; no wallet recorded, no key active on any member")
                : new CoordinatorException(StatusCode.Aborted, $"{what}: {problem}; no wallet recorded, no key active on any member");
        }
    }

    /// <summary>
    /// Runs the DKG (each member stores its shards pending with its signed confirmation of the public packages), checks the
    /// packages, assembles and verifies the commit certificate of every member's matching confirmation, records the wallets
    /// with it in one transaction, and sends it to the members, who activate their shards only on it (DkgCommit).
    /// </summary>
    private async Task<IReadOnlyList<WalletEntry>> GenerateAsync(QuorumEntry quorum, Scheme scheme, IReadOnlyList<NodeEntry> members, IReadOnlyList<string> ids,
        StartRequest start, string what, int count, Action<byte[]> started)
    {
        var quorumName = quorum.Name;
        byte[]? sessionId = null;
        var outputs = await engine.Driver.RunAsync(members, start, what, count, (round, replies) =>
        {
            if (round == 0) started(sessionId = replies.Values.First().SessionId.ToByteArray());
        });
        var results = outputs.ToDictionary(o => o.Key, o => Decode<DkgOutput>(o.Value, o.Key));
        var packages = AgreedPackages(results.ToDictionary(o => o.Key, o => o.Value.Keys), "key generation");
        var records = Batches.Map(ids, id =>
        {
            var s = packages[id];
            if (s.Epoch != 0 || s.Threshold != quorum.Threshold || s.Scheme != scheme.Name())
                throw new CoordinatorException(StatusCode.Aborted, $"key generation: key '{id}' came back as {s.Scheme} epoch {s.Epoch} threshold {s.Threshold}");
            foreach (var m in members)
                if (!s.MemberKeys.TryGetValue(m.Index, out var k) || !string.Equals(k, m.SigningKey, StringComparison.OrdinalIgnoreCase))
                    throw new CoordinatorException(StatusCode.Aborted, $"key generation: key '{id}' came back without '{m.Name}''s identity key for identifier {m.Index}");
            var wallet = new WalletEntry(id, scheme.Name(), quorumName, s.GroupPublicKey, 0,
                s.ChainCode is { Length: > 0 } cc ? cc.ToLowerInvariant() : null, s.InternalKey is { Length: > 0 } ik ? ik.ToLowerInvariant() : null);
            var epoch = new WalletEpoch(id, 0, s.Threshold, quorum.Members, s.VerifyingShares, null, s.MemberKeys);
            engine.PublicPackage(wallet, epoch); // validates consistency of the verification shares with the group key
            return (wallet, epoch);
        });
        var certificate = new CommitRequest { EventId = DkgCommit.EventIdOf(sessionId!), SessionId = ByteString.CopyFrom(sessionId), Start = start };
        foreach (var (node, r) in results.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            byte[] signed;
            try { signed = Convert.FromHexString(r.Confirmation ?? ""); }
            catch (FormatException) { throw new CoordinatorException(StatusCode.Aborted, $"{what}: '{node}' sent a confirmation that is not hex"); }
            certificate.Certificate.Add(new Confirmation { Node = node, Scheme = scheme.Name(), Signed = ByteString.CopyFrom(signed) });
        }
        // Checked exactly as the members will check it before they activate anything.
        DkgCommit.Verify(certificate, sessionId, party => new Rotor.Crypto.Envelopes.IdentityKeys(
            Convert.FromHexString(nodes.RequireNode(party.Name).SigningKey), Convert.FromHexString(nodes.RequireNode(party.Name).AgreementKey)));
        // Threshold ECDSA: every pair of members sets up its OT material for epoch 0 on the pending shards of this key
        // generation, before the wallets are recorded and committed; the keys are usable only then (a node refuses to
        // sign without material with every other member).
        if (scheme == Scheme.EcdsaSecp256k1)
            await engine.Ecdsa.SetupAsync(records, members, certificate.EventId, null, $"key generation in quorum '{quorumName}'");
        if (Environment.GetEnvironmentVariable("ROTOR_TEST_CRASH_AT") == "coordinator-before-recording-wallets")
            Environment.FailFast("ROTOR_TEST_CRASH_AT: coordinator-before-recording-wallets");
        var ev = new EventEntry(certificate.EventId, quorumName, "key generation", EventStatus.Committed, ids.Select(i => (i, 0ul)).ToList(),
            quorum.Members, quorum.Members, quorum.Threshold, quorum.Threshold, certificate.ToByteArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null);
        try { registry.AddWallets(records, (ev, start.ToByteArray())); }
        catch (InvalidOperationException e) { throw new CoordinatorException(StatusCode.Aborted, $"key generation in quorum '{quorumName}': {e.Message}; no wallet recorded"); }
        engine.AuditAll?.Invoke(records.Select(r => new AuditRecord(Rotor.Coordinator.Audit.AuditKinds.WalletsCreated, quorumName, r.wallet.Id,
            new { scheme = r.wallet.Scheme, public_key = r.wallet.PublicKey, epoch = r.wallet.Epoch, threshold = quorum.Threshold, members = quorum.Members })).ToList());
        await engine.SendCommitAsync(members, certificate.EventId, certificate);
        return records.Select(r => r.wallet).ToList();
    }
}
