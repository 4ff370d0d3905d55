using System.Runtime.InteropServices;

namespace McpMemory.Core.Embeddings;

/// <summary>
/// Lowers the priority of the calling thread only. .NET's <see cref="Thread.Priority"/> is honoured on Windows but
/// does nothing on Linux (all normal threads share one static priority there); Linux schedules threads by their nice
/// value, which an unprivileged process may raise for one of its own threads with setpriority(PRIO_PROCESS, tid, n).
/// </summary>
public static partial class BackgroundPriority
{
    private const int PrioProcess = 0;
    /// <summary>The lowest nice value: for work that may wait for idle cores (loading the encoder, warming up).</summary>
    public const int Lowest = 19;

    /// <summary>
    /// For work that must still progress on busy cores (write-behind embedding): a nice-10 thread gets about a tenth of a
    /// core that a normal thread also wants, a nice-19 one about 1 %, which could leave stores without vectors for long.
    /// </summary>
    public const int Lowered = 10;

    /// <summary>Best effort: on failure the thread keeps its priority.</summary>
    public static void LowerCurrentThread(int nice = Lowest)
    {
        try { Thread.CurrentThread.Priority = nice >= Lowest ? ThreadPriority.Lowest : ThreadPriority.BelowNormal; }
        catch (Exception e) when (e is PlatformNotSupportedException or ThreadStateException) { }
        if (!OperatingSystem.IsLinux()) return;
        try { _ = SetPriority(PrioProcess, GetTid(), nice); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
    }

    /// <summary>The nice value of the calling thread on Linux (for tests), else null.</summary>
    public static int? CurrentThreadNice()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var stat = File.ReadAllText($"/proc/self/task/{GetTid()}/stat");
        // Field 19 is nice; the command name (field 2) is in parentheses and may contain spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();
}
