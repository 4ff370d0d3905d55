using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

public sealed class ServerLaunchResolverTests
{
    private static InstallHost Host(string? processPath, HostOs os = HostOs.Linux, string? onPath = null) => new()
    {
        GetEnvironmentVariable = _ => null,
        Os = os,
        CurrentDirectory = "/work/repo",
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        ProcessPath = processPath,
        FindOnPath = name => name == "mcp-memory" ? onPath : null,
    };

    [Fact]
    public void The_installed_tool_shim_registers_the_portable_tool_name()
    {
        var launch = ServerLaunchResolver.Resolve(new(), Host("/home/me/.dotnet/tools/mcp-memory"), "/x/mcp-memory.dll");

        launch.Command.Should().Be("mcp-memory");
        launch.Args.Should().Equal("serve");
    }

    [Fact]
    public void The_tool_on_PATH_is_registered_by_name_even_when_running_from_a_build()
    {
        var launch = ServerLaunchResolver.Resolve(new(), Host("/src/bin/mcp-memory", onPath: "/usr/local/bin/mcp-memory"), null);

        launch.Command.Should().Be("mcp-memory");
        launch.Args.Should().Equal("serve");
    }

    [Fact]
    public void A_build_not_on_PATH_registers_its_absolute_path()
    {
        var launch = ServerLaunchResolver.Resolve(new(), Host("/src/bin/Release/net10.0/mcp-memory"), null);

        launch.Command.Should().Be("/src/bin/Release/net10.0/mcp-memory");
        launch.Args.Should().Equal("serve");
    }

    [Fact]
    public void Running_under_the_dotnet_host_registers_dotnet_with_the_dll()
    {
        var launch = ServerLaunchResolver.Resolve(new(), Host("/usr/share/dotnet/dotnet"), "/src/bin/mcp-memory.dll");

        launch.Command.Should().Be("dotnet");
        launch.Args.Should().Equal("/src/bin/mcp-memory.dll", "serve");
    }

    [Fact]
    public void Command_and_arguments_can_be_overridden_and_db_and_namespace_are_passed_through()
    {
        var launch = ServerLaunchResolver.Resolve(
            new ServerLaunchOptions("dnx", ["McpMemory", "--yes", "--", "serve"], Database: "data/mem.db", Namespace: "team"),
            Host("/home/me/.dotnet/tools/mcp-memory"), null);

        launch.Command.Should().Be("dnx");
        launch.Args.Should().Equal("McpMemory", "--yes", "--", "serve", "--db", "/work/repo/data/mem.db", "--namespace", "team");
    }

    [Fact]
    public void An_overridden_command_defaults_to_serve()
    {
        ServerLaunchResolver.Resolve(new ServerLaunchOptions("/opt/mcp-memory"), Host(null), null)
            .Args.Should().Equal("serve");
    }

    [Fact]
    public void Windows_batch_shims_run_through_cmd_c()
    {
        var launch = ServerLaunchResolver.Resolve(new ServerLaunchOptions(@"C:\tools\mcp-memory.cmd"), Host(null, HostOs.Windows), null);

        launch.Command.Should().Be("cmd");
        launch.Args.Should().Equal("/c", @"C:\tools\mcp-memory.cmd", "serve");
    }

    [Fact]
    public void Windows_executables_run_directly()
    {
        var launch = ServerLaunchResolver.Resolve(new ServerLaunchOptions(@"C:\tools\mcp-memory.exe"), Host(null, HostOs.Windows), null);

        launch.Command.Should().Be(@"C:\tools\mcp-memory.exe");
    }

    [Fact]
    public void Without_any_way_to_find_the_server_the_user_is_told_to_pass_command()
    {
        var act = () => ServerLaunchResolver.Resolve(new(), Host(null), null);

        act.Should().Throw<InstallException>().WithMessage("*pass --command*");
    }
}
