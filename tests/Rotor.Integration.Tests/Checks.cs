using Rotor.Protocols;
using Rotor.Protocols.Frost;
using Rotor.Rpc.Coordinator;

namespace Rotor.Integration.Tests;

/// <summary>Assertions over the coordinator's replies.</summary>
public static class Checks
{
    /// <summary>Checks a signature with the scheme's standard verifier under the given public key.</summary>
    public static void Verifies(SignReply s, string publicKeyHex)
    {
        var ok = SchemeSignatures.Verify(Schemes.Parse(s.Scheme), Convert.FromHexString(publicKeyHex), s.Message.Span, s.Signature.Span);
        Assert.True(ok, $"signature of {s.WalletId} does not verify under {publicKeyHex}");
    }

    /// <summary>
    /// Polls the quorum's status until every member is online with a healthy vault and every wallet is held at
    /// exactly its current epoch, active, with nothing pending, on every member (settlement after a restart
    /// takes a heartbeat or two); fails with the last status otherwise.
    /// </summary>
    public static async Task<QuorumStatus> SettledAsync(ClusterApi api, string quorum, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        QuorumStatus status;
        while (true)
        {
            status = await api.Status(quorum);
            if (IsSettled(status)) return status;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(300);
        }
        Assert.Fail($"quorum {quorum} did not settle: {status}");
        return status;
    }

    private static bool IsSettled(QuorumStatus status) =>
        status.Members.All(m => m.Online && m.VaultHealthy) &&
        status.Wallets.All(w => w.Nodes.All(n => n.PendingEpochs.Count == 0 && n.ActiveEpochs.Count == 1 && n.ActiveEpochs[0] == w.Wallet.Epoch));
}

/// <summary>Direct edits of a stopped process's SQLite file (a lost disk, a tampered row), for fault tests.</summary>
public static class Databases
{
    /// <summary>Runs one statement on <paramref name="db"/> and fails unless it changed a row.</summary>
    public static void Change(string db, string sql, params (string Name, object Value)[] args)
    {
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
            Assert.True(cmd.ExecuteNonQuery() > 0, $"no row changed by: {sql}");
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
