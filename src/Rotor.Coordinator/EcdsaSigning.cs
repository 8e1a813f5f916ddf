using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;
using Rotor.Rpc.Node;
using Rotor.Rpc.Sessions;

namespace Rotor.Coordinator;

/// <summary>
/// Threshold ECDSA (DKLs23) over the relay. The three rounds run as one node session (rounds 1 and 2 in envelopes the
/// coordinator cannot read); each signer returns its public signature share, and the coordinator combines them over
/// the same session and checks the signature under the (derived) group key, then again with the scheme's verifier.
/// <para>
/// Round 1 uses no message, path or share, so it is made ahead: with the last round of every signing, the same
/// signers are asked to start a presign session for the next signature with this wallet, epoch and signer set
/// (<see cref="Rotor.Protocols.Ecdsa.EcdsaPresignSession"/>). The next signing then sends its request (message, path,
/// the operators' approval) with the presign's round-1 envelopes and takes two round trips instead of three. The
/// coordinator keeps one presign per wallet, epoch and signer set and never uses one twice; each node checks the
/// request and the approval itself, uses a presign once, keeps it in memory only and closes it when the epoch
/// changes. A presign that a node no longer holds (a restart, the idle limit, an epoch change) makes the signing
/// fall back to the three-round flow; the approval allows a signer two shares of one message for that.
/// </para>
/// </summary>
internal sealed class EcdsaSigning
{
    private readonly Engine engine;

    internal EcdsaSigning(Engine engine) => this.engine = engine;

    /// <summary>A presign older than this is not used (a node closes sessions idle for 10 minutes by default).</summary>
    private static readonly TimeSpan PresignFresh = TimeSpan.FromMinutes(8);

    /// <summary>Round 1 made ahead by a set of signers: the node session, the start nonce, the round-1 replies (sealed envelopes).</summary>
    private sealed record Presigned(byte[] SessionId, byte[] Nonce, IReadOnlyDictionary<string, StepReply> Replies, DateTime Made);

    /// <summary>The presign for the next signing, by wallet, epoch and signer set (in flight or made).</summary>
    private readonly ConcurrentDictionary<(string Wallet, ulong Epoch, string Signers), Task<Presigned?>> next = new();

    private static string SignerKey(IEnumerable<NodeEntry> signers) => string.Join(",", signers.Select(s => s.Name).Order(StringComparer.Ordinal));

    public async Task<Signing.Signature> SignAsync(WalletEntry wallet, WalletEpoch epoch, byte[] message, List<NodeEntry> signers, DerivationPath path,
        PublicKeyPackage pub, string what)
    {
        var root = path.IsRoot ? pub : engine.PublicPackage(wallet, epoch);
        var key = (wallet.Id, epoch.Epoch, SignerKey(signers));
        var request = new StartRequest
        {
            Sign = new SignParams { KeyId = wallet.Id, Epoch = epoch.Epoch, Message = ByteString.CopyFrom(message), Path = path.IsRoot ? "" : path.ToString() },
        };
        request.Sign.Signers.AddRange(signers.Select(NodeReplies.ToParty));
        Governance.ActionContext.Attach(request);

        // The next signature's round 1, asked for with this one's last round.
        void PresignNext(int round, IReadOnlyDictionary<string, StepReply> replies)
        {
            if (round != 1) return;
            var made = PresignAsync(wallet, epoch.Epoch, signers, what);
            next.AddOrUpdate(key, made, (k, replaced) =>
            {
                _ = DropAsync(replaced, signers, what);
                return made;
            });
        }

        if (next.TryRemove(key, out var pending) && await pending is { } ready)
        {
            if (ready.Made > DateTime.UtcNow - PresignFresh)
            {
                var input = ByteString.CopyFrom(request.ToByteArray());
                try
                {
                    var outputs = await engine.Driver.ContinueAsync(signers, ready.SessionId, ready.Replies, what, 1, r => r == 1 ? input : null, PresignNext);
                    return Combine(wallet, epoch.Epoch, message, signers, path, root, pub, ready.Nonce, outputs, what) with { RoundTrips = 2 };
                }
                catch (CoordinatorException e) when (e.Code is StatusCode.NotFound or StatusCode.FailedPrecondition)
                {
                    // A signer no longer holds the presign (restarted, idle too long, its epoch changed): three rounds
                    // instead. A refused approval (PermissionDenied) is not retried.
                }
            }
            else await engine.Driver.AbortAll(signers, ready.SessionId, what);
        }
        var nonce = RandomNumberGenerator.GetBytes(32);
        var start = request.Clone();
        start.Nonce = ByteString.CopyFrom(nonce);
        var result = await engine.Driver.RunAsync(signers, start, what, 1, PresignNext);
        return Combine(wallet, epoch.Epoch, message, signers, path, root, pub, nonce, result, what) with { RoundTrips = 3 };
    }

    /// <summary>Closes a presign that will not be used (replaced by a newer one) on its signers.</summary>
    private async Task DropAsync(Task<Presigned?> presign, IReadOnlyList<NodeEntry> signers, string what)
    {
        if (await presign is { } p) await engine.Driver.AbortAll(signers, p.SessionId, what);
    }

    /// <summary>Starts round 1 on the signers, with no message: null (and nothing kept) when any refuses.</summary>
    private async Task<Presigned?> PresignAsync(WalletEntry wallet, ulong epoch, IReadOnlyList<NodeEntry> signers, string what)
    {
        var nonce = RandomNumberGenerator.GetBytes(32);
        var start = new StartRequest { Nonce = ByteString.CopyFrom(nonce), Sign = new SignParams { KeyId = wallet.Id, Epoch = epoch, Presign = 1 } };
        start.Sign.Signers.AddRange(signers.Select(NodeReplies.ToParty));
        try
        {
            var (sessionId, replies) = await engine.Driver.StartAsync(signers, start, $"{what}: presign for the next signature", 1);
            return new Presigned(sessionId, nonce, replies, DateTime.UtcNow);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Best effort: any failure only means that the next signing takes three round trips.
            return null;
        }
    }

    private static Signing.Signature Combine(WalletEntry wallet, ulong epoch, byte[] message, IReadOnlyList<NodeEntry> signers, DerivationPath path,
        PublicKeyPackage root, PublicKeyPackage pub, byte[] nonce, IReadOnlyDictionary<string, byte[]> outputs, string what)
    {
        try
        {
            var g = pub.Group;
            var ids = signers.Select(s => Identifier.FromUInt64(g, s.Index)).ToArray();
            var session = new EcdsaSignSession(new EcdsaPresignSession(root, ids, EcdsaSigningNonce.From(nonce)), pub, message);
            var shares = signers.Select(s =>
            {
                var share = EcdsaSignatureShare.FromBytes(outputs[s.Name]);
                if (share.Sender != Identifier.FromUInt64(g, s.Index))
                    throw new CoordinatorException(StatusCode.Aborted, $"{what}: '{s.Name}' returned a signature share as member {share.Sender}");
                return share;
            }).ToList();
            var sig = EcdsaSignatures.Combine(session, shares);
            var bytes = sig.ToBytes();
            if (!SchemeSignatures.Verify(pub.Scheme, pub.GroupPublicKey, message, bytes))
                throw new CoordinatorException(StatusCode.Internal, $"{what}: the ECDSA signature does not verify");
            return new Signing.Signature(wallet, epoch, signers.Select(s => s.Name).ToList(), message, bytes,
                path.IsRoot ? Engine.Display(wallet).PublicKey : Convert.ToHexStringLower(SchemeKeys.EncodePublicKey(pub.Scheme, pub.GroupPublicKey)),
                path.IsRoot ? null : path.ToString(), sig.RecoveryId);
        }
        catch (Exception e) when (e is ProtocolException or ArgumentException or Rotor.Crypto.RotorCryptoException)
        {
            throw new CoordinatorException(StatusCode.Aborted, $"{what}: {e.Message}");
        }
    }

    /// <summary>Drops the presigns of these wallets (a reshare gave them a new epoch; the nodes close theirs).</summary>
    internal void Forget(IReadOnlySet<string> walletIds)
    {
        foreach (var k in next.Keys.Where(k => walletIds.Contains(k.Wallet)).ToList()) next.TryRemove(k, out _);
    }

    /// <summary>Drops the presigns a node took part in (it restarted, or may come back restarted).</summary>
    internal void ForgetNode(string node)
    {
        foreach (var k in next.Keys.Where(k => k.Signers.Split(',').Contains(node)).ToList()) next.TryRemove(k, out _);
    }
}
