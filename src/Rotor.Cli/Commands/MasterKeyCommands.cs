using System.CommandLine;
using System.Text.Json.Nodes;
using Rotor.Node;
using Rotor.Node.Vault;
using Rotor.Rpc.Tls;
using Spectre.Console;

namespace Rotor.Cli.Commands;

/// <summary>
/// The node's master key on the command line: the provider options of <c>rotor node init</c>, the secrets of
/// <c>rotor node run</c>, and <c>rotor node unseal</c> and <c>rotor node rekey-master</c>.
/// </summary>
public static class MasterKeyCommands
{
    /// <summary>Options choosing a provider: --master-key and its pkcs11 / passphrase settings.</summary>
    public sealed class ChoiceOptions
    {
        private readonly Option<string?> kind;
        private readonly Option<string?> library = new("--pkcs11-library") { Description = "pkcs11: path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)" };
        private readonly Option<ulong?> slot = new("--pkcs11-slot") { Description = "pkcs11: the token's slot id" };
        private readonly Option<string?> token = new("--pkcs11-token") { Description = "pkcs11: the token's label (instead of --pkcs11-slot)" };
        private readonly Option<string?> keyLabel = new("--pkcs11-key-label") { Description = "pkcs11: label of the AES key in the token (created non-extractable when absent)" };
        private readonly Option<string?> pinFile = new("--pkcs11-pin-file") { Description = "pkcs11: file (mode 0600) holding the user PIN" };
        private readonly Option<string?> pinEnv = new("--pkcs11-pin-env") { Description = "pkcs11: environment variable holding the user PIN" };
        private readonly Option<string?> passphraseFile;
        private readonly Option<string?> passphraseEnv;

        /// <param name="passphraseEnv">An existing --passphrase-env option to share (node init has one); null to make --new-passphrase-env.</param>
        public ChoiceOptions(bool required, Option<string?>? passphraseEnv = null)
        {
            kind = new Option<string?>("--master-key")
            {
                Description = "Master key provider: file (a key file beside the vault: local development), passphrase (Argon2id, asked at start) or pkcs11 (a non-extractable key in an HSM)",
                Required = required,
            };
            kind.AcceptOnlyFromAmong(MasterKeys.Kinds);
            var isNew = passphraseEnv is null;
            this.passphraseEnv = passphraseEnv ?? new Option<string?>("--new-passphrase-env") { Description = "passphrase: environment variable holding the new passphrase (recorded: read at start)" };
            passphraseFile = new Option<string?>(isNew ? "--new-passphrase-file" : "--passphrase-file")
            {
                Description = "passphrase: file (mode 0600) holding the passphrase (recorded: read at start; keep it off the node's disk, e.g. on a secrets mount)",
            };
            sharesPassphraseEnv = !isNew;
        }

        private readonly bool sharesPassphraseEnv;

        public void AddTo(Command command)
        {
            command.Add(kind);
            foreach (var o in new Option[] { library, slot, token, keyLabel, pinFile, pinEnv, passphraseFile }) command.Add(o);
            if (!sharesPassphraseEnv) command.Add(passphraseEnv);
        }

        /// <summary>The choice, or null when --master-key was not given (node init's default).</summary>
        public MasterKeyChoice? Read(ParseResult p)
        {
            var k = p.GetValue(kind);
            var pin = (p.GetValue(pinFile), p.GetValue(pinEnv));
            var anyPkcs11 = p.GetValue(library) is not null || p.GetValue(slot) is not null || p.GetValue(token) is not null || p.GetValue(keyLabel) is not null || pin != (null, null);
            if (k is null)
            {
                if (anyPkcs11) throw new CliException("--pkcs11-* options need --master-key pkcs11");
                if (p.GetValue(passphraseFile) is not null) throw new CliException("--passphrase-file needs --master-key passphrase");
                return null;
            }
            if (k != MasterKeys.Pkcs11 && anyPkcs11) throw new CliException($"--pkcs11-* options do not apply to --master-key {k}");
            if (k != MasterKeys.Passphrase && (p.GetValue(passphraseFile) is not null || p.GetValue(passphraseEnv) is not null))
                throw new CliException($"passphrase options do not apply to --master-key {k}");
            var settings = k != MasterKeys.Pkcs11 ? null : new Pkcs11Settings
            {
                Library = Full(p.GetValue(library)) ?? "", Slot = p.GetValue(slot), Token = p.GetValue(token), KeyLabel = p.GetValue(keyLabel) ?? "",
                PinFile = Full(pin.Item1), PinEnv = pin.Item2,
            };
            return new MasterKeyChoice(k, settings, p.GetValue(passphraseEnv), Full(p.GetValue(passphraseFile)));
        }

        /// <summary>The new passphrase for a passphrase choice with no recorded source: asked twice on a terminal.</summary>
        public static MasterKeySecrets NewSecrets(MasterKeyChoice? choice)
        {
            if (choice is not { Kind: MasterKeys.Passphrase } || choice.PassphraseEnv is not null || choice.PassphraseFile is not null) return MasterKeySecrets.None;
            if (Console.IsInputRedirected)
                throw new CliException("--master-key passphrase needs the passphrase: give --passphrase-env or --passphrase-file, or run on a terminal to be asked");
            var first = Prompt("new master key passphrase");
            if (first.Length < 12) throw new CliException("the passphrase must have at least 12 characters");
            if (Prompt("repeat it") != first) throw new CliException("the two passphrases differ; nothing was changed");
            return new MasterKeySecrets(Passphrase: first);
        }

        private static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);
    }

    /// <summary>Secrets handed over once (not recorded): for node run, unseal, and the current provider in rekey-master.</summary>
    public sealed class SecretOptions
    {
        private readonly Option<string?> passFile = new("--passphrase-file") { Description = "File (mode 0600) holding the master key passphrase" };
        private readonly Option<string?> passEnv = new("--passphrase-env") { Description = "Environment variable holding the master key passphrase" };
        private readonly Option<string?> pinFile = new("--pin-file") { Description = "File (mode 0600) holding the HSM user PIN (instead of the one node.json names)" };
        private readonly Option<string?> pinEnv = new("--pin-env") { Description = "Environment variable holding the HSM user PIN (instead of the one node.json names)" };

        public void AddTo(Command command)
        {
            foreach (var o in new[] { passFile, passEnv, pinFile, pinEnv }) command.Add(o);
        }

        /// <summary>
        /// The secrets given; a passphrase node with none given and none in its config's sources is asked on a terminal
        /// when <paramref name="prompt"/>.
        /// </summary>
        public MasterKeySecrets Read(ParseResult p, NodeConfig config, bool prompt)
        {
            string? passphrase = (p.GetValue(passFile), p.GetValue(passEnv)) switch
            {
                (null, null) => null,
                ({ } f, null) => ReadPassphrase(f),
                (null, { } e) => Environment.GetEnvironmentVariable(e) is { Length: > 0 } v ? v : throw new CliException($"environment variable {e} is not set"),
                _ => throw new CliException("give at most one of --passphrase-file and --passphrase-env"),
            };
            string? pin = (p.GetValue(pinFile), p.GetValue(pinEnv)) switch
            {
                (null, null) => null,
                ({ } f, null) => SecretFiles.Read(f).Trim(),
                (null, { } e) => Environment.GetEnvironmentVariable(e) is { Length: > 0 } v ? v.Trim() : throw new CliException($"environment variable {e} is not set"),
                _ => throw new CliException("give at most one of --pin-file and --pin-env"),
            };
            if (passphrase is null && prompt && config.MasterKeyKind == MasterKeys.Passphrase && !Console.IsInputRedirected
                && config.PassphraseFile is null && (config.PassphraseEnv is null || Environment.GetEnvironmentVariable(config.PassphraseEnv) is null or ""))
                passphrase = Prompt($"master key passphrase of node {config.Name}");
            return new MasterKeySecrets(passphrase, pin);
        }
    }

    /// <summary><c>rotor node unseal</c>: delivers the passphrase or PIN to the running node over its local socket.</summary>
    public static Command Unseal()
    {
        var unseal = new Command("unseal", "Deliver the master key passphrase or HSM PIN to a running sealed node (over its local socket, as the node's user)");
        var config = new Option<string>("--config") { Description = "The node's node.json", Required = true };
        var secrets = new SecretOptions();
        unseal.Add(config);
        secrets.AddTo(unseal);
        unseal.SetAction((p, cancel) => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var c = NodeConfig.Load(p.GetValue(config)!);
            var s = secrets.Read(p, c, prompt: true);
            var reply = await MasterKeyUnseal.SendAsync(c, new UnsealRequest(s.Passphrase, s.Pin), cancel);
            if (reply.Sealed) throw new CliException($"node '{reply.Node}' is still sealed: {reply.Reason}");
            o.Result(new JsonObject { ["name"] = reply.Node, ["sealed"] = false, ["masterKey"] = reply.MasterKey },
                () => o.Line($"node [bold]{reply.Node}[/] is unsealed ({reply.MasterKey} master key)"));
        }));
        return unseal;
    }

    /// <summary><c>rotor node rekey-master</c>: re-wraps the vault root under a new master key.</summary>
    public static Command RekeyMaster()
    {
        var rekey = new Command("rekey-master", "Re-wrap the node's vault key under a new master key (or move it from file to passphrase or pkcs11); no shard is touched; crash-safe");
        var config = new Option<string>("--config") { Description = "The node's node.json", Required = true };
        var choice = new ChoiceOptions(required: true);
        var current = new SecretOptions();
        rekey.Add(config);
        choice.AddTo(rekey);
        current.AddTo(rekey);
        rekey.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), o =>
        {
            var path = p.GetValue(config)!;
            var c = NodeConfig.Load(path);
            var target = choice.Read(p)!;
            var now = current.Read(p, c, prompt: true);
            var next = ChoiceOptions.NewSecrets(target);
            MasterKeys.RekeyResult result;
            try { result = MasterKeys.Rekey(path, target, now, next); }
            catch (MasterKeyUnavailableException e) { throw new CliException($"nothing was changed: {e.Message}"); }
            o.Result(new JsonObject
            {
                ["name"] = c.Name, ["from"] = result.From, ["to"] = result.To, ["masterKeyFile"] = result.MasterKeyFile, ["keyFile"] = result.KeyFile,
                ["removed"] = new JsonArray(result.Removed.Select(r => (JsonNode)r).ToArray()),
            }, () => o.Line($"node [bold]{c.Name}[/]: vault key re-wrapped, {result.From} -> {result.To}; removed {(result.Removed.Count == 0 ? "nothing" : string.Join(", ", result.Removed))}. A running node uses the new master key from its next start."));
            return Task.CompletedTask;
        }));
        return rekey;
    }

    private static string ReadPassphrase(string path)
    {
        var text = SecretFiles.Read(path);
        var pass = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        if (pass.Length == 0) throw new CliException($"passphrase file {path} is empty");
        return pass;
    }

    private static string Prompt(string what) =>
        AnsiConsole.Prompt(new TextPrompt<string>(Markup.Escape(what) + ":").Secret());
}
