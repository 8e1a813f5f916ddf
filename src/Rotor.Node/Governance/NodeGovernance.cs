using System.Text;
using Rotor.Node.Sessions;
using Rotor.Node.Vault;
using Rotor.Protocols.Governance;
using Rotor.Rpc.Node;
using Authorization = Rotor.Rpc.Node.Authorization;
using Rotor.Rpc.Storage;

namespace Rotor.Node.Governance;

/// <summary>
/// The node's own enforcement of the operators' policy. It holds the pinned <see cref="GovernancePolicy"/> (in the
/// vault, authenticated by the vault key), checks every sensitive action's approvals against it, compares the
/// approved description field by field with what the node is asked to do, and spends single-use request ids in a
/// durable ledger. The coordinator relays approvals; it cannot make, alter or replay one.
/// </summary>
public sealed partial class NodeGovernance : IDisposable
{
    /// <summary>Vault secret holding the pinned policy (canonical JSON).</summary>
    public const string PolicySecret = "governance-policy";

    private const string QuorumSecretPrefix = "quorum:";

    private readonly NodeState node;
    private readonly SqliteDatabase ledger;
    private readonly Func<DateTimeOffset> clock;
    private GovernancePolicy policy;

    public NodeGovernance(NodeState node, string ledgerPath, Func<DateTimeOffset>? clock = null)
    {
        this.node = node;
        this.clock = clock ?? (() => DateTimeOffset.UtcNow);
        var bytes = node.WithVault(v => v.GetSecret(PolicySecret))
            ?? throw new VaultException($"node '{node.Name}' pins no governance policy; initialise it with rotor node init --approvers ...");
        policy = GovernancePolicy.Decode(bytes);
        ledger = new SqliteDatabase(ledgerPath, "CREATE TABLE IF NOT EXISTS used_requests (request_id TEXT PRIMARY KEY, action TEXT NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 1);");
    }

    /// <summary>Pins <paramref name="policy"/> in a new node's vault (at init).</summary>
    public static void Pin(ShareVault vault, GovernancePolicy policy) => vault.ReplaceSecret(PolicySecret, policy.Validated().Encode());

    public GovernancePolicy Policy => Volatile.Read(ref policy);

    /// <summary>Verifies approvals for one of <paramref name="actions"/> under the pinned policy at the node's time.</summary>
    public VerifiedAction Verify(Authorization? authorization, params string[] actions) =>
        ApprovalVerifier.Verify(Policy, ToCore(authorization), clock(), actions);

    /// <summary>
    /// How many times a node acts on one approval. Every action once, except a signature: a signer may make its share
    /// of the approved message twice, so that the coordinator can retry a signing that an other signer broke off after
    /// this one had signed (a one-round signing whose nonces another signer lost in a restart, or a signing that raced a
    /// reshare's commit). Both shares are for the same message, key and signers the approval names; a third is refused.
    /// </summary>
    public static int UsesOf(string action) => action == Actions.Sign ? 2 : 1;

    /// <summary>
    /// Spends a request id: refuses one this node has already used <see cref="UsesOf"/> times. Durable before it
    /// returns, so a restart does not make an approval usable again.
    /// </summary>
    public void Consume(ActionRequest request)
    {
        lock (ledger)
        {
            ledger.Exec("DELETE FROM used_requests WHERE expires < $now", ("$now", clock().ToUnixTimeSeconds() - 86_400));
            var spent = ledger.Exec("INSERT INTO used_requests (request_id, action, expires, used, uses) VALUES ($id, $a, $e, $u, 1) " +
                                    "ON CONFLICT(request_id) DO UPDATE SET uses = uses + 1, used = $u WHERE uses < $max",
                ("$id", request.RequestId), ("$a", request.Action), ("$e", request.Expires.ToUnixTimeSeconds()), ("$u", clock().ToUnixTimeSeconds()),
                ("$max", UsesOf(request.Action)));
            if (spent == 0)
                throw new ApprovalException(ApprovalFault.Replayed,
                    $"request {request.RequestId} ({request.Action}) was already used on node '{node.Name}'" + (UsesOf(request.Action) > 1 ? $" {UsesOf(request.Action)} times (its limit)" : ""));
        }
    }

    /// <summary>The quorum a key was created in (recorded from its approved key generation), or null.</summary>
    public string? QuorumOf(string keyId)
    {
        var q = node.WithVault(v => v.GetSecret(QuorumSecretPrefix + keyId));
        return q is null ? null : Encoding.UTF8.GetString(q);
    }

    public void RecordQuorum(IEnumerable<string> keyIds, string quorum) => node.WithVault(v =>
    {
        foreach (var k in keyIds) v.ReplaceSecret(QuorumSecretPrefix + k, Encoding.UTF8.GetBytes(quorum));
    });

    /// <summary>
    /// Replaces the pinned policy: the change must be approved under the current policy's policy-change count, and
    /// raise the serial by exactly one.
    /// </summary>
    public GovernancePolicy Update(Authorization? authorization)
    {
        lock (ledger)
        {
            var verified = Verify(authorization, Actions.PolicyChange);
            var next = verified.Request.Policy ?? throw new ApprovalException(ApprovalFault.Malformed, "the policy change carries no policy");
            next.Validated();
            if (next.Serial != Policy.Serial + 1)
                throw new ApprovalException(ApprovalFault.InvalidPolicy, $"the new policy has serial {next.Serial}; node '{node.Name}' pins serial {Policy.Serial}, so it must be {Policy.Serial + 1}");
            Consume(verified.Request);
            node.WithVault(v => Pin(v, next));
            Volatile.Write(ref policy, next);
            return next;
        }
    }

    public static string IdentityOf(SessionParties parties, string name) =>
        Convert.ToHexStringLower((parties.KeysOf(name) ?? throw new SessionRefusedException($"'{name}' is not a party")).SigningKey);

    /// <summary>The members of a session as an approval names them: name, index and certified identity key.</summary>
    public static List<ApprovedMember> Members(IEnumerable<Party> given, SessionParties parties) =>
        given.Select(p => new ApprovedMember(p.Name, p.Index, IdentityOf(parties, p.Name))).ToList();

    public static Protocols.Governance.Authorization? ToCore(Authorization? a) =>
        a is null || a.Description.IsEmpty ? null
            : new Protocols.Governance.Authorization(a.Description.ToByteArray(), a.Approvals.Select(x => new ApprovalSignature(x.Key.ToByteArray(), x.Signature.ToByteArray())).ToList());

    public void Dispose() => ledger.Dispose();
}
