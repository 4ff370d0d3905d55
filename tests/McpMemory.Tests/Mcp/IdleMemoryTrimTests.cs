using FluentAssertions;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>The server's idle trim (IdleMemoryTrim.cs): it trims once after work when the process goes quiet, never while busy.</summary>
public sealed class IdleMemoryTrimTests
{
    private static readonly int QuietTicks = (int)(IdleMemoryTrim.QuietPeriod / IdleMemoryTrim.Tick);

    [Fact]
    public void trims_once_after_enough_work_when_the_process_has_been_quiet_for_the_quiet_period()
    {
        using var trim = new IdleMemoryTrim(allocated: 0, timer: false);
        long allocated = IdleMemoryTrim.MinimumWork + 1;
        trim.Observe(allocated).Should().BeFalse("it was busy this tick");
        for (var tick = 1; tick < QuietTicks; tick++) trim.Observe(allocated += 1024).Should().BeFalse($"quiet for {tick} ticks only");
        trim.Observe(allocated += 1024).Should().BeTrue("quiet for the whole period after the work");
        trim.Trimmed(allocated);
        trim.Trims.Should().Be(1);
        for (var tick = 0; tick < 3 * QuietTicks; tick++) trim.Observe(allocated += 1024).Should().BeFalse("no work since the last trim");
    }

    [Fact]
    public void a_busy_process_never_trims_and_a_little_work_is_not_worth_a_trim()
    {
        using var busy = new IdleMemoryTrim(allocated: 0, timer: false);
        long allocated = 0;
        for (var tick = 0; tick < 10 * QuietTicks; tick++)
            busy.Observe(allocated += 2 * IdleMemoryTrim.QuietAllocation).Should().BeFalse("it allocates every tick");

        using var idle = new IdleMemoryTrim(allocated: 0, timer: false);
        allocated = IdleMemoryTrim.MinimumWork / 4;
        for (var tick = 0; tick < 10 * QuietTicks; tick++) idle.Observe(allocated).Should().BeFalse("a few calls' garbage is not worth a full collection");
    }

    [Fact]
    public void a_trim_runs_a_full_collection()
    {
        var before = GC.CollectionCount(2);
        IdleMemoryTrim.Trim();
        GC.CollectionCount(2).Should().BeGreaterThan(before);
    }
}
