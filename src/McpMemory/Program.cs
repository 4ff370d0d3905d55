using System.CommandLine;
using McpMemory.Cli;

// mcp-memory: persistent memory for coding agents over MCP. With no command and stdin not a terminal
// (that is, when an agent starts it), it serves MCP over stdio.

var root = new RootCommand("mcp-memory: persistent memory for coding agents, served over the Model Context Protocol")
{
    CliOptions.Db, CliOptions.Json, CliOptions.Namespace, CliOptions.AgentId, CliOptions.Model, CliOptions.EmbeddingsUrl, CliOptions.EmbeddingsModel,
    ServeCommand.Create(),
};
foreach (var command in MemoryCommands.Create()) root.Subcommands.Add(command);
foreach (var command in EncoderCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(BriefingCommand.Create());
foreach (var command in McpMemory.Install.InstallCommands.Create()) root.Subcommands.Add(command);
foreach (var command in DataCommands.Create()) root.Subcommands.Add(command);

var subcommands = root.Subcommands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
var helpOrVersion = args.Any(a => a is "-h" or "--help" or "-?" or "--version");
if (Console.IsInputRedirected && !helpOrVersion && !args.Any(subcommands.Contains))
    args = ["serve", .. args];

// Every command reports its errors as one line on stderr and exit code 1; this is the net for anything a command did
// not expect (never a stack trace for the user; the message still says what failed).
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    Output.Error(Output.OneLine(e));
    return 1;
}
