using System.Runtime.InteropServices;
using System.Text.Json;

namespace McpMemory;

/// <summary>
/// A debugging aid for issue 20's memory breakdown: with MCP_MEMORY_MEMORY_REPORT=FILE set, a server writes the managed
/// heap's figures (GC.GetGCMemoryInfo as of the last GC: heap, fragmentation, committed, per generation; gc_index 0: none yet) to FILE as one JSON object each
/// time it gets SIGUSR1, so a bench can split the RSS it reads from /proc/PID/smaps into managed and native parts.
/// Nothing is installed without the variable.
/// </summary>
internal static class MemoryReport
{
    public const string Variable = "MCP_MEMORY_MEMORY_REPORT";
    private const int SigUsr1 = 10; // Linux; raw signal numbers are accepted as PosixSignal on Unix

    private static PosixSignalRegistration? s_registration;

    public static void InstallIfRequested()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } path || !OperatingSystem.IsLinux()) return;
        s_registration = PosixSignalRegistration.Create((PosixSignal)SigUsr1, context =>
        {
            context.Cancel = true;
            try { Write(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.Error.WriteLine($"mcp-memory: {Variable}: {e.Message}"); }
        });
    }

    private static void Write(string path)
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        string temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("total_memory", GC.GetTotalMemory(forceFullCollection: false));
            json.WriteNumber("total_allocated", GC.GetTotalAllocatedBytes());
            json.WriteNumber("heap_size", info.HeapSizeBytes);
            json.WriteNumber("fragmented", info.FragmentedBytes);
            json.WriteNumber("committed", info.TotalCommittedBytes);
            json.WriteNumber("promoted", info.PromotedBytes);
            json.WriteNumber("pinned_objects", info.PinnedObjectsCount);
            json.WriteNumber("gc_index", info.Index);
            json.WriteNumber("gen0_collections", GC.CollectionCount(0));
            json.WriteNumber("gen2_collections", GC.CollectionCount(2));
            json.WriteStartArray("generations"); // gen0, gen1, gen2, LOH, POH: size and fragmentation after the last GC
            foreach (var generation in info.GenerationInfo)
            {
                json.WriteStartObject();
                json.WriteNumber("size_after", generation.SizeAfterBytes);
                json.WriteNumber("fragmentation_after", generation.FragmentationAfterBytes);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        File.Move(temporary, path, overwrite: true);
    }
}
