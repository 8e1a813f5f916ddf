using Rotor.Cli.Commands;

return await RootCommandBuilder.Build().Parse(args).InvokeAsync();
