using System.CommandLine;
using Google.Protobuf;
using Rotor.Cli.Cluster;
using Rotor.Cli.Governance;
using Rotor.Rpc.Requests;
using Rotor.Rpc.Coordinator;

namespace Rotor.Cli.Commands;

/// <summary><c>rotor sign</c>.</summary>
public static class SignCommands
{
    public static Command Create()
    {
        var sign = new Command("sign", "Sign a message with a wallet (FROST, threshold of the quorum)");
        var dir = RootCommandBuilder.Dir();
        var wallet = new Option<string>("--wallet") { Description = "Wallet id", Required = true };
        var message = new Option<string>("--message") { Description = "Message, hex", Required = true };
        var signers = new Option<string?>("--signers") { Description = "Comma-separated signer nodes (default: the first threshold online members)" };
        var epoch = new Option<ulong?>("--epoch") { Description = "Sign with this epoch's shards (default: the current epoch)" };
        var approveWith = RequestFlow.ApproveWith();
        sign.Add(dir); sign.Add(wallet); sign.Add(message); sign.Add(signers); sign.Add(epoch); sign.Add(approveWith);
        sign.SetAction(p => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var msg = RootCommandBuilder.Hex(p.GetValue(message), "--message");
            var cluster = LocalCluster.From(p.GetValue(dir));
            using var client = cluster.Connect();
            var req = new SignRequest { WalletId = p.GetValue(wallet)!, Message = ByteString.CopyFrom(msg) };
            if (p.GetValue(epoch) is { } e) req.Epoch = e;
            req.Signers.AddRange(RootCommandBuilder.List(p.GetValue(signers)));
            var r = await RequestFlow.SubmitAsync(client, new ActionSpec { Sign = req }, RequestFlow.KeyFiles(p.GetValue(approveWith), cluster), o, "signing");
            if (RequestFlow.Outcome(r, o) is not { } outcome) return;
            var s = outcome.Signature;
            o.Result(RequestFlow.Stamp(Records.Signature(s), r), () =>
            {
                RequestFlow.PrintApproved(o, r);
                o.Line($"wallet [bold]{s.WalletId}[/] ({s.Scheme}, epoch {s.Epoch}) signed by {string.Join(", ", s.Signers)}");
                o.Line($"signature {Convert.ToHexStringLower(s.Signature.Span)}");
            });
        }));
        return sign;
    }
}
