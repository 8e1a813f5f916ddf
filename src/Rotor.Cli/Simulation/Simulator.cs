using Rotor.Protocols.Keys.Hd;
using System.Security.Cryptography;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Resharing;

namespace Rotor.Cli.Simulation;

/// <summary>A step applied after the DKG, in command-line order.</summary>
public abstract record SimulationStep
{
    public sealed record Refresh : SimulationStep;
    public sealed record Restructure(IReadOnlyList<ulong> Members, int Threshold) : SimulationStep;
    public sealed record Repair(ulong Member) : SimulationStep;

    public string Name => this switch { Refresh => "refresh", Restructure => "restructure", Repair => "repair", _ => "?" };

    /// <summary>Parses MEMBERS:THRESHOLD, e.g. "1,2,4,5:3".</summary>
    public static Restructure ParseRestructure(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2) throw new ArgumentException($"--restructure takes MEMBERS:THRESHOLD (e.g. 1,2,4,5:3), got '{spec}'");
        var members = new List<ulong>();
        foreach (var m in parts[0].Split(',', StringSplitOptions.TrimEntries))
        {
            if (!ulong.TryParse(m, out var v) || v == 0) throw new ArgumentException($"--restructure: member '{m}' is not a positive member number");
            if (members.Contains(v)) throw new ArgumentException($"--restructure: member {v} is listed twice");
            members.Add(v);
        }
        if (!int.TryParse(parts[1], out var t) || t < 1 || t > members.Count)
            throw new ArgumentException($"--restructure: threshold '{parts[1]}' must be a number from 1 to {members.Count} (the number of members)");
        return new Restructure(members, t);
    }
}

/// <param name="RecoveryId">ecdsa-secp256k1: the recovery id (0 or 1) of the r ‖ s signature; null for FROST schemes.</param>
public sealed record SimulatedSignature(string Message, IReadOnlyList<ulong> Signers, string Signature, bool Verified, int? RecoveryId = null);

public sealed record SimulatedEpoch(
    string Step, ulong Epoch, IReadOnlyList<ulong> Members, int Threshold, string GroupPublicKey,
    IReadOnlyList<SimulatedSignature> Signatures, bool? StaleShardsRefused, ulong? Repaired, string? ChildPublicKey = null);

/// <param name="Addresses">ecdsa-secp256k1: the (child) key's address on each chain (ethereum, bitcoin), unchanged in every epoch.</param>
public sealed record SimulationResult(
    Scheme Scheme, int Threshold, int Members, string GroupPublicKey,
    IReadOnlyList<SimulatedSignature> Signatures, IReadOnlyList<SimulatedEpoch> Epochs,
    string? Path = null, string? ChildPublicKey = null, string? ChildAddress = null,
    IReadOnlyDictionary<string, string>? Addresses = null);

/// <summary>
/// Runs Rotor's protocols with every member simulated in this process and no network: a DKG among N members,
/// then each step in order (refresh, restructure, repair), signing every message with a random threshold-sized
/// subset after the DKG and after every step. Every signature is checked with the scheme's standard verifier;
/// after each reshare it really tries to sign with a mix of the previous epoch's and the new epoch's shards and
/// reports whether that was refused.
/// </summary>
public static class Simulator
{
    public static SimulationResult Run(Scheme scheme, int threshold, int members, IReadOnlyList<byte[]> messages,
        IReadOnlyList<SimulationStep> steps, Action<string>? progress = null, DerivationPath? path = null)
    {
        path ??= DerivationPath.Root;
        if (members < 1) throw new ArgumentException($"--members must be at least 1, got {members}");
        if (threshold < 1) throw new ArgumentException($"--threshold must be at least 1, got {threshold}");
        if (threshold > members) throw new ArgumentException($"--threshold {threshold} is greater than --members {members}");
        if (scheme == Scheme.EcdsaSecp256k1) return EcdsaSimulator.Run(threshold, members, messages, steps, progress, path);
        var keyId = "sim-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

        progress?.Invoke($"DKG: {threshold}-of-{members} {scheme.Name()}");
        KeyShare[] current = DkgRunner.RunInProcess(scheme, keyId, threshold, members);
        var groupKey = Hex(SchemeKeys.EncodePublicKey(scheme, current[0].GroupPublicKey));
        string? Child(KeyShare[] shares) => path.IsRoot ? null : Hex(HdDerivation.ChildPublicKey(shares[0].Public, path));
        var childKey = Child(current);
        var initialSignatures = SignAll(current, messages, path);
        var epochs = new List<SimulatedEpoch>();
        KeyShare[]? previous = null;

        foreach (var step in steps)
        {
            progress?.Invoke($"{step.Name} from epoch {current[0].Epoch}");
            var group = scheme.Group();
            bool? staleRefused;
            ulong? repaired = null;
            switch (step)
            {
                case SimulationStep.Refresh:
                    previous = current;
                    current = Reshare.RunInProcess(Pick(current, current[0].Threshold), current[0].Members, current[0].Threshold);
                    staleRefused = TryMixedSigning(previous, current, messages);
                    break;
                case SimulationStep.Restructure r:
                    previous = current;
                    var ids = r.Members.Select(m => Identifier.FromUInt64(group, m)).ToArray();
                    current = Reshare.RunInProcess(Pick(current, current[0].Threshold), ids, r.Threshold);
                    staleRefused = TryMixedSigning(previous, current, messages);
                    break;
                case SimulationStep.Repair p:
                    var target = Identifier.FromUInt64(group, p.Member);
                    if (!current[0].Public.IsMember(target))
                        throw new ArgumentException($"--repair {p.Member}: member {p.Member} is not a member of epoch {current[0].Epoch} (members {Members(current[0])})");
                    if (current.Length - 1 < current[0].Threshold)
                        throw new ArgumentException($"--repair {p.Member}: needs {current[0].Threshold} other members, epoch {current[0].Epoch} has {current.Length - 1}");
                    // The target has lost its shard; t other members rebuild it. If it still holds its share of an
                    // earlier epoch, that stale share must be refused when mixed into a signing set.
                    var helpers = Pick(current.Where(s => s.Identifier != target).ToArray(), current[0].Threshold);
                    var rebuilt = ShareRepair.RunInProcess(helpers, target);
                    var stale = previous?.FirstOrDefault(s => s.Identifier == target);
                    current = current.Select(s => s.Identifier == target ? rebuilt : s).ToArray();
                    staleRefused = stale is null ? null : TryMixedSigning([stale], current, messages);
                    repaired = p.Member;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(steps));
            }
            var key = current[0];
            var newKey = Hex(SchemeKeys.EncodePublicKey(scheme, key.GroupPublicKey));
            if (newKey != groupKey) throw new InvalidOperationException($"the group public key changed in the {step.Name}: a bug");
            var newChild = Child(current);
            if (newChild != childKey) throw new InvalidOperationException($"the key at {path} changed in the {step.Name}: a bug");
            epochs.Add(new SimulatedEpoch(step.Name, key.Epoch, key.Members.Select(Number).ToArray(), key.Threshold, newKey,
                SignAll(current, messages, path), staleRefused, repaired, newChild));
        }
        return new SimulationResult(scheme, threshold, members, groupKey, initialSignatures, epochs,
            path.IsRoot ? null : path.ToString(), childKey, childKey is null ? null : Addresses.For(scheme, Convert.FromHexString(childKey)));
    }

    /// <summary>Signs each message with a random threshold-sized subset and checks it with the standard verifier.</summary>
    private static SimulatedSignature[] SignAll(KeyShare[] shares, IReadOnlyList<byte[]> messages, DerivationPath path) =>
        messages.Select(m =>
        {
            // for a path: every signer derives its child share (s′ = ±s + offset); the signature verifies under the child key
            var signers = Pick(shares, shares[0].Threshold).OrderBy(s => s.Identifier).Select(s => HdDerivation.DeriveShare(s, path)).ToArray();
            var sig = FrostCoordinator.SignInProcess(signers, m);
            bool ok = SchemeSignatures.Verify(shares[0].Scheme, signers[0].GroupPublicKey, m, sig);
            if (!ok) throw new InvalidOperationException("a signature did not verify under the standard verifier: a bug");
            return new SimulatedSignature(Hex(m), signers.Select(s => Number(s.Identifier)).ToArray(), Hex(sig), ok);
        }).ToArray();

    /// <summary>
    /// Tries to sign with one share of the earlier epoch among new-epoch shares. True when signing refused it
    /// (the stale share is named); false would mean an old shard was accepted.
    /// </summary>
    private static bool TryMixedSigning(KeyShare[] older, KeyShare[] newer, IReadOnlyList<byte[]> messages)
    {
        var stale = older[RandomNumberGenerator.GetInt32(older.Length)];
        // at least one new-epoch share, so the set really mixes epochs even at threshold 1
        var others = newer.Where(s => s.Identifier != stale.Identifier).ToArray();
        var fresh = others.Length > 0 ? Pick(others, Math.Max(1, newer[0].Threshold - 1)) : [newer[0]];
        var message = messages.Count > 0 ? messages[0] : "rotor stale-share check"u8.ToArray();
        try
        {
            FrostCoordinator.SignInProcess([.. fresh, stale], message);
            return false;
        }
        catch (ProtocolException e) when (e.Fault == Fault.StaleShare && e.Culprits.Contains(stale.Identifier))
        {
            return true;
        }
    }

    private static KeyShare[] Pick(IReadOnlyList<KeyShare> shares, int count) =>
        shares.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).Take(count).ToArray();

    private static ulong Number(Identifier id) => (ulong)id.Value;

    private static string Members(KeyShare k) => string.Join(",", k.Members.Select(Number));

    private static string Hex(byte[] b) => Convert.ToHexStringLower(b);
}
