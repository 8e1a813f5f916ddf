using System.CommandLine;

namespace Rotor.Cli.Commands;

// TODO-lead: the lead writes this command (in-process simulation of the protocols); this stub only registers it.
public static class SimulateCommand
{
    public static Command Create()
    {
        var command = new Command("simulate", "Run the protocols in one process with no network");
        command.SetAction(parse => Output.Run(parse.GetValue(RootCommandBuilder.Json), _ => throw new CliException("simulate is not implemented yet")));
        return command;
    }
}
