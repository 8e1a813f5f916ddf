using Rotor.Protocols.Governance;

namespace Rotor.Cli.Governance;

/// <summary>Turns <c>--approvers</c>, <c>--approvals</c> and <c>--policy-file</c> into a governance policy.</summary>
public static class PolicyOptions
{
    /// <summary>The policy the options describe, or null when none was given.</summary>
    public static GovernancePolicy? From(string? approvers, int? approvals, string? policyFile)
    {
        if (policyFile is not null)
        {
            if (approvers is not null || approvals is not null) throw new CliException("give either --policy-file or --approvers/--approvals, not both");
            if (!File.Exists(policyFile)) throw new CliException($"policy file not found: {policyFile}");
            try { return GovernancePolicy.Decode(File.ReadAllBytes(policyFile)); }
            catch (ApprovalException e) { throw new CliException($"{policyFile}: {e.Message}"); }
        }
        if (approvers is null)
        {
            if (approvals is not null) throw new CliException("--approvals needs --approvers");
            return null;
        }
        var list = ParseApprovers(approvers);
        var m = approvals ?? throw new CliException("--approvers needs --approvals M (how many approvals each action needs)");
        try { return GovernancePolicy.Uniform(list, m); }
        catch (ApprovalException e) { throw new CliException(e.Message); }
    }

    /// <summary>NAME=PUBKEY or PUBKEY (64 hex digits), comma-separated; unnamed approvers are called approver1, approver2...</summary>
    public static List<Approver> ParseApprovers(string text)
    {
        var result = new List<Approver>();
        var items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0) throw new CliException("--approvers is empty");
        foreach (var item in items)
        {
            var eq = item.IndexOf('=');
            var name = eq > 0 ? item[..eq] : $"approver{result.Count + 1}";
            var key = (eq > 0 ? item[(eq + 1)..] : item).ToLowerInvariant();
            if (key.Length != 64 || !key.All(Uri.IsHexDigit))
                throw new CliException($"approver '{name}': '{(eq > 0 ? item[(eq + 1)..] : item)}' is not an Ed25519 public key (64 hex digits, as rotor operator keygen prints)");
            result.Add(new Approver(name, key));
        }
        return result;
    }
}
