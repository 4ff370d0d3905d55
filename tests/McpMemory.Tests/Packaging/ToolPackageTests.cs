using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Xml.Linq;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using Xunit;

namespace McpMemory.Tests.Packaging;

/// <summary>
/// Packs this machine's RID and `any` once per test run (the linux-x64 package is Native AOT: its ILC step takes minutes on
/// a busy 2-core machine) and installs this machine's package from that folder, for every test in
/// <see cref="ToolPackageTests"/>. Installs go into temp --tool-paths with a private NuGet cache and config, so neither a
/// stale cached package nor the machine's feeds can make a test pass.
/// </summary>
public sealed class ToolPackagesFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    public string Rid { get; } = RuntimeInformation.RuntimeIdentifier;
    /// <summary>Whether this machine's package is Native AOT (McpMemory.csproj: AotRuntimeIdentifiers, linux-x64).</summary>
    public bool Aot => Rid == "linux-x64";
    public string Dir => _dir.Path;
    public string Artifacts => Path.Combine(_dir.Path, "artifacts");
    public Dictionary<string, string> Env { get; private set; } = [];
    public string Version { get; private set; } = "";
    public string Pointer { get; private set; } = "";
    public string RidPackage => Path.Combine(Artifacts, $"McpMemory.{Rid}.{Version}.nupkg");
    public string PortablePackage => Path.Combine(Artifacts, $"McpMemory.any.{Version}.nupkg");
    public string ToolPath => Path.Combine(_dir.Path, "tools");
    /// <summary>The installed `mcp-memory` command (this machine's package).</summary>
    public string Command { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Env = ToolPackageTests.NuGetEnvironment(_dir.Path);
        // No restore: the test build restored the project for every RID, and a restore into the private cache would point
        // the source tree's assets at a folder deleted after the test. Bounded: ILC plus crossgen2 on a loaded machine.
        var pack = await ToolPackageTests.RunAsync("dotnet", ["pack", Path.Combine(ToolPackageTests.RepoRoot(), "src", "McpMemory"), "-c", ToolPackageTests.Configuration(),
                                                              "-o", Artifacts, "--no-restore", $"-p:ToolPackageRuntimeIdentifiers=\"{Rid};any\""], timeoutSeconds: 1800);
        pack.ExitCode.Should().Be(0, pack.Stdout + pack.Stderr);
        Pointer = Directory.GetFiles(Artifacts, "McpMemory.*.nupkg").Where(p => char.IsDigit(Path.GetFileName(p)["McpMemory.".Length]))
            .Should().ContainSingle().Subject;
        Version = Path.GetFileNameWithoutExtension(Pointer)["McpMemory.".Length..];
        Command = await ToolPackageTests.InstallAsync(Artifacts, ToolPath, Version, Env);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// `dotnet pack` makes .NET 10 RID-specific tool packages: a pointer package McpMemory whose DotnetToolSettings.xml lists
/// one package per RID, McpMemory.&lt;rid&gt; (that platform's native libraries; Native AOT for linux-x64, ReadyToRun code
/// elsewhere), and McpMemory.any, the portable fallback. `dotnet tool install McpMemory` from that folder must pick this
/// machine's package and give a working `mcp-memory` on the ONNX encoder, as a command and as an MCP server over stdio and
/// HTTP; a machine whose RID has no package of its own must get the portable one, working on USE-lite. The tests pack this
/// machine's RID and `any` only (packing all six takes minutes more; the full set is the project's default).
/// </summary>
public class ToolPackageTests(ToolPackagesFixture packages) : IClassFixture<ToolPackagesFixture>
{
    private const string Tools = "tools/net10.0/";

    /// <summary>Assemblies used only with an embeddings endpoint: left as IL on purpose (see McpMemory.csproj).</summary>
    private static readonly string[] IlOnly = ["OpenAI.dll", "Microsoft.Extensions.AI.OpenAI.dll", "System.ClientModel.dll", "System.Memory.Data.dll"];

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "McpMemory.sln"))) return dir.FullName;
        throw new InvalidOperationException($"McpMemory.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The configuration these tests were built in (bin/Release or bin/Debug): pack builds the same one.</summary>
    internal static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    internal static async Task<ToolProcess.Result> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, int timeoutSeconds = 300)
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

    internal static Dictionary<string, string> NuGetEnvironment(string dir) => new()
    {
        ["NUGET_PACKAGES"] = Path.Combine(dir, "nuget-cache"),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    internal static async Task<string> InstallAsync(string feed, string toolPath, string version, Dictionary<string, string> env)
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
        File.Exists(Path.Combine(models, "arctic-embed-xs", "word-embeddings.f32")).Should().BeTrue("the int8 model reads its word embeddings from this file");
        foreach (var file in Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories))
        {
            var entry = root + Path.GetRelativePath(AppContext.BaseDirectory, file).Replace('\\', '/');
            if (file == fp32) entries.Should().NotContain(entry, "the package carries the int8 weights only");
            else if (!arctic && entry.StartsWith(root + "models/arctic-embed-xs/", StringComparison.Ordinal)) entries.Should().NotContain(entry, "the portable package has no ONNX Runtime to run arctic");
            else entries.Should().Contain(entry);
        }
    }

    /// <summary>The tool folder inside this machine's package: tools/&lt;tfm&gt;/&lt;rid&gt;/, "any" for the TFM when self-contained (AOT).</summary>
    private string RidRoot => $"tools/{(packages.Aot ? "any" : "net10.0")}/{packages.Rid}/";

    [Fact]
    public void Pointer_lists_this_platforms_package_and_the_portable_one()
    {
        using var zip = ZipFile.OpenRead(packages.Pointer);
        zip.Entries.Should().NotContain(e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
        using var settings = zip.GetEntry("tools/any/any/DotnetToolSettings.xml")!.Open();
        var listed = XDocument.Load(settings).Descendants("RuntimeIdentifierPackage")
            .ToDictionary(e => (string)e.Attribute("RuntimeIdentifier")!, e => (string)e.Attribute("Id")!);
        listed.Should().Equal(new Dictionary<string, string> { [packages.Rid] = $"McpMemory.{packages.Rid}", ["any"] = "McpMemory.any" });
    }

    /// <summary>This platform's package: its own native libraries only (flat, no runtimes/ tree), the models, no symbols.</summary>
    [Fact]
    public void This_platforms_package_carries_its_natives_and_the_models()
    {
        var rid = packages.Rid;
        var root = RidRoot;
        using var zip = ZipFile.OpenRead(packages.RidPackage);
        var entries = Entries(zip);
        entries.Should().Contain(root + "DotnetToolSettings.xml");
        ShouldCarryTheModels(entries, root);
        entries.Should().NotContain(e => e.Contains("/runtimes/") || e.EndsWith(".pdb", StringComparison.Ordinal) || e.EndsWith(".dbg", StringComparison.Ordinal));
        if (rid == "linux-x64")
        {
            entries.Should().Contain([root + "libonnxruntime.so", root + "libe_sqlite3.so"]);
            entries.Where(e => Path.GetFileName(e).Contains("onnxruntime", StringComparison.Ordinal) && !e.EndsWith(".dll", StringComparison.Ordinal))
                .Should().BeEquivalentTo([root + "libonnxruntime.so", root + "libonnxruntime_providers_shared.so"]);
        }
        // Issue 19's budget: ≤ 120 MB per platform package.
        new FileInfo(packages.RidPackage).Length.Should().BeLessThanOrEqualTo(120L * 1024 * 1024);
        using (var settings = zip.GetEntry(root + "DotnetToolSettings.xml")!.Open())
        {
            var command = XDocument.Load(settings).Descendants("Command").Single();
            if (packages.Aot) { ((string?)command.Attribute("Runner")).Should().Be("executable"); ((string?)command.Attribute("EntryPoint")).Should().Be("mcp-memory"); }
            else ((string?)command.Attribute("EntryPoint")).Should().Be("mcp-memory.dll");
        }

        if (packages.Aot)
        {
            // Native AOT: one native executable holds every managed assembly; no IL, and none of ONNX Runtime's Windows DLLs.
            entries.Should().Contain(root + "mcp-memory");
            entries.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || e.EndsWith(".json", StringComparison.Ordinal) && !e.Contains("/models/"))
                .Should().BeEmpty("everything managed is compiled into mcp-memory");
            using var executable = zip.GetEntry(root + "mcp-memory")!.Open();
            var magic = new byte[4];
            executable.ReadExactly(magic);
            magic.Should().Equal([0x7F, (byte)'E', (byte)'L', (byte)'F']);
            return;
        }
        entries.Should().Contain(root + "mcp-memory.dll");
        var assemblies = zip.Entries.Where(e => e.FullName.StartsWith(root, StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.Ordinal)).ToList();
        assemblies.Select(e => e.Name).Should().Contain(["mcp-memory.dll", "McpMemory.Core.dll", "McpMemory.Eval.dll", "ModelContextProtocol.Core.dll", "OpenAI.dll"]);
        foreach (var entry in assemblies)
        {
            var headers = Headers(entry);
            var nativeCode = headers.CorHeader!.ManagedNativeHeaderDirectory.Size;
            if (IlOnly.Contains(entry.Name)) { nativeCode.Should().Be(0, $"{entry.Name} is packed as IL only"); continue; }
            nativeCode.Should().BeGreaterThan(0, $"{entry.Name} should carry ReadyToRun code");
        }
    }

    /// <summary>The portable fallback: IL, every desktop/server platform's SQLite, no ONNX Runtime (it has none for the
    /// platforms that get this package), no mobile or browser natives, no symbols.</summary>
    [Fact]
    public void Portable_package_is_il_with_every_platforms_sqlite()
    {
        using var zip = ZipFile.OpenRead(packages.PortablePackage);
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

    /// <summary>Install from the feed: the pointer sends this machine to its own package, which runs on the ONNX encoder.</summary>
    [Fact]
    public async Task Tool_install_picks_this_platforms_package_which_runs_on_the_onnx_encoder()
    {
        Directory.Exists(InstalledPackage(packages.ToolPath, packages.Version, $"McpMemory.{packages.Rid}")).Should().BeTrue("the pointer should pick McpMemory.{0}", packages.Rid);
        Directory.Exists(InstalledPackage(packages.ToolPath, packages.Version, "McpMemory.any")).Should().BeFalse();
        var help = await RunAsync(packages.Command, ["--help"]);
        help.ExitCode.Should().Be(0, help.Stderr);
        help.Stdout.Should().Contain("serve").And.Contain("store").And.Contain("search");
        using var dir = new TempDirectory();
        var encoder = await StoreSearchDoctorAsync(packages.Command, dir.File("m.db"), "the installed tool stores memories", "installed tool");
        encoder.GetProperty("model").GetString().Should().Be("snowflake-arctic-embed-xs@onnx/int8", encoder.ToString());
        encoder.GetProperty("reason").GetString().Should().Be("default");
        encoder.GetProperty("self_check").GetString().Should().Be("passed");
    }

    /// <summary>
    /// The installed command as an agent runs it: an MCP session over stdio (store, a hybrid search that the arctic encoder
    /// answers by meaning, the briefing, agent state), then `serve --http` answering a tool call.
    /// </summary>
    [Fact]
    public async Task Installed_tool_serves_a_session_over_stdio_and_http()
    {
        using var dir = new TempDirectory();
        await using (var client = await StdioMcpClient.StartAsync(dir.File("m.db"), "project:pack", env: RawMcpServer.InlineEmbedding, command: packages.Command))
        {
            client.ServerInfo!.Name.Should().Be("mcp-memory");
            // Until the encoder has loaded (in the background after the first answer), a store says has_embedding false.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            string? deployment = null;
            while (deployment is null)
            {
                var stored = await StdioMcpClient.CallAsync(client, "store_memory", new() { ["content"] = "website deployment uses cloudflare tunnel through docker compose", ["memory_type"] = "decision" });
                if (stored.GetProperty("has_embedding").GetBoolean()) deployment = stored.GetProperty("memory_id").GetString();
                else
                {
                    await StdioMcpClient.CallAsync(client, "delete_memory", new() { ["memory_id"] = stored.GetProperty("memory_id").GetString() });
                    DateTime.UtcNow.Should().BeBefore(deadline, "the encoder should load within 90 s");
                    await Task.Delay(200);
                }
            }
            foreach (var text in new[] { "unit tests use vitest with happy-dom", "the user prefers british spelling", "backups of postgres run nightly to s3" })
                (await StdioMcpClient.CallAsync(client, "store_memory", new() { ["content"] = text })).GetProperty("has_embedding").GetBoolean().Should().BeTrue();

            // No word in common with the deployment memory: only the vector side can find it.
            var search = await StdioMcpClient.CallAsync(client, "search_memory", new() { ["query"] = "how is the site published to the internet?", ["top_k"] = 3, ["explain"] = true });
            search.GetProperty("mode").GetString().Should().Be("hybrid");
            var first = search.GetProperty("results")[0];
            first.GetProperty("memory_id").GetString().Should().Be(deployment, search.ToString());
            first.GetProperty("explain").GetProperty("vector_rank").GetInt32().Should().Be(1);

            var briefing = await StdioMcpClient.CallAsync(client, "get_briefing", new());
            briefing.ToString().Should().Contain("cloudflare tunnel");

            var set = await StdioMcpClient.CallAsync(client, "set_agent_state", new() { ["key"] = "current_task", ["value"] = JsonSerializer.SerializeToElement(new { step = 3, files = new[] { "a.cs" } }) });
            set.GetProperty("version").GetInt64().Should().Be(1);
            var get = await StdioMcpClient.CallAsync(client, "get_agent_state", new() { ["key"] = "current_task" });
            get.GetProperty("value").GetProperty("step").GetInt32().Should().Be(3);
            get.GetProperty("value").GetProperty("files")[0].GetString().Should().Be("a.cs");
        }

        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ns: "project:pack", command: packages.Command);
        await using var http = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri($"{server.BaseUrl}/mcp"), TransportMode = HttpTransportMode.StreamableHttp }),
            cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        var overHttp = await StdioMcpClient.CallAsync(http, "search_memory", new() { ["query"] = "vitest", ["mode"] = "fts" });
        overHttp.GetProperty("results")[0].GetProperty("content").GetString().Should().Be("unit tests use vitest with happy-dom");
    }

    /// <summary>What the installed package announces (tools with their schemas, prompts, resource templates) is exactly what
    /// this build announces: Native AOT changes how the code runs, not what the server says.</summary>
    [Fact]
    public async Task Installed_tool_announces_the_same_tools_prompts_and_resources_as_this_build()
    {
        using var dir = new TempDirectory();
        async Task<string> Announced(string? command)
        {
            await using var client = await StdioMcpClient.StartAsync(dir.File(command is null ? "build.db" : "package.db"), "project:pack", command: command);
            var tools = await client.ListToolsAsync();
            var prompts = await client.ListPromptsAsync();
            var templates = await client.ListResourceTemplatesAsync();
            return JsonSerializer.Serialize(new
            {
                tools = tools.Select(t => t.ProtocolTool).ToList(),
                prompts = prompts.Select(p => p.ProtocolPrompt).ToList(),
                templates = templates.Select(t => t.ProtocolResourceTemplate).ToList(),
                instructions = client.ServerInstructions,
            }, ModelContextProtocol.McpJsonUtilities.DefaultOptions);
        }
        var package = await Announced(packages.Command);
        var build = await Announced(null);
        package.Should().Contain("store_memory").And.Contain("search_memory");
        package.Should().Be(build);
    }

    /// <summary>
    /// A platform without a package of its own, simulated: a feed whose pointer lists every RID but this one. The
    /// installer must fall back to McpMemory.any, which runs here on USE-lite (no ONNX Runtime in it) and says why.
    /// </summary>
    [Fact]
    public async Task A_platform_without_its_own_package_falls_back_to_the_portable_one()
    {
        using var dir = new TempDirectory();
        var otherFeed = Path.Combine(dir.Path, "feed-without-this-rid");
        Directory.CreateDirectory(otherFeed);
        var otherPointer = Path.Combine(otherFeed, Path.GetFileName(packages.Pointer));
        File.Copy(packages.Pointer, otherPointer);
        File.Copy(packages.PortablePackage, Path.Combine(otherFeed, Path.GetFileName(packages.PortablePackage)));
        using (var zip = ZipFile.Open(otherPointer, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("tools/any/any/DotnetToolSettings.xml")!;
            XDocument settings;
            using (var stream = entry.Open()) settings = XDocument.Load(stream);
            settings.Descendants("RuntimeIdentifierPackage").Where(e => (string)e.Attribute("RuntimeIdentifier")! == packages.Rid).Remove();
            entry.Delete();
            using var rewritten = zip.CreateEntry("tools/any/any/DotnetToolSettings.xml").Open();
            settings.Save(rewritten);
        }
        var otherEnv = new Dictionary<string, string>(packages.Env) { ["NUGET_PACKAGES"] = Path.Combine(dir.Path, "nuget-cache-2") };
        var portable = await InstallAsync(otherFeed, Path.Combine(dir.Path, "tools-portable"), packages.Version, otherEnv);
        Directory.Exists(InstalledPackage(Path.Combine(dir.Path, "tools-portable"), packages.Version, "McpMemory.any")).Should().BeTrue("without a package for {0} the pointer falls back to McpMemory.any", packages.Rid);
        var fallback = await StoreSearchDoctorAsync(portable, Path.Combine(dir.Path, "p.db"), "the portable package stores memories", "portable package");
        fallback.GetProperty("model").GetString().Should().StartWith("use-lite", fallback.ToString());
        fallback.GetProperty("reason").GetString().Should().StartWith("fallback: arctic-embed-xs could not be loaded");
        fallback.GetProperty("self_check").GetString().Should().Be("passed");
    }
}
