using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

public sealed class ServerLaunchResolverTests : IDisposable
{
    /// <summary>A temporary folder for PATH entries and a HOME with ~/.dotnet/tools.</summary>
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mcpmem-launch-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private static InstallHost Host(string? processPath, HostOs os = HostOs.Linux, Dictionary<string, string>? env = null) => new()
    {
        GetEnvironmentVariable = name => env?.GetValueOrDefault(name),
        Os = os,
        CurrentDirectory = "/work/repo",
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        ProcessPath = processPath,
    };

    /// <summary>An executable file (or, with executable: false, a plain one) at root/relative.</summary>
    private string MakeFile(string relative, bool executable = true)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, executable ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private string PathWith(params string[] folders) => string.Join(Path.PathSeparator, folders.Select(f => Path.Combine(_root, f)));

    [Fact]
    public void The_tool_on_PATH_is_registered_by_its_portable_name()
    {
        var shim = MakeFile("home/.dotnet/tools/mcp-memory");
        var notes = new List<string>();

        var launch = ServerLaunchResolver.Resolve(new(), Host(shim, env: new() { ["PATH"] = PathWith("bin", "home/.dotnet/tools") }), "/x/mcp-memory.dll", notes);

        launch.Command.Should().Be("mcp-memory");
        launch.Args.Should().Equal("serve");
        notes.Should().BeEmpty();
    }

    [Fact]
    public void The_tool_shim_not_on_PATH_is_registered_by_its_absolute_path_and_the_user_is_told()
    {
        // `dotnet tool install -g` without ~/.dotnet/tools on PATH: a bare name would not start.
        var shim = MakeFile("home/.dotnet/tools/mcp-memory");
        var notes = new List<string>();

        var launch = ServerLaunchResolver.Resolve(new(), Host(shim, env: new() { ["PATH"] = PathWith("bin") }), "/x/mcp-memory.dll", notes);

        launch.Command.Should().Be(shim);
        launch.Args.Should().Equal("serve");
        notes.Should().ContainSingle().Which.Should().Be(
            $"`mcp-memory` is not on PATH here, so the clients get its absolute path: {shim}. " +
            $"To register the portable name instead, add {Path.GetDirectoryName(shim)} to PATH and run install again.");
    }

    [Fact]
    public void A_file_on_PATH_without_the_execute_bit_does_not_count()
    {
        if (OperatingSystem.IsWindows()) return; // no execute bit there
        MakeFile("bin/mcp-memory", executable: false);

        ServerLaunchResolver.Resolve(new(), Host("/src/bin/mcp-memory", env: new() { ["PATH"] = PathWith("bin") }), null)
            .Command.Should().Be("/src/bin/mcp-memory");
    }

    [Fact]
    public void The_tool_on_PATH_is_registered_by_name_even_when_running_from_a_build()
    {
        MakeFile("bin/mcp-memory");

        var launch = ServerLaunchResolver.Resolve(new(), Host("/src/bin/mcp-memory", env: new() { ["PATH"] = PathWith("bin") }), null);

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
    public void Under_the_dotnet_host_the_installed_tool_shim_is_registered_when_there_is_one()
    {
        var shim = MakeFile("home/.dotnet/tools/mcp-memory");
        var notes = new List<string>();

        var launch = ServerLaunchResolver.Resolve(new(), Host("/usr/share/dotnet/dotnet", env: new() { ["HOME"] = Path.Combine(_root, "home") }), "/src/bin/mcp-memory.dll", notes);

        launch.Command.Should().Be(shim);
        notes.Should().ContainSingle().Which.Should().Contain("not on PATH");
    }

    [Fact]
    public void An_explicit_bare_command_not_on_PATH_is_kept_with_a_warning()
    {
        MakeFile("bin/dnx");
        var notes = new List<string>();
        var host = Host(null, env: new() { ["PATH"] = PathWith("bin") });

        ServerLaunchResolver.Resolve(new ServerLaunchOptions("dnx"), host, null, notes).Command.Should().Be("dnx");
        notes.Should().BeEmpty();

        ServerLaunchResolver.Resolve(new ServerLaunchOptions("mcp-memory"), host, null, notes).Command.Should().Be("mcp-memory");
        notes.Should().ContainSingle().Which.Should().StartWith("`mcp-memory` is not on PATH here, so a client may fail to start it");
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
