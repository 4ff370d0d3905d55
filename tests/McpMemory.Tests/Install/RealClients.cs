using System.Diagnostics;
using Xunit.Sdk;

namespace McpMemory.Tests.Install;

/// <summary>
/// Runs the agents' own CLIs, installed from npm into tests/clients (`npm ci --prefix tests/clients`),
/// against a sandbox's temporary HOME: no config of the machine running the tests is read or touched.
/// </summary>
public static class RealClients
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "McpMemory.sln"))) return dir.FullName;
        throw new InvalidOperationException($"McpMemory.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The CLI's path; a missing CLI fails the test, because a skipped check proves nothing.</summary>
    public static string Locate(string name)
    {
        var bin = Path.Combine(RepoRoot, "tests", "clients", "node_modules", ".bin", OperatingSystem.IsWindows() ? name + ".cmd" : name);
        if (!File.Exists(bin))
            throw new XunitException($"{bin} is missing: run `npm ci --prefix tests/clients` (it installs the pinned claude, codex and gemini CLIs).");
        return bin;
    }

    /// <summary>Runs `name args...` in <paramref name="workingDirectory"/> with only the sandbox's HOME and client variables.</summary>
    public static CliResult Run(InstallSandbox box, string name, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Locate(name))
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);

        // A clean environment: nothing from the developer's own HOME, CODEX_HOME, ... leaks in.
        start.Environment.Clear();
        foreach (var keep in new[] { "PATH", "SystemRoot", "ComSpec", "PATHEXT", "TEMP", "TMP", "TMPDIR", "LANG" })
            if (Environment.GetEnvironmentVariable(keep) is { } value) start.Environment[keep] = value;
        foreach (var (key, value) in box.Environment) start.Environment[key] = value;
        start.Environment["APPDATA"] = box.Environment.GetValueOrDefault("APPDATA") ?? Path.Combine(box.Home, "AppData", "Roaming");
        start.Environment["LOCALAPPDATA"] = Path.Combine(box.Home, "AppData", "Local");
        start.Environment["DISABLE_AUTOUPDATER"] = "1";
        start.Environment["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
        start.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new XunitException($"`{name} {string.Join(' ', args)}` did not finish within {Timeout.TotalSeconds} s.");
        }
        process.WaitForExit();
        return new CliResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;

    /// <summary>The line a CLI printed about our server, if any.</summary>
    public string? LineFor(string prefix) =>
        All.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.Contains(prefix, StringComparison.Ordinal));

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
