using System.Text.Json.Nodes;
using Rotor.Protocols;
using Rotor.Protocols.Frost;

namespace Rotor.Integration.Tests;

/// <summary>Assertions over the CLI's JSON.</summary>
public static class Checks
{
    /// <summary>Checks a `rotor sign` result with the scheme's standard verifier under the given public key.</summary>
    public static void Verifies(JsonObject signature, string publicKeyHex)
    {
        var scheme = Schemes.Parse(signature["scheme"]!.GetValue<string>());
        var ok = SchemeSignatures.Verify(scheme, Convert.FromHexString(publicKeyHex),
            Convert.FromHexString(signature["message"]!.GetValue<string>()), Convert.FromHexString(signature["signature"]!.GetValue<string>()));
        Assert.True(ok, $"signature of {signature["walletId"]} does not verify under {publicKeyHex}");
    }

    /// <summary>
    /// Polls `quorum status` until every wallet is held at exactly its current epoch, active, with nothing pending,
    /// on every member (settlement after a restart may take a few heartbeats); fails with the last status otherwise.
    /// </summary>
    public static async Task<JsonObject> SettledAsync(ClusterFixture cluster, string quorum, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(45));
        JsonObject status;
        while (true)
        {
            status = await cluster.Ok("quorum", "status", quorum);
            if (IsSettled(status)) return status;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(500);
        }
        Assert.Fail($"quorum {quorum} did not settle: {status.ToJsonString()}");
        return status;
    }

    private static bool IsSettled(JsonObject status)
    {
        var members = status["members"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToHashSet();
        if (status["members"]!.AsArray().Any(m => !m!["online"]!.GetValue<bool>() || !m["vaultHealthy"]!.GetValue<bool>())) return false;
        foreach (var w in status["wallets"]!.AsArray())
        {
            var epoch = w!["epoch"]!.GetValue<ulong>();
            foreach (var n in w["nodes"]!.AsArray())
            {
                var active = n!["activeEpochs"]!.AsArray().Select(e => e!.GetValue<ulong>()).ToList();
                var pending = n["pendingEpochs"]!.AsArray().Count;
                var isMember = members.Contains(n["node"]!.GetValue<string>());
                if (pending != 0) return false;
                if (isMember && (active.Count != 1 || active[0] != epoch)) return false;
            }
        }
        return true;
    }
}
