using System.Text.Json.Nodes;
using Rotor.Cli.Commands;

// Readable output never wraps: wallet ids, addresses, keys and signatures must be copied exactly, at any terminal
// width and through a pipe (where the console would otherwise assume 80 columns). Long lines run past the edge.
Spectre.Console.AnsiConsole.Profile.Width = 1 << 12;
var parse = RootCommandBuilder.Build().Parse(args);
// With --json, even a command line that does not parse prints exactly one JSON object (and no help text).
if (parse.Errors.Count > 0 && args.Contains("--json"))
{
    var message = string.Join("; ", parse.Errors.Select(e => e.Message));
    Console.Out.WriteLine(new JsonObject { ["error"] = message }.ToJsonString());
    Console.Error.WriteLine("error: " + message);
    return 2;
}
return await parse.InvokeAsync();
