using System.CommandLine;
using Google.Protobuf;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;
using Rotor.Protocols;
using Rotor.Rpc.Coordinator;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor sign</c>.</summary>
public static class SignCommands
{
    public static Command Create()
    {
        var sign = new Command("sign", "Sign a message with a wallet (FROST or threshold ECDSA, threshold of the quorum)");
        var dir = RootCommandBuilder.Dir();
        var wallet = new Option<string>("--wallet") { Description = "Wallet id", Required = true };
        var message = new Option<string?>("--message") { Description = "Message, hex (or --message-file); ecdsa-secp256k1 wallets: the chain's 32-byte digest (keccak-256, sighash), 64 hex characters" };
        var messageFile = new Option<string?>("--message-file") { Description = $"Read the message's raw bytes from this file (large messages; at most {MaxMessageFile >> 20} MiB)" };
        var signers = new Option<string?>("--signers") { Description = "Comma-separated signer nodes (default: the first threshold online members)" };
        var epoch = new Option<ulong?>("--epoch") { Description = "Sign with this epoch's shards (default: the current epoch)" };
        var path = new Option<string?>("--path") { Description = "Sign for the key derived along this non-hardened path (m/0/7); default: the wallet's root key" };
        var approveWith = RequestFlow.ApproveWith();
        sign.Add(path);
        sign.Add(dir); sign.Add(wallet); sign.Add(message); sign.Add(messageFile); sign.Add(signers); sign.Add(epoch); sign.Add(approveWith);
        sign.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var msg = ReadMessage(p.GetValue(message), p.GetValue(messageFile));
            var derivation = p.GetValue(path) is { } pt ? WalletCommands.ParsePath(pt) : null;
            var cluster = LocalCluster.From(p.GetValue(dir));
            using var client = cluster.Connect();
            if (msg.Length != Rotor.Protocols.Ecdsa.EcdsaSignSession.MessageDigestLength)
                await RequireNotEcdsaAsync(client, p.GetValue(wallet)!, p.GetValue(messageFile) is null ? "--message" : "--message-file", msg.Length);
            var req = new SignRequest { WalletId = p.GetValue(wallet)!, Message = ByteString.CopyFrom(msg) };
            if (p.GetValue(epoch) is { } e) req.Epoch = e;
            if (derivation is { IsRoot: false }) req.Path = derivation.ToString();
            req.Signers.AddRange(RootCommandBuilder.List(p.GetValue(signers)));
            var r = await RequestFlow.SubmitAsync(client, new ActionSpec { Sign = req }, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, "signing");
            if (RequestFlow.Outcome(r, o) is not { } outcome) return;
            var s = outcome.Signature;
            o.Result(RequestFlow.Stamp(Records.Signature(s), r), () =>
            {
                RequestFlow.PrintApproved(o, r);
                o.Line($"wallet [bold]{s.WalletId}[/] ({s.Scheme}, epoch {s.Epoch}){(s.Path.Length > 0 ? $" path {s.Path}" : "")} signed by {string.Join(", ", s.Signers)}");
                if (s.Scheme == Scheme.EcdsaSecp256k1.Name())
                {
                    var (rs, v) = Records.Ecdsa(s);
                    Output.Token("signature (r‖s) ", Convert.ToHexStringLower(rs));
                    if (v is { } id) o.Line($"recovery id {id} (Ethereum v = {27 + id})");
                    else o.Line($"[red]the signature does not recover the wallet's key for this digest[/]");
                }
                else Output.Token("signature ", Convert.ToHexStringLower(s.Signature.Span));
            });
        }));
        return sign;
    }

    /// <summary>
    /// An ecdsa-secp256k1 wallet signs exactly the chain's 32-byte digest: a message of another length is refused here,
    /// before any signing request, naming its length (only looked up when the length is not 32; an unknown wallet is
    /// left to the coordinator's own error).
    /// </summary>
    private static async Task RequireNotEcdsaAsync(ClusterClient client, string walletId, string option, int length)
    {
        var list = await client.Coordinator.ListWalletsAsync(new ListWalletsRequest());
        var w = list.Wallets.FirstOrDefault(x => x.WalletId == walletId);
        if (w is not null && w.Scheme == Scheme.EcdsaSecp256k1.Name())
            throw new CliException($"wallet '{walletId}' is ecdsa-secp256k1: " + Simulation.EcdsaSimulator.DigestLengthError(option, length));
    }

    /// <summary>The largest message file accepted (the message travels to every signer inside the signing package).</summary>
    private const long MaxMessageFile = 64L << 20;

    /// <summary>Exactly one of --message (hex) and --message-file (raw bytes).</summary>
    private static byte[] ReadMessage(string? hex, string? file)
    {
        if (hex is not null && file is not null) throw new CliException("give either --message or --message-file, not both");
        if (file is null) return RootCommandBuilder.Hex(hex, "--message (or --message-file)");
        var info = new FileInfo(file);
        if (!info.Exists) throw new CliException($"--message-file {file}: no such file");
        if (info.Length > MaxMessageFile) throw new CliException($"--message-file {file} is {info.Length} bytes; at most {MaxMessageFile} bytes can be signed");
        return File.ReadAllBytes(file);
    }
}
