using System.Security.Cryptography;
using Rotor.Crypto.Sharing;
using Rotor.Protocols;
using Rotor.Protocols.Dkg;
using Rotor.Protocols.Ecdsa;
using Rotor.Protocols.Frost;
using Rotor.Protocols.Keys;
using Rotor.Protocols.Keys.Hd;
using Rotor.Protocols.Repair;
using Rotor.Protocols.Resharing;

namespace Rotor.Cli.Simulation;

/// <summary>
/// <see cref="Simulator"/> for ecdsa-secp256k1: Rotor's DKG, then DKLs23's pairwise OT setup between every two
/// members (redone after every refresh, restructure and repair, as the services do), DKLs23 signing of 32-byte
/// digests by random subsets of at least max(2, t) members, each signature checked with standard ECDSA verification
/// and public-key recovery from its recovery id. Old shards (with their old OT material) mixed into a signing set
/// must be refused by name.
/// </summary>
internal static class EcdsaSimulator
{
    /// <summary>Checks what the scheme needs before any work: 32-byte digests, at least 2 members in every epoch.</summary>
    public static void Validate(int members, IReadOnlyList<byte[]> messages, IReadOnlyList<SimulationStep> steps)
    {
        foreach (var m in messages)
            if (m.Length != EcdsaSignSession.MessageDigestLength)
                throw new ArgumentException(DigestLengthError("--sign", m.Length));
        if (members < 2) throw new ArgumentException($"--members {members}: ecdsa-secp256k1 signs with at least 2 members (DKLs23 is a multi-party protocol)");
        foreach (var r in steps.OfType<SimulationStep.Restructure>())
            if (r.Members.Count < 2) throw new ArgumentException($"--restructure {string.Join(",", r.Members)}:{r.Threshold}: ecdsa-secp256k1 needs at least 2 members");
    }

    /// <summary>The error for a message that is not a 32-byte digest, naming its length.</summary>
    public static string DigestLengthError(string option, int length) =>
        $"{option}: an ecdsa-secp256k1 signature signs the 32-byte digest the chain defines (Ethereum: keccak-256 of the transaction or EIP-191/712 message; Bitcoin: the sighash), given as 64 hex characters; got {length} byte{(length == 1 ? "" : "s")}";

    public static SimulationResult Run(int threshold, int members, IReadOnlyList<byte[]> messages,
        IReadOnlyList<SimulationStep> steps, Action<string>? progress, DerivationPath path)
    {
        const Scheme scheme = Scheme.EcdsaSecp256k1;
        Validate(members, messages, steps);
        var keyId = "sim-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        progress?.Invoke($"DKG: {threshold}-of-{members} {scheme.Name()}, then the OT setup of {members * (members - 1) / 2} pairs");
        var current = EcdsaRunner.Setup(DkgRunner.RunInProcess(scheme, keyId, threshold, members));
        var groupKey = Hex(SchemeKeys.EncodePublicKey(scheme, current[0].Public.GroupPublicKey));
        string? Child(EcdsaKeyShare[] shares) => path.IsRoot ? null : Hex(HdDerivation.ChildPublicKey(shares[0].Public, path));
        var childKey = Child(current);
        var shown = childKey ?? groupKey;
        var addresses = Addresses.ByChain(scheme, Convert.FromHexString(shown))!;
        var initial = SignAll(current, messages, path);
        var epochs = new List<SimulatedEpoch>();
        EcdsaKeyShare[]? previous = null;
        var group = scheme.Group();

        foreach (var step in steps)
        {
            progress?.Invoke($"{step.Name} from epoch {current[0].Share.Epoch}, then new OT setup");
            bool? staleRefused;
            ulong? repaired = null;
            var t = current[0].Public.Threshold;
            switch (step)
            {
                case SimulationStep.Refresh:
                    previous = current;
                    current = EcdsaRunner.Setup(Reshare.RunInProcess(Shares(Pick(current, t)), current[0].Share.Members, t));
                    staleRefused = TryMixedSigning(previous, current);
                    break;
                case SimulationStep.Restructure r:
                    previous = current;
                    var ids = r.Members.Select(m => Identifier.FromUInt64(group, m)).ToArray();
                    current = EcdsaRunner.Setup(Reshare.RunInProcess(Shares(Pick(current, t)), ids, r.Threshold));
                    staleRefused = TryMixedSigning(previous, current);
                    break;
                case SimulationStep.Repair p:
                    var target = Identifier.FromUInt64(group, p.Member);
                    if (!current[0].Public.IsMember(target))
                        throw new ArgumentException($"--repair {p.Member}: member {p.Member} is not a member of epoch {current[0].Share.Epoch} (members {Members(current[0])})");
                    if (current.Length - 1 < t)
                        throw new ArgumentException($"--repair {p.Member}: needs {t} other members, epoch {current[0].Share.Epoch} has {current.Length - 1}");
                    // t others rebuild the target's share; then the target sets up fresh OT material with every
                    // other member, who replace their material for the target.
                    var others = current.Where(s => s.Identifier != target).OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).ToArray();
                    var stale = previous?.FirstOrDefault(s => s.Identifier == target);
                    current = EcdsaRunner.Repair(others, target);
                    staleRefused = stale is null ? null : TryMixedSigning([stale], current);
                    repaired = p.Member;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(steps));
            }
            var key = current[0].Share;
            var newKey = Hex(SchemeKeys.EncodePublicKey(scheme, key.GroupPublicKey));
            if (newKey != groupKey) throw new InvalidOperationException($"the group public key changed in the {step.Name}: a bug");
            var newChild = Child(current);
            if (newChild != childKey) throw new InvalidOperationException($"the key at {path} changed in the {step.Name}: a bug");
            var newAddresses = Addresses.ByChain(scheme, Convert.FromHexString(newChild ?? newKey))!;
            if (!newAddresses.OrderBy(a => a.Key).SequenceEqual(addresses.OrderBy(a => a.Key)))
                throw new InvalidOperationException($"an address changed in the {step.Name}: a bug");
            epochs.Add(new SimulatedEpoch(step.Name, key.Epoch, key.Members.Select(Number).ToArray(), key.Threshold, newKey,
                SignAll(current, messages, path), staleRefused, repaired, newChild));
        }
        return new SimulationResult(scheme, threshold, members, groupKey, initial, epochs,
            path.IsRoot ? null : path.ToString(), childKey, childKey is null ? null : Addresses.For(scheme, Convert.FromHexString(childKey)), addresses);
    }

    /// <summary>
    /// Signs each digest with a random subset of max(2, t) members and checks it: standard ECDSA verification
    /// under the (child) key, low S, and recovery of that key from the recovery id. For a path, every signer's
    /// share is derived (s′ = s + o) and the simulator sets up OT material for the derived shares.
    /// </summary>
    private static SimulatedSignature[] SignAll(EcdsaKeyShare[] shares, IReadOnlyList<byte[]> messages, DerivationPath path)
    {
        if (messages.Count == 0) return [];
        var keys = path.IsRoot ? shares : EcdsaRunner.Setup(shares.Select(s => HdDerivation.DeriveShare(s.Share, path)).ToArray());
        var pk = keys[0].Public.GroupPublicKey;
        return messages.Select(m =>
        {
            var signers = Pick(keys, Math.Max(2, keys[0].Public.Threshold)).OrderBy(s => s.Identifier).ToArray();
            var sig = EcdsaRunner.Sign(signers, m);
            var rs = sig.ToBytes();
            bool ok = SchemeSignatures.Verify(Scheme.EcdsaSecp256k1, pk, m, rs) && EcdsaSignature.IsLowS(sig.S)
                      && EcdsaRecovery.RecoveryId(pk, m, rs) == sig.RecoveryId;
            if (!ok) throw new InvalidOperationException("an ECDSA signature did not verify or recover its key: a bug");
            return new SimulatedSignature(Hex(m), signers.Select(s => Number(s.Identifier)).ToArray(), Hex(rs), ok, sig.RecoveryId);
        }).ToArray();
    }

    /// <summary>One key share of the earlier epoch (with its OT material) signing among new-epoch shares: true when refused naming it.</summary>
    private static bool TryMixedSigning(EcdsaKeyShare[] older, EcdsaKeyShare[] newer)
    {
        // a member of both epochs if there is one (its old share is the dangerous one); a removed member's old
        // share is refused earlier, as a signer that is not a member of the epoch
        var kept = older.Where(o => newer[0].Public.IsMember(o.Identifier)).ToArray();
        var stale = Pick(kept.Length > 0 ? kept : older, 1)[0];
        var others = newer.Where(s => s.Identifier != stale.Identifier).ToArray();
        var fresh = Pick(others, Math.Max(2, newer[0].Public.Threshold) - 1);
        try
        {
            EcdsaRunner.Sign([.. fresh, stale], SHA256.HashData("rotor stale-share check"u8));
            return false;
        }
        catch (ProtocolException e) when (e.Fault == Fault.StaleShare && e.Culprits.Contains(stale.Identifier))
        {
            return true;
        }
        catch (ArgumentException e) when (!newer[0].Public.IsMember(stale.Identifier) && e.Message.Contains($"signer {stale.Identifier} is not a member"))
        {
            return true;
        }
    }

    private static KeyShare[] Shares(IEnumerable<EcdsaKeyShare> keys) => keys.Select(k => k.Share).ToArray();

    private static T[] Pick<T>(IReadOnlyList<T> items, int count) =>
        items.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue)).Take(count).ToArray();

    private static ulong Number(Identifier id) => (ulong)id.Value;

    private static string Members(EcdsaKeyShare k) => string.Join(",", k.Share.Members.Select(Number));

    private static string Hex(byte[] b) => Convert.ToHexStringLower(b);
}
