using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;
using Rotor.Crypto.Envelopes;
using Rotor.Node.Backups;
using Rotor.Rpc.Backups;
using Rotor.Rpc.Coordinator;
using Rotor.Rpc.Operations;
using Rotor.Rpc.Tls;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// <c>rotor backup create|verify|restore|list|keygen</c>. Passphrases and recipient private keys never reach the
/// coordinator in clear: the CLI seals them to the node's X25519 identity key, and checks files locally first.
/// </summary>
public static class BackupCommands
{
    public static Command Create()
    {
        var backup = new Command("backup", "Encrypted, epoch-bound backups of a node's shards");
        backup.Add(CreateCommand());
        backup.Add(VerifyCommand());
        backup.Add(RestoreCommand());
        backup.Add(ListCommand());
        backup.Add(KeygenCommand());
        return backup;
    }

    private static Command CreateCommand()
    {
        var cmd = new Command("create", "Export a node's current shards into an encrypted file the coordinator registers but cannot read");
        var dir = RootCommandBuilder.Dir();
        var node = new Option<string>("--node") { Description = "The node whose shards to back up", Required = true };
        var wallets = new Option<string?>("--wallets") { Description = "Comma-separated wallet ids (default: every wallet the node holds)" };
        var output = new Option<string>("--out") { Description = "File to write (must not exist)", Required = true };
        var passphrase = new Option<string?>("--passphrase-file") { Description = "No longer supported: passphrase backups would pass through the coordinator (refused with an explanation)" };
        var recipient = new Option<string?>("--recipient")
        {
            Description = "X25519 public key (hex or base64) to seal the backup to; the node must have it pinned (default: the local cluster's DIR/backup-recipient.pub)",
        };
        var approveWith = RequestFlow.ApproveWith();
        cmd.Add(dir); cmd.Add(node); cmd.Add(wallets); cmd.Add(output); cmd.Add(passphrase); cmd.Add(recipient); cmd.Add(approveWith);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var nodeName = p.GetValue(node)!;
            var path = p.GetValue(output)!;
            if (File.Exists(path)) throw new CliException($"--out {path} already exists; backups are never overwritten");
            if (p.GetValue(passphrase) is not null)
                throw new CliException(PassphraseRefused + "; use --recipient with a key pinned on the node (rotor backup keygen, rotor node init --backup-recipients)");
            var cluster = LocalCluster.From(p.GetValue(dir));
            var recipientText = p.GetValue(recipient)
                ?? (File.Exists(cluster.BackupRecipientPublicFile) ? File.ReadAllText(cluster.BackupRecipientPublicFile).Trim()
                    : throw new CliException($"give --recipient (an X25519 public key pinned on node '{nodeName}'); {cluster.BackupRecipientPublicFile} does not exist"));
            byte[] recipientKey;
            try { recipientKey = BackupRecipients.Parse(recipientText, "--recipient"); }
            catch (ArgumentException e) { throw new CliException(e.Message); }
            using var client = cluster.Connect();
            var id = BackupFile.NewId();
            var req = new CreateBackupRequest { Node = nodeName, BackupId = id, Recipient = Convert.ToHexStringLower(recipientKey) };
            req.Wallets.AddRange(RootCommandBuilder.List(p.GetValue(wallets)));
            var request = await RequestFlow.SubmitAsync(client, new ActionSpec { Backup = req }, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, $"backing up {nodeName}");
            if (RequestFlow.Outcome(request, o) is not { } outcome)
            {
                o.Line($"when approved, write the file with: rotor approve {request.Id} --key FILE --out {path} (or rotor requests show {request.Id} --out {path})");
                return;
            }
            var b = outcome.Backup;
            SecretFiles.Write(path, b.File.ToByteArray());
            var json = Json(b);
            json["file"] = Path.GetFullPath(path);
            o.Result(RequestFlow.Stamp(json, request), () =>
            {
                RequestFlow.PrintApproved(o, request);
                o.Line($"backup [bold]{b.Id}[/] of {b.Node}: {string.Join(", ", b.Shards.Select(s => $"{s.Wallet}@{s.Epoch}"))} -> {path}");
            });
        }));
        return cmd;
    }

    private static Command VerifyCommand()
    {
        var cmd = new Command("verify", "Say, without restoring, whether each wallet in a backup is current or stale, and why");
        var dir = RootCommandBuilder.Dir();
        var file = new Argument<string>("file") { Description = "The backup file" };
        var passphrase = new Option<string?>("--passphrase-file") { Description = "Authenticate the file with its passphrase" };
        var keyFile = new Option<string?>("--key-file") { Description = "Authenticate a recipient backup with the recipient's private key file" };
        var node = new Option<string?>("--node") { Description = "Check against this node (default: the backup's node)" };
        cmd.Add(dir); cmd.Add(file); cmd.Add(passphrase); cmd.Add(keyFile); cmd.Add(node);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var bytes = ReadBackup(p.GetValue(file)!, out var parsed);
            RefusePassphraseFile(parsed);
            var authenticated = false;
            var allCurrent = false;
            if (KeyFrom(p.GetValue(passphrase), p.GetValue(keyFile), out var owned) is { } key)
                using (owned)
                {
                    await o.Progress("authenticating the backup", () => Task.Run(() => Backup(() => parsed.Open(key))));
                    authenticated = true;
                }
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var v = await client.Operations.VerifyBackupAsync(new VerifyBackupRequest { File = ByteString.CopyFrom(bytes), Authenticated = authenticated, Node = p.GetValue(node) ?? "" });
            var json = new JsonObject
            {
                ["backupId"] = v.BackupId, ["node"] = v.Node, ["authenticated"] = v.Authenticated, ["registered"] = v.RegisteredStatus,
                ["allCurrent"] = allCurrent = v.Shards.All(s => s.Current),
                ["shards"] = new JsonArray(v.Shards.Select(s => (JsonNode)new JsonObject
                {
                    ["wallet"] = s.Wallet, ["backupEpoch"] = s.BackupEpoch, ["currentEpoch"] = s.CurrentEpoch, ["status"] = s.Current ? "current" : "stale",
                    ["reason"] = s.Reason, ["why"] = s.Explanation,
                }).ToArray()),
            };
            o.Result(json, () =>
            {
                o.Line(v.Authenticated
                    ? (FormattableString)$"backup [bold]{v.BackupId}[/] of {v.Node}: [green]authenticated[/], registry: {v.RegisteredStatus}"
                    : $"backup [bold]{v.BackupId}[/] of {v.Node}: [yellow]not authenticated (no passphrase or key given): binding fields as the file states them[/], registry: {v.RegisteredStatus}");
                var table = new Table().AddColumns("wallet", "backup epoch", "current epoch", "status", "why");
                foreach (var s in v.Shards)
                    table.AddRow(s.Wallet, s.BackupEpoch.ToString(), s.CurrentEpoch.ToString(), s.Current ? "[green]current[/]" : "[red]stale[/]", Markup.Escape(s.Explanation));
                AnsiConsole.Write(table);
                if (!allCurrent) o.Line($"[red]stale:[/] this backup cannot be restored (exit code 3)");
            });
            // A stale backup is a failed check: exit code 3 (the JSON above still says why, shard by shard).
            return allCurrent ? 0 : 3;
        }));
        return cmd;
    }

    private static Command RestoreCommand()
    {
        var cmd = new Command("restore", "Restore a backup's shards onto a node, only when every shard is current");
        var dir = RootCommandBuilder.Dir();
        var node = new Option<string>("--node") { Description = "The node to restore onto", Required = true };
        var file = new Argument<string>("file") { Description = "The backup file" };
        var passphrase = new Option<string?>("--passphrase-file") { Description = "No longer supported through the coordinator (refused with an explanation)" };
        var keyFile = new Option<string?>("--key-file") { Description = "The recipient's private key file (default: the local cluster's DIR/backup-recipient.key)" };
        var approveWith = RequestFlow.ApproveWith();
        cmd.Add(dir); cmd.Add(node); cmd.Add(file); cmd.Add(passphrase); cmd.Add(keyFile); cmd.Add(approveWith);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var nodeName = p.GetValue(node)!;
            var bytes = ReadBackup(p.GetValue(file)!, out var parsed);
            RefusePassphraseFile(parsed);
            if (p.GetValue(passphrase) is not null) throw new CliException(PassphraseRefused + "; a recipient backup is restored with --key-file");
            var cluster = LocalCluster.From(p.GetValue(dir));
            var keyPath = p.GetValue(keyFile)
                ?? (File.Exists(cluster.BackupRecipientKeyFile) ? cluster.BackupRecipientKeyFile : throw new CliException("give --key-file (the recipient's private key file)"));
            var (kind, secret) = (BackupSecretKind.RecipientKey, ReadKeyFile(keyPath));
            // Open the file here (a wrong key or an altered file is named before anything is sent), then seal it again to
            // the node's identity key as its CA-checked certificate states it: the recipient's private key never leaves
            // this machine, and only that node can open what crosses the coordinator.
            IReadOnlyList<Rotor.Protocols.Keys.KeyShare> shares;
            var key = BackupSecrets.ToKey(kind, secret, out var owned);
            try { using (owned) shares = await o.Progress("authenticating the backup", () => Task.Run(() => Backup(() => parsed.Open(key)))); }
            finally { System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret); }
            using var client = cluster.Connect();
            var nodeKeys = await CertifiedKeys(client, cluster, nodeName);
            var resealed = BackupFile.Create(parsed.Node, shares, BackupLock.Recipient(nodeKeys.AgreementKey), parsed.Id, parsed.Created);
            var spec = new ActionSpec
            {
                Restore = new RestoreBackupRequest
                {
                    Node = nodeName, File = ByteString.CopyFrom(resealed), Key = new Rotor.Rpc.Operations.SealedSecret { Kind = BackupSecrets.NodeIdentityKind },
                },
            };
            var request = await RequestFlow.SubmitAsync(client, spec, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, $"restoring onto {nodeName}");
            if (RequestFlow.Outcome(request, o) is not { } outcome) return;
            var r = outcome.Restore;
            o.Result(RequestFlow.Stamp(new JsonObject { ["backupId"] = r.BackupId, ["node"] = r.Node, ["restored"] = Records.Strings(r.Restored), ["alreadyHeld"] = Records.Strings(r.AlreadyHeld) }, request),
                () =>
                {
                    RequestFlow.PrintApproved(o, request);
                    o.Line($"backup [bold]{r.BackupId}[/] restored onto {r.Node}: {string.Join(", ", r.Restored)}{(r.AlreadyHeld.Count > 0 ? $" (already held: {string.Join(", ", r.AlreadyHeld)})" : "")}");
                });
        }));
        return cmd;
    }

    private static Command ListCommand()
    {
        var cmd = new Command("list", "Registered backups and whether a commit has made them obsolete");
        var dir = RootCommandBuilder.Dir();
        var node = new Option<string?>("--node") { Description = "Only this node's backups" };
        var wallet = new Option<string?>("--wallet") { Description = "Only backups holding this wallet" };
        cmd.Add(dir); cmd.Add(node); cmd.Add(wallet);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            using var client = LocalCluster.From(p.GetValue(dir)).Connect();
            var list = await client.Operations.ListBackupsAsync(new ListBackupsRequest { Node = p.GetValue(node) ?? "", Wallet = p.GetValue(wallet) ?? "" });
            o.Result(new JsonObject { ["backups"] = new JsonArray(list.Backups.Select(b => (JsonNode)Json(b)).ToArray()) }, () =>
            {
                var table = new Table().AddColumns("backup", "node", "wallets", "created", "status");
                foreach (var b in list.Backups)
                    table.AddRow(b.Id, b.Node, string.Join(", ", b.Shards.Select(s => $"{s.Wallet}@{s.Epoch}")), DateTimeOffset.FromUnixTimeMilliseconds(b.Created).ToString("u"),
                        b.Status == "current" ? "[green]current[/]" : $"[red]obsolete[/] ({Markup.Escape(b.ObsoletedBy)})");
                AnsiConsole.Write(table);
            });
        }));
        return cmd;
    }

    private static Command KeygenCommand()
    {
        var cmd = new Command("keygen", "Make an X25519 recipient key pair for backups: the private key goes to a new 0600 file, the public key is printed");
        var output = new Option<string>("--out") { Description = "Private key file to write (must not exist)", Required = true };
        cmd.Add(output);
        cmd.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var path = p.GetValue(output)!;
            if (File.Exists(path)) throw new CliException($"--out {path} already exists");
            using var key = SealedBoxKey.Create();
            var priv = key.ExportPrivate();
            try { SecretFiles.Write(path, Convert.ToHexStringLower(priv)); }
            finally { System.Security.Cryptography.CryptographicOperations.ZeroMemory(priv); }
            var pub = Convert.ToHexStringLower(key.PublicKey);
            o.Result(new JsonObject { ["publicKey"] = pub, ["keyFile"] = Path.GetFullPath(path) },
                () => o.Line($"recipient public key [bold]{pub}[/] (private key in {path}, keep it offline)"));
            return Task.CompletedTask;
        }));
        return cmd;
    }

    // ------------------------------------------------------------------ helpers

    private static JsonObject Json(BackupRecord b) => new()
    {
        ["backupId"] = b.Id, ["node"] = b.Node, ["status"] = b.Status, ["mode"] = b.Mode, ["fingerprint"] = b.Fingerprint,
        ["created"] = b.Created, ["obsoletedBy"] = b.ObsoletedBy.Length > 0 ? b.ObsoletedBy : null, ["nodePath"] = b.NodePath.Length > 0 ? b.NodePath : null,
        ["wallets"] = new JsonArray(b.Shards.Select(s => (JsonNode)new JsonObject { ["wallet"] = s.Wallet, ["epoch"] = s.Epoch }).ToArray()),
    };

    private const string PassphraseRefused =
        "passphrase backups are no longer made or restored through the coordinator: the file would pass through it, and it could guess the passphrase offline";

    /// <summary>A passphrase-locked file is never sent to the coordinator (it could be guessed offline there).</summary>
    private static void RefusePassphraseFile(BackupFile parsed)
    {
        if (parsed.Mode == BackupMode.Passphrase)
            throw new CliException($"backup {parsed.Id} is locked with a passphrase; {PassphraseRefused}. Nothing was sent.");
    }

    /// <summary>
    /// The node's identity keys from its certificate, checked here against the cluster CA (DIR/ca/ca.crt) and the node's
    /// name: never a key the coordinator reports.
    /// </summary>
    private static async Task<Rotor.Crypto.Envelopes.IdentityKeys> CertifiedKeys(ClusterClient client, LocalCluster cluster, string node)
    {
        var nodes = await client.Coordinator.ListNodesAsync(new ListNodesRequest());
        var entry = nodes.Nodes.FirstOrDefault(n => n.Name == node) ?? throw new CliException($"no node named '{node}' is registered");
        return NodeCertificates.Verify(cluster, entry.Certificate.Span, node);
    }


    /// <summary>A passphrase file (only its owner may read it); one trailing newline is not part of the passphrase.</summary>
    private static string ReadPassphrase(string path)
    {
        var text = SecretFiles.Read(path);
        var pass = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        if (pass.Length == 0) throw new CliException($"passphrase file {path} is empty");
        return pass;
    }

    private static byte[] ReadKeyFile(string path)
    {
        var hex = SecretFiles.Read(path).Trim();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit)) throw new CliException($"key file {path} must hold a 32-byte X25519 private key as 64 hex digits");
        return Convert.FromHexString(hex);
    }

    private static BackupKey? KeyFrom(string? passphraseFile, string? keyFile, out IDisposable? owned)
    {
        owned = null;
        return (passphraseFile, keyFile) switch
        {
            (null, null) => null,
            ({ } f, null) => BackupKey.Passphrase(ReadPassphrase(f)),
            (null, { } k) => BackupSecrets.ToKey(BackupSecretKind.RecipientKey, ReadKeyFile(k), out owned),
            _ => throw new CliException("give at most one of --passphrase-file and --key-file"),
        };
    }

    private static byte[] ReadBackup(string path, out BackupFile parsed)
    {
        if (!File.Exists(path)) throw new CliException($"backup file not found: {path}");
        var bytes = File.ReadAllBytes(path);
        parsed = Backup(() => BackupFile.Parse(bytes));
        return bytes;
    }

    /// <summary>Runs a backup operation, turning its refusal into the CLI's error (the message names the fault).</summary>
    private static T Backup<T>(Func<T> action)
    {
        try { return action(); }
        catch (BackupException e) { throw new CliException($"{Describe(e.Fault)}: {e.Message}"); }
    }

    private static string Describe(BackupFault f) => f switch
    {
        BackupFault.Truncated => "truncated backup file",
        BackupFault.Malformed => "malformed backup file",
        BackupFault.Unsupported => "unsupported backup file",
        BackupFault.WrongPassphrase => "wrong passphrase",
        BackupFault.WrongKey => "wrong key",
        BackupFault.Tampered => "tampered backup file",
        _ => "backup refused",
    };
}
