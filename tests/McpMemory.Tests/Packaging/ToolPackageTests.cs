using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.PortableExecutable;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Packaging;

/// <summary>
/// `dotnet pack` makes the tool package, and `dotnet tool install` from that folder gives a working `mcp-memory`
/// command: the path a user takes from source. Installs into a temp --tool-path with a private NuGet cache and config,
/// so neither a stale cached package nor the machine's feeds can make it pass. The package is portable (any RID, every
/// platform's native SQLite) and its managed assemblies carry ReadyToRun code for linux-x64 next to their IL; the
/// installed tool must work both with that code and without it (DOTNET_ReadyToRun=0: JIT from the IL, as on any other
/// platform).
/// </summary>
public class ToolPackageTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "McpMemory.sln"))) return dir.FullName;
        throw new InvalidOperationException($"McpMemory.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The configuration these tests were built in (bin/Release or bin/Debug): pack reuses that build.</summary>
    private static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    private static async Task<ToolProcess.Result> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? cwd = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = cwd ?? Path.GetTempPath() };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var variable in new[] { "MCP_MEMORY_DB", "MCP_MEMORY_NAMESPACE" }) start.Environment.Remove(variable);
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(300));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 300 s");
        }
        return new ToolProcess.Result(process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Pack_then_tool_install_gives_a_working_mcp_memory_command()
    {
        using var dir = new TempDirectory();
        var artifacts = Path.Combine(dir.Path, "artifacts");
        var env = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(dir.Path, "nuget-cache"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };

        var pack = await RunAsync("dotnet", ["pack", Path.Combine(RepoRoot(), "src", "McpMemory"), "-c", Configuration(), "--no-build", "-o", artifacts], env);
        pack.ExitCode.Should().Be(0, pack.Stdout + pack.Stderr);
        var package = Directory.GetFiles(artifacts, "McpMemory.*.nupkg").Should().ContainSingle().Subject;
        var version = Path.GetFileNameWithoutExtension(package)["McpMemory.".Length..];

        // Everything the build copies to its output under models/ (the encoder) must travel inside the package.
        using (var zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            entries.Should().Contain("tools/net10.0/any/mcp-memory.dll").And.Contain("tools/net10.0/any/DotnetToolSettings.xml");
            var models = Path.Combine(AppContext.BaseDirectory, "models");
            if (Directory.Exists(models))
                foreach (var file in Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories))
                    entries.Should().Contain("tools/net10.0/any/" + Path.GetRelativePath(AppContext.BaseDirectory, file).Replace('\\', '/'));

            // Portable: the native SQLite of every platform the tool runs on.
            foreach (var native in new[] { "linux-x64/native/libe_sqlite3.so", "linux-arm64/native/libe_sqlite3.so", "linux-musl-x64/native/libe_sqlite3.so",
                                           "osx-arm64/native/libe_sqlite3.dylib", "osx-x64/native/libe_sqlite3.dylib", "win-x64/native/e_sqlite3.dll", "win-arm64/native/e_sqlite3.dll" })
                entries.Should().Contain("tools/net10.0/any/runtimes/" + native);

            // Every managed assembly: ReadyToRun code for linux-x64 (machine AMD64 xor the Linux marker), and its IL and metadata
            // kept; except OpenAI.dll, left as IL on purpose (used only with an embeddings endpoint; see McpMemory.csproj).
            var assemblies = zip.Entries.Where(e => e.FullName.StartsWith("tools/net10.0/any/", StringComparison.Ordinal) && !e.FullName.Contains("/runtimes/")
                                                    && e.FullName.EndsWith(".dll", StringComparison.Ordinal)).ToList();
            assemblies.Select(e => e.Name).Should().Contain(["mcp-memory.dll", "McpMemory.Core.dll", "McpMemory.Eval.dll", "ModelContextProtocol.Core.dll"]);
            foreach (var entry in assemblies)
            {
                using var copy = new MemoryStream();
                using (var stream = entry.Open()) stream.CopyTo(copy);
                copy.Position = 0;
                using var pe = new PEReader(copy);
                pe.HasMetadata.Should().BeTrue(entry.Name);
                if (entry.Name == "OpenAI.dll")
                {
                    pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size.Should().Be(0, "OpenAI.dll is packed as IL only");
                    continue;
                }
                pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size.Should().BeGreaterThan(0, $"{entry.Name} should carry ReadyToRun code");
                ((int)pe.PEHeaders.CoffHeader.Machine).Should().Be(0x8664 ^ 0x7B79, $"{entry.Name} should be compiled for linux-x64");
            }
        }

        var config = Path.Combine(dir.Path, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="artifacts" value="{artifacts}" /></packageSources></configuration>
            """);
        var tools = Path.Combine(dir.Path, "tools");
        var install = await RunAsync("dotnet", ["tool", "install", "McpMemory", "--version", version, "--tool-path", tools, "--configfile", config], env);
        install.ExitCode.Should().Be(0, install.Stdout + install.Stderr);

        var command = Path.Combine(tools, OperatingSystem.IsWindows() ? "mcp-memory.exe" : "mcp-memory");
        var help = await RunAsync(command, ["--help"]);
        help.ExitCode.Should().Be(0, help.Stderr);
        help.Stdout.Should().Contain("serve").And.Contain("store").And.Contain("search");

        var db = Path.Combine(dir.Path, "m.db");
        var store = await RunAsync(command, ["store", "the installed tool stores memories", "--db", db, "--namespace", "project:pack"]);
        store.ExitCode.Should().Be(0, store.Stderr);
        var search = await RunAsync(command, ["search", "installed tool", "--db", db, "--namespace", "project:pack", "--json"]);
        search.ExitCode.Should().Be(0, search.Stderr);
        search.Stdout.Should().Contain("the installed tool stores memories");

        // `eval` runs from its own assembly (McpMemory.Eval): the message about the folder comes from its loader.
        var missing = Path.Combine(dir.Path, "no-locomo-here");
        var eval = await RunAsync(command, ["eval", "locomo", missing]);
        eval.ExitCode.Should().Be(1, eval.Stdout);
        eval.Stderr.Trim().Should().Be($"error: no such folder: {missing}");

        // Without the precompiled code (what every platform but linux-x64 does): the IL alone runs the same commands.
        var jitOnly = new Dictionary<string, string> { ["DOTNET_ReadyToRun"] = "0" };
        var store2 = await RunAsync(command, ["store", "the IL alone still runs", "--db", db, "--namespace", "project:pack"], jitOnly);
        store2.ExitCode.Should().Be(0, store2.Stderr);
        var search2 = await RunAsync(command, ["search", "IL alone", "--db", db, "--namespace", "project:pack", "--json"], jitOnly);
        search2.ExitCode.Should().Be(0, search2.Stderr);
        search2.Stdout.Should().Contain("the IL alone still runs");
    }
}
