using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Rotor.Protocols;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Keys;
using Rotor.Rpc.Node;
using Rotor.Rpc.Payloads;

using static Rotor.Coordinator.NodeReplies;

namespace Rotor.Coordinator;

/// <summary>
/// Drives the pairwise OT setup of threshold-ECDSA (ecdsa-secp256k1) wallets over the relay: after key generation
/// (the new active epoch 0), inside a reshare before its commit (the new members' pending shards of the event), and
/// after a repair or a restore (the member concerned with every other member). A setup that fails is run again from
/// scratch with a fresh session (a failed OT check is never resumed). Every member must report material bound to the
/// package the registry holds for that epoch (<see cref="EcdsaBinding.PackageDigest"/>), and complete.
/// </summary>
public sealed class EcdsaPairs(Engine engine)
{
    /// <summary>Attempts of one setup (each a fresh session) before the operation fails.</summary>
    private const int Attempts = 3;

    /// <summary>Setups run at once for a batch of wallets.</summary>
    private const int Parallel = 4;

    public static bool IsEcdsa(string scheme) => scheme == Scheme.EcdsaSecp256k1.Name();

    /// <summary>
    /// Whether a failed ECDSA signing failed for want of usable pair material (a signer holds none with some member,
    /// or a pair's two halves come from different setups): a fresh setup of the epoch's pairs cures it.
    /// </summary>
    public static bool NeedsSetup(CoordinatorException e) =>
        e.Code is StatusCode.FailedPrecondition or StatusCode.Aborted &&
        (e.Message.Contains("is not usable", StringComparison.Ordinal) || e.Message.Contains("OT material of another setup", StringComparison.Ordinal)
         || e.Message.Contains("was retired after a failed check", StringComparison.Ordinal));

    /// <summary>
    /// Refuses (InvalidArgument) a message for an ecdsa-secp256k1 wallet that is not exactly the 32-byte digest the chain
    /// defines; checked when a signing is requested (before anyone is asked to approve it) and again when it runs.
    /// </summary>
    public static void CheckMessage(WalletEntry wallet, ReadOnlySpan<byte> message)
    {
        if (IsEcdsa(wallet.Scheme) && message.Length != EcdsaSignSession.MessageDigestLength)
            throw new CoordinatorException(StatusCode.InvalidArgument,
                $"wallet '{wallet.Id}' is ecdsa-secp256k1: the message must be exactly the 32-byte digest the chain defines (keccak-256, a sighash) as 64 hex characters; got {message.Length} bytes");
    }

    /// <summary>
    /// Sets up every pair (or only <paramref name="target"/>'s pairs) of each wallet's epoch among
    /// <paramref name="members"/> (every member of the epoch). <paramref name="eventId"/> names the reshare whose
    /// pending shards the material goes with; null for the active epoch.
    /// </summary>
    public async Task SetupAsync(IReadOnlyList<(WalletEntry Wallet, WalletEpoch Epoch)> wallets, IReadOnlyList<NodeEntry> members, string? eventId, string? target, string what)
    {
        using var gate = new SemaphoreSlim(Parallel);
        await Task.WhenAll(wallets.Where(w => IsEcdsa(w.Wallet.Scheme)).Select(async w =>
        {
            await gate.WaitAsync();
            try { await SetupOneAsync(w.Wallet, w.Epoch, members, eventId, target, what); }
            finally { gate.Release(); }
        }));
    }

    private async Task SetupOneAsync(WalletEntry wallet, WalletEpoch epoch, IReadOnlyList<NodeEntry> members, string? eventId, string? target, string what)
    {
        var expected = Convert.ToHexStringLower(EcdsaBinding.PackageDigest(engine.PublicPackage(wallet, epoch)));
        var label = $"{what}: ECDSA pair setup of wallet '{wallet.Id}' epoch {epoch.Epoch}" + (target is null ? "" : $" with '{target}'");
        for (int attempt = 1; ; attempt++)
        {
            var start = new StartRequest
            {
                Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
                EcdsaSetup = new EcdsaSetupParams { KeyId = wallet.Id, Epoch = epoch.Epoch, EventId = eventId ?? "", Target = target ?? "" },
            };
            start.EcdsaSetup.Members.AddRange(members.Select(ToParty));
            try
            {
                var outputs = await engine.Driver.RunAsync(members, start, label, 1);
                foreach (var (node, bytes) in outputs)
                {
                    var o = Decode<EcdsaSetupOutput>(bytes, node);
                    if (o.KeyId != wallet.Id || o.Epoch != epoch.Epoch || !string.Equals(o.PackageDigest, expected, StringComparison.OrdinalIgnoreCase))
                        throw new CoordinatorException(StatusCode.Aborted, $"{label}: '{node}' bound its material to key '{o.KeyId}' epoch {o.Epoch} package {o.PackageDigest[..Math.Min(16, o.PackageDigest.Length)]}…, not the registry's");
                    if (!o.Complete)
                        throw new CoordinatorException(StatusCode.Aborted, $"{label}: '{node}' still lacks OT material with some member after the setup");
                }
                return;
            }
            catch (CoordinatorException e) when (attempt < Attempts && e.Code is not (StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.Unavailable))
            {
                // A fresh session: material of a failed setup is never used.
            }
        }
    }
}
