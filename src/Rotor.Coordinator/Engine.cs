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

namespace Rotor.Coordinator;

/// <summary>One entry for the audit log: kind, quorum, subject and details (public data only).</summary>
public sealed record AuditRecord(string Kind, string? Quorum, string? Subject, object Details);

/// <summary>
/// The coordinator's key lifecycle: quorums and wallets' public data, and the operations that change who holds a key
/// (reshare, repair, settlement of nodes left with pending epochs, in Reshare.cs and Operations/EngineRepair.cs).
/// Node registration and health are <see cref="Nodes"/>, key generation <see cref="KeyGeneration"/>, signing
/// <see cref="Signing"/>; all share the registry, the per-quorum locks, the relay and the audit hooks held here.
/// </summary>
public sealed partial class Engine
{
    private readonly Registry registry;
    private readonly NodeClients clients;

    public Engine(Registry registry, NodeClients clients, CoordinatorConfig config)
    {
        this.registry = registry;
        this.clients = clients;
        Driver = new(clients, TimeSpan.FromMilliseconds(config.NodeCallTimeoutMillis));
        Nodes = new(registry, clients);
        KeyGeneration = new(this, registry, Nodes);
        Signing = new(this, registry, Nodes, clients);
    }

    private readonly SemaphoreSlim reshareGate = new(1, 1);

    public Registry Registry => registry;

    /// <summary>One writer per quorum (reshares, wallet creation, repair, catch-up).</summary>
    public QuorumLocks Locks { get; } = new();

    /// <summary>Receives what the engine does for the audit log: kind, quorum, subject and details (public data only).</summary>
    public Action<string, string?, string?, object>? Audit
    {
        get => audit;
        set { audit = value; Nodes.Audit = value; }
    }
    private Action<string, string?, string?, object>? audit;

    /// <summary>Receives many audit records at once (e.g. every wallet of a key generation), to be logged together.</summary>
    public Action<IReadOnlyList<AuditRecord>>? AuditAll { get; set; }

    public SessionDriver Driver { get; }

    /// <summary>Registered nodes and their health.</summary>
    public NodeDirectory Nodes { get; }

    /// <summary>Distributed key generation of new wallets.</summary>
    public KeyGeneration KeyGeneration { get; }

    /// <summary>Threshold signing.</summary>
    public Signing Signing { get; }

    // Shorthands for the reshare and repair code of this class.
    private NodeEntry RequireNode(string name) => Nodes.RequireNode(name);
    private Task<NodeHealth> PollAsync(NodeEntry node) => Nodes.PollAsync(node);
    private Task RequireOnline(IEnumerable<NodeEntry> nodes, string what) => Nodes.RequireOnline(nodes, what);
    private void ForgetPresigned(IReadOnlySet<string> walletIds) => Signing.ForgetPresigned(walletIds);

    // ------------------------------------------------------------------ quorums

    public QuorumEntry CreateQuorum(string name, int threshold, IReadOnlyList<string> members)
    {
        RequireName("quorum", name);
        if (members.Count == 0) throw new CoordinatorException(StatusCode.InvalidArgument, "a quorum needs members");
        if (members.Distinct().Count() != members.Count) throw new CoordinatorException(StatusCode.InvalidArgument, "a member is listed twice");
        foreach (var m in members) Nodes.RequireNode(m);
        if (threshold < 1 || threshold > members.Count)
            throw new CoordinatorException(StatusCode.InvalidArgument, $"threshold {threshold} is outside 1..{members.Count}");
        QuorumEntry created;
        try { created = registry.CreateQuorum(name, threshold, members); }
        catch (InvalidOperationException e) { throw new CoordinatorException(StatusCode.AlreadyExists, e.Message); }
        Audit?.Invoke(Rotor.Coordinator.Audit.AuditKinds.QuorumCreated, name, name, new { threshold, members });
        return created;
    }

    /// <summary>The node and quorum name rule (<see cref="Names"/>), as an invalid-argument error of the API.</summary>
    internal static void RequireName(string what, string name)
    {
        try
        {
            if (what == "node") Names.ValidateNode(name);
            else Names.Validate(what, name);
        }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
    }

    public QuorumEntry RequireQuorum(string name) =>
        registry.FindQuorum(name) ?? throw new CoordinatorException(StatusCode.NotFound, $"no quorum named '{name}'");

    // ------------------------------------------------------------------ wallets

    public WalletEntry RequireWallet(string id) =>
        registry.FindWallet(id) ?? throw new CoordinatorException(StatusCode.NotFound, $"no wallet '{id}'");

    /// <summary>
    /// The validated public key package of a wallet's epoch, rebuilt from the registry; validated once per process
    /// (<see cref="ValidatedPackages"/>: signing does not decode and check the same package again).
    /// </summary>
    public PublicKeyPackage PublicPackage(WalletEntry wallet, WalletEpoch epoch)
    {
        var digest = Schemes.TryParse(wallet.Scheme, out var scheme)
            ? ValidatedPackages.Digest(wallet.Id, wallet.Scheme, epoch.Epoch, epoch.Threshold,
                epoch.VerifyingShares.OrderBy(kv => kv.Key).Select(kv => (scheme.Group().ScalarFromUInt64(kv.Key).ToBytes(), Convert.FromHexString(kv.Value),
                    epoch.MemberKeys is { } k && k.TryGetValue(kv.Key, out var key) ? Convert.FromHexString(key) : [])),
                Convert.FromHexString(wallet.PublicKey),
                wallet.ChainCode is null ? null : Convert.FromHexString(wallet.ChainCode), wallet.InternalKey is null ? null : Convert.FromHexString(wallet.InternalKey))
            : "";
        return ValidatedPackages.Shared.GetOrValidate(digest, () => BuildPackage(wallet, epoch));
    }

    private static PublicKeyPackage BuildPackage(WalletEntry wallet, WalletEpoch epoch)
    {
        var scheme = Schemes.Parse(wallet.Scheme);
        var g = scheme.Group();
        var shares = epoch.VerifyingShares.ToDictionary(kv => Identifier.FromUInt64(g, kv.Key), kv => g.DecodeElement(Convert.FromHexString(kv.Value)));
        var pub = new PublicKeyPackage(wallet.Id, scheme, epoch.Epoch, epoch.Threshold, shares, g.DecodeElement(Convert.FromHexString(wallet.PublicKey)));
        if (epoch.MemberKeys is { Count: > 0 } keys)
            pub = pub.WithMemberKeys(keys.ToDictionary(kv => Identifier.FromUInt64(g, kv.Key), kv => Convert.FromHexString(kv.Value)));
        if (wallet.ChainCode is { } cc)
            pub = pub.WithHdRoot(Convert.FromHexString(cc), wallet.InternalKey is { } ik ? g.DecodeElement(Convert.FromHexString(ik)) : null);
        return pub;
    }

    /// <summary>The wallet's key as the scheme shows it (bip340: x-only), hex, and its address.</summary>
    public static (string PublicKey, string Address) Display(WalletEntry wallet)
    {
        var scheme = Schemes.Parse(wallet.Scheme);
        var key = SchemeKeys.EncodePublicKey(scheme, scheme.Group().DecodeElement(Convert.FromHexString(wallet.PublicKey)));
        return (Convert.ToHexStringLower(key), Addresses.For(scheme, key));
    }

    /// <summary>Parses a derivation path for a request: empty = the root; a bad one is InvalidArgument naming what is wrong.</summary>
    public static DerivationPath ParsePath(string? path)
    {
        if (string.IsNullOrEmpty(path)) return DerivationPath.Root;
        try { return DerivationPath.Parse(path); }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, e.Message); }
    }

    /// <summary>The public package of the child key at <paramref name="path"/> (the root for m); FailedPrecondition for a wallet without a chain code.</summary>
    public PublicKeyPackage DerivedPackage(WalletEntry wallet, WalletEpoch epoch, DerivationPath path)
    {
        var pub = PublicPackage(wallet, epoch);
        try { return HdDerivation.DerivePackage(pub, path); }
        catch (HdUnavailableException e) { throw new CoordinatorException(StatusCode.FailedPrecondition, e.Message); }
        catch (ArgumentException e) { throw new CoordinatorException(StatusCode.InvalidArgument, $"wallet '{wallet.Id}' path {path}: {e.Message}"); }
    }
}
