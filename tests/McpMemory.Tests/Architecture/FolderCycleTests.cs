using FluentAssertions;
using McpMemory.Core;
using Xunit;
using Xunit.Abstractions;

namespace McpMemory.Tests.Architecture;

/// <summary>
/// The engine's folders (rooms) use each other in one direction only: a cycle means two rooms can only be understood
/// together, which is what docs/architecture.md promises never to happen.
/// </summary>
public class FolderCycleTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, Dictionary<string, string>> Graph = EngineRooms.Dependencies(typeof(MemoryService).Assembly);

    [Fact]
    public void No_two_rooms_of_the_engine_use_each_other()
    {
        foreach (var (room, uses) in Graph.OrderBy(g => g.Key, StringComparer.Ordinal))
            output.WriteLine($"{room} uses {string.Join(", ", uses.Keys.Order(StringComparer.Ordinal))}");
        EngineRooms.Cycles(Graph).Should().BeEmpty("a room may use another only if that one does not use it back, directly or through others");
    }

    [Fact]
    public void The_reading_sees_uses_made_only_in_method_bodies()
    {
        // The front door holds the stores and indexes in fields and reaches Memories through calls and signatures.
        Graph[EngineRooms.Root].Keys.Should().Contain(["Storage", "Memories", "Search"]);
        // A use that appears only inside IL (a static call, no field or signature): Portability's exporters call
        // MemoryDatabase.Read in method bodies.
        Graph["Portability"].Keys.Should().Contain("Storage");
        EngineRooms.RoomOf(typeof(global::McpMemory.Core.Search.Time.TimeExpressions)).Should().Be("Search");
    }
}
