using FluentAssertions;
using McpMemory.Transports;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>The server's gen0 pacer (Transports/Gen0Pacer.cs): it collects gen0 once its budget was allocated, not before.</summary>
public sealed class Gen0PacerTests
{
    private static object? _keep;

    [Fact]
    public void collects_gen0_once_its_budget_was_allocated_and_not_before()
    {
        // Budgets well under the GC's own (at least 256 KiB) and far over it: the pacer, not the GC, decides. A GC of
        // its own (other tests allocate in parallel) makes Check start counting again, so try a few times.
        var small = new Gen0Pacer(budget: 64 * 1024);
        var large = new Gen0Pacer(budget: 1L << 40);
        bool? collected = null, collectedOverLarge = null;
        for (var attempt = 0; attempt < 50 && collected is null; attempt++)
        {
            small.Check();                                      // both count from now
            large.Check();
            var before = GC.CollectionCount(0);
            for (var i = 0; i < 10; i++) _keep = new byte[10 * 1024];
            if (GC.CollectionCount(0) != before) continue;      // the GC collected on its own meanwhile
            collectedOverLarge = large.Check();
            collected = small.Check();
            if (collected == true) GC.CollectionCount(0).Should().BeGreaterThan(before);
        }
        collected.Should().BeTrue("100 KiB allocated is over the 64 KiB budget");
        collectedOverLarge.Should().BeFalse("100 KiB is far below a 1 TiB budget");
    }
}
