using System.CommandLine;
using Rotor.Cli.Cluster;
using Rotor.Cli.Commands;

namespace Rotor.Cli.WebConsole;

/// <summary><c>rotor console --dir D [--listen 127.0.0.1:PORT] [--coordinator URL]</c>: the operations console in the browser.</summary>
public static class ConsoleCommand
{
    public static Command Create()
    {
        var cmd = new Command("console", "The operations console in the browser (HTTPS on 127.0.0.1): overview, wallets, reshare requests and approvals signed in the browser with your operator key, audit log, compliance");
        var dir = RootCommandBuilder.Dir();
        var listen = new Option<string>("--listen") { Description = "Address to serve on, HOST:PORT (port 0: any free port)", DefaultValueFactory = _ => "127.0.0.1:0" };
        var coordinator = new Option<string?>("--coordinator") { Description = "The coordinator's URL (default: the cluster folder's coordinator endpoint)" };
        cmd.Add(dir); cmd.Add(listen); cmd.Add(coordinator);
        cmd.SetAction((p, ct) => Output.Run(p.GetValue(RootCommandBuilder.Json), async o =>
        {
            var cluster = LocalCluster.From(p.GetValue(dir));
            var (host, port) = ParseListen(p.GetValue(listen)!);
            await using var server = await ConsoleServer.StartAsync(cluster, host, port, p.GetValue(coordinator));
            o.Result(new System.Text.Json.Nodes.JsonObject { ["url"] = server.Url, ["certificateSha256"] = server.CertificateSha256 }, () =>
            {
                o.Line($"console: [bold]{server.Url}[/]");
                o.Line($"[grey]certificate sha256 {server.CertificateSha256} (self-signed by this console); Ctrl+C stops it[/]");
            });
            System.Console.Out.Flush();
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
        }));
        return cmd;
    }

    /// <summary>HOST:PORT; refuses anything but an IP address and a port in 0..65535.</summary>
    public static (System.Net.IPAddress Host, int Port) ParseListen(string value)
    {
        var i = value.LastIndexOf(':');
        if (i <= 0 || !System.Net.IPAddress.TryParse(value[..i].Trim('[', ']'), out var ip) || !int.TryParse(value[(i + 1)..], out var port) || port is < 0 or > 65535)
            throw new CliException($"--listen must be IP:PORT (e.g. 127.0.0.1:8443), got '{value}'");
        return (ip, port);
    }
}
