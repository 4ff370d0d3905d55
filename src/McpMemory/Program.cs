using System.CommandLine;
using McpMemory.Cli;
using McpMemory.Transports;

// mcp-memory: persistent memory for coding agents over MCP. With no command and stdin not a terminal
// (that is, when an agent starts it), it serves MCP over stdio.

StartupTrace.Mark("main");
McpMemory.MemoryReport.InstallIfRequested();
var root = new RootCommand("mcp-memory: persistent memory for coding agents, served over the Model Context Protocol")
{
    ServeCommand.Create(),
};
foreach (var option in CliOptions.Global) root.Options.Add(option);
foreach (var command in MemoryCommands.Create()) root.Subcommands.Add(command);
foreach (var command in EncoderCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(BriefingCommand.Create());
root.Subcommands.Add(UiCommand.Create());
foreach (var command in McpMemory.Install.InstallCommands.Create()) root.Subcommands.Add(command);
foreach (var command in DataCommands.Create()) root.Subcommands.Add(command);
foreach (var command in KnowledgeCommands.Create()) root.Subcommands.Add(command);

var subcommands = root.Subcommands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
var helpOrVersion = args.Any(a => a is "-h" or "--help" or "-?" or "--version");
if (Console.IsInputRedirected && !helpOrVersion && !args.Any(subcommands.Contains))
    args = ["serve", .. args];

StartupTrace.Mark("command line built");
// Every command reports its errors as one line on stderr and exit code 1 (CliRunner), never a stack trace.
return await CliRunner.InvokeAsync(root, args);
