using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Xml.Linq;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Packaging;

/// <summary>
/// `dotnet pack` makes .NET 10 RID-specific tool packages: a pointer package McpMemory whose DotnetToolSettings.xml lists
/// one package per RID, McpMemory.&lt;rid&gt; (that platform's native libraries, ReadyToRun code), and McpMemory.any, the
/// portable fallback. `dotnet tool install McpMemory` from that folder must pick this machine's package and give a working
/// `mcp-memory` on the ONNX encoder; a machine whose RID has no package of its own must get the portable one, working on
/// USE-lite. The test packs this machine's RID and `any` only (packing all six takes minutes more; the full set is the
/// project's default). Installs go into temp --tool-paths with a private NuGet cache and config, so neither a stale cached
/// package nor the machine's feeds can make it pass.
/// </summary>
public class ToolPackageTests
{
    private const string Tools = "tools/net10.0/";

    /// <summary>Assemblies used only with an embeddings endpoint: left as IL on purpose (see McpMemory.csproj).</summary>
    private static readonly string[] IlOnly = ["OpenAI.dll", "Microsoft.Extensions.AI.OpenAI.dll", "System.ClientModel.dll", "System.Memory.Data.dll"];

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "McpMemory.sln"))) return dir.FullName;
        throw new InvalidOperationException($"McpMemory.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The configuration these tests were built in (bin/Release or bin/Debug): pack builds the same one.</summary>
    private static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    private static async Task<ToolProcess.Result> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, int timeoutSeconds = 300)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var variable in new[] { "MCP_MEMORY_DB", "MCP_MEMORY_NAMESPACE", "MCP_MEMORY_MODEL", "MCP_MEMORY_MODEL_DIR" }) start.Environment.Remove(variable);
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        return new ToolProcess.Result(process.ExitCode, await stdout, await stderr);
    }

    private static Dictionary<string, string> NuGetEnvironment(string dir) => new()
    {
        ["NUGET_PACKAGES"] = Path.Combine(dir, "nuget-cache"),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    private static async Task<string> InstallAsync(string feed, string toolPath, string version, Dictionary<string, string> env)
    {
        var config = Path.Combine(Path.GetDirectoryName(toolPath)!, Path.GetFileName(toolPath) + ".nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="feed" value="{feed}" /></packageSources></configuration>
            """);
        var install = await RunAsync("dotnet", ["tool", "install", "McpMemory", "--version", version, "--tool-path", toolPath, "--configfile", config], env);
        install.ExitCode.Should().Be(0, install.Stdout + install.Stderr);
        return Path.Combine(toolPath, OperatingSystem.IsWindows() ? "mcp-memory.exe" : "mcp-memory");
    }

    /// <summary>The package folder the installer unpacked (…/.store/mcpmemory/&lt;version&gt;/&lt;package id&gt;), lower-cased as the CLI writes it.</summary>
    private static string InstalledPackage(string toolPath, string version, string packageId) =>
        Path.Combine(toolPath, ".store", "mcpmemory", version, packageId.ToLowerInvariant());

    /// <summary>store + search through the installed command, then doctor's report of the encoder.</summary>
    private static async Task<JsonElement> StoreSearchDoctorAsync(string command, string db, string text, string query)
    {
        var store = await RunAsync(command, ["store", text, "--db", db, "--namespace", "project:pack"]);
        store.ExitCode.Should().Be(0, store.Stderr);
        var search = await RunAsync(command, ["search", query, "--db", db, "--namespace", "project:pack", "--json"]);
        search.ExitCode.Should().Be(0, search.Stderr);
        search.Stdout.Should().Contain(text);
        var doctor = await RunAsync(command, ["doctor", "--db", db, "--json"]);
        doctor.ExitCode.Should().Be(0, doctor.Stdout + doctor.Stderr);
        using var report = JsonDocument.Parse(doctor.Stdout);
        return report.RootElement.GetProperty("encoder").Clone();
    }

    private static HashSet<string> Entries(ZipArchive zip) => zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);

    private static PEHeaders Headers(ZipArchiveEntry entry)
    {
        using var copy = new MemoryStream();
        using (var stream = entry.Open()) stream.CopyTo(copy);
        copy.Position = 0;
        using var pe = new PEReader(copy);
        pe.HasMetadata.Should().BeTrue(entry.Name);
        return pe.PEHeaders;
    }

    /// <summary>
    /// Everything the build copies to its output under models/ (both encoders) travels in the package, except arctic's
    /// fp32 model.onnx: the package carries the int8 weights made from it (model.int8.onnx) instead. The portable package
    /// (<paramref name="arctic"/> false) carries USE-lite only: without ONNX Runtime it could not run arctic.
    /// </summary>
    private static void ShouldCarryTheModels(HashSet<string> entries, string root, bool arctic = true)
    {
        var models = Path.Combine(AppContext.BaseDirectory, "models");
        Directory.Exists(Path.Combine(models, "arctic-embed-xs")).Should().BeTrue();
        Directory.Exists(Path.Combine(models, "use-lite-en")).Should().BeTrue();
        string fp32 = Path.Combine(models, "arctic-embed-xs", "model.onnx");
        File.Exists(Path.Combine(models, "arctic-embed-xs", "model.int8.onnx")).Should().BeTrue();
        foreach (var file in Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories))
        {
            var entry = root + Path.GetRelativePath(AppContext.BaseDirectory, file).Replace('\\', '/');
            if (file == fp32) entries.Should().NotContain(entry, "the package carries the int8 weights only");
            else if (!arctic && entry.StartsWith(root + "models/arctic-embed-xs/", StringComparison.Ordinal)) entries.Should().NotContain(entry, "the portable package has no ONNX Runtime to run arctic");
            else entries.Should().Contain(entry);
        }
    }

    [Fact]
    public async Task Pack_then_tool_install_picks_this_platforms_package_and_falls_back_to_the_portable_one()
    {
        var rid = RuntimeInformation.RuntimeIdentifier;
        using var dir = new TempDirectory();
        var artifacts = Path.Combine(dir.Path, "artifacts");
        var env = NuGetEnvironment(dir.Path);

        // Builds this machine's RID and `any` (their first build takes minutes on a busy 2-core machine: 600 s bound). No
        // restore: the test build restored the project for every RID, and a restore into the private cache would point the
        // source tree's assets at a folder deleted after the test.
        var pack = await RunAsync("dotnet", ["pack", Path.Combine(RepoRoot(), "src", "McpMemory"), "-c", Configuration(), "-o", artifacts, "--no-restore",
                                             $"-p:ToolPackageRuntimeIdentifiers=\"{rid};any\""], timeoutSeconds: 600);
        pack.ExitCode.Should().Be(0, pack.Stdout + pack.Stderr);
        var pointer = Directory.GetFiles(artifacts, "McpMemory.*.nupkg").Where(p => char.IsDigit(Path.GetFileName(p)["McpMemory.".Length]))
            .Should().ContainSingle().Subject;
        var version = Path.GetFileNameWithoutExtension(pointer)["McpMemory.".Length..];
        var ridPackage = Path.Combine(artifacts, $"McpMemory.{rid}.{version}.nupkg");
        var portablePackage = Path.Combine(artifacts, $"McpMemory.any.{version}.nupkg");

        // The pointer: no implementation, only the list of RID packages.
        using (var zip = ZipFile.OpenRead(pointer))
        {
            zip.Entries.Should().NotContain(e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
            using var settings = zip.GetEntry("tools/any/any/DotnetToolSettings.xml")!.Open();
            var packages = XDocument.Load(settings).Descendants("RuntimeIdentifierPackage")
                .ToDictionary(e => (string)e.Attribute("RuntimeIdentifier")!, e => (string)e.Attribute("Id")!);
            packages.Should().Equal(new Dictionary<string, string> { [rid] = $"McpMemory.{rid}", ["any"] = "McpMemory.any" });
        }

        // This platform's package: its own native libraries only (flat, no runtimes/ tree), ReadyToRun code, no symbols.
        using (var zip = ZipFile.OpenRead(ridPackage))
        {
            var root = $"{Tools}{rid}/";
            var entries = Entries(zip);
            entries.Should().Contain(root + "mcp-memory.dll").And.Contain(root + "DotnetToolSettings.xml");
            ShouldCarryTheModels(entries, root);
            entries.Should().NotContain(e => e.Contains("/runtimes/") || e.EndsWith(".pdb", StringComparison.Ordinal));
            if (rid == "linux-x64")
            {
                entries.Should().Contain([root + "libonnxruntime.so", root + "libe_sqlite3.so"]);
                entries.Where(e => Path.GetFileName(e).Contains("onnxruntime", StringComparison.Ordinal) && !e.EndsWith(".dll", StringComparison.Ordinal))
                    .Should().BeEquivalentTo([root + "libonnxruntime.so", root + "libonnxruntime_providers_shared.so"]);
            }
            var assemblies = zip.Entries.Where(e => e.FullName.StartsWith(root, StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.Ordinal)).ToList();
            assemblies.Select(e => e.Name).Should().Contain(["mcp-memory.dll", "McpMemory.Core.dll", "McpMemory.Eval.dll", "ModelContextProtocol.Core.dll", "OpenAI.dll"]);
            foreach (var entry in assemblies)
            {
                var headers = Headers(entry);
                var nativeCode = headers.CorHeader!.ManagedNativeHeaderDirectory.Size;
                if (IlOnly.Contains(entry.Name)) { nativeCode.Should().Be(0, $"{entry.Name} is packed as IL only"); continue; }
                nativeCode.Should().BeGreaterThan(0, $"{entry.Name} should carry ReadyToRun code");
                if (rid == "linux-x64") ((int)headers.CoffHeader.Machine).Should().Be(0x8664 ^ 0x7B79, $"{entry.Name} should be compiled for linux-x64");
            }
        }

        // The portable fallback: IL, every desktop/server platform's SQLite, no ONNX Runtime (it has none for the platforms
        // that get this package), no mobile or browser natives, no symbols.
        using (var zip = ZipFile.OpenRead(portablePackage))
        {
            var root = $"{Tools}any/";
            var entries = Entries(zip);
            entries.Should().Contain(root + "mcp-memory.dll");
            ShouldCarryTheModels(entries, root, arctic: false);
            foreach (var native in new[] { "linux-x64/native/libe_sqlite3.so", "linux-arm64/native/libe_sqlite3.so", "linux-musl-x64/native/libe_sqlite3.so", "linux-arm/native/libe_sqlite3.so",
                                           "osx-arm64/native/libe_sqlite3.dylib", "osx-x64/native/libe_sqlite3.dylib", "win-x64/native/e_sqlite3.dll", "win-x86/native/e_sqlite3.dll" })
                entries.Should().Contain(root + "runtimes/" + native);
            entries.Should().NotContain(e => e.Contains("onnxruntime", StringComparison.OrdinalIgnoreCase) && !e.EndsWith("Microsoft.ML.OnnxRuntime.dll", StringComparison.Ordinal));
            entries.Should().NotContain(e => e.Contains("/runtimes/android") || e.Contains("/runtimes/ios") || e.Contains("/runtimes/maccatalyst") || e.Contains("/runtimes/browser"));
            entries.Should().NotContain(e => e.EndsWith(".pdb", StringComparison.Ordinal));
            foreach (var entry in zip.Entries.Where(e => e.FullName.StartsWith(root, StringComparison.Ordinal) && !e.FullName.Contains("/runtimes/") && e.FullName.EndsWith(".dll", StringComparison.Ordinal)))
                Headers(entry).CorHeader!.ManagedNativeHeaderDirectory.Size.Should().Be(0, $"{entry.Name} in the portable package is IL");
        }

        // Install from the feed: the pointer sends this machine to its own package, which runs on the ONNX encoder.
        var command = await InstallAsync(artifacts, Path.Combine(dir.Path, "tools"), version, env);
        Directory.Exists(InstalledPackage(Path.Combine(dir.Path, "tools"), version, $"McpMemory.{rid}")).Should().BeTrue("the pointer should pick McpMemory.{0}", rid);
        Directory.Exists(InstalledPackage(Path.Combine(dir.Path, "tools"), version, "McpMemory.any")).Should().BeFalse();
        var help = await RunAsync(command, ["--help"]);
        help.ExitCode.Should().Be(0, help.Stderr);
        help.Stdout.Should().Contain("serve").And.Contain("store").And.Contain("search");
        var encoder = await StoreSearchDoctorAsync(command, Path.Combine(dir.Path, "m.db"), "the installed tool stores memories", "installed tool");
        encoder.GetProperty("model").GetString().Should().Be("snowflake-arctic-embed-xs@onnx/int8", encoder.ToString());
        encoder.GetProperty("reason").GetString().Should().Be("default");
        encoder.GetProperty("self_check").GetString().Should().Be("passed");

        // A platform without a package of its own, simulated: a feed whose pointer lists every RID but this one. The
        // installer must fall back to McpMemory.any, which runs here on USE-lite (no ONNX Runtime in it) and says why.
        var otherFeed = Path.Combine(dir.Path, "feed-without-this-rid");
        Directory.CreateDirectory(otherFeed);
        var otherPointer = Path.Combine(otherFeed, Path.GetFileName(pointer));
        File.Copy(pointer, otherPointer);
        File.Copy(portablePackage, Path.Combine(otherFeed, Path.GetFileName(portablePackage)));
        using (var zip = ZipFile.Open(otherPointer, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("tools/any/any/DotnetToolSettings.xml")!;
            XDocument settings;
            using (var stream = entry.Open()) settings = XDocument.Load(stream);
            settings.Descendants("RuntimeIdentifierPackage").Where(e => (string)e.Attribute("RuntimeIdentifier")! == rid).Remove();
            entry.Delete();
            using var rewritten = zip.CreateEntry("tools/any/any/DotnetToolSettings.xml").Open();
            settings.Save(rewritten);
        }
        var otherEnv = new Dictionary<string, string>(env) { ["NUGET_PACKAGES"] = Path.Combine(dir.Path, "nuget-cache-2") };
        var portable = await InstallAsync(otherFeed, Path.Combine(dir.Path, "tools-portable"), version, otherEnv);
        Directory.Exists(InstalledPackage(Path.Combine(dir.Path, "tools-portable"), version, "McpMemory.any")).Should().BeTrue("without a package for {0} the pointer falls back to McpMemory.any", rid);
        var fallback = await StoreSearchDoctorAsync(portable, Path.Combine(dir.Path, "p.db"), "the portable package stores memories", "portable package");
        fallback.GetProperty("model").GetString().Should().StartWith("use-lite", fallback.ToString());
        fallback.GetProperty("reason").GetString().Should().StartWith("fallback: arctic-embed-xs could not be loaded");
        fallback.GetProperty("self_check").GetString().Should().Be("passed");
    }
}
