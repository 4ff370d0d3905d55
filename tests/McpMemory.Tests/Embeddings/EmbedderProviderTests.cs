using FluentAssertions;
using McpMemory.Core.Embeddings;
using Xunit;

namespace McpMemory.Tests.Embeddings;

/// <summary>When the encoder loads, and at which priority (issue 5: it must not compete with the server's startup).</summary>
[Collection(EncoderCollection.Name)]
public class EmbedderProviderTests(EncoderFixture fixture)
{
    [Fact]
    public async Task Deferred_provider_loads_nothing_until_started_then_loads_once()
    {
        var loads = 0;
        var provider = EmbedderProvider.Deferred(() => { Interlocked.Increment(ref loads); return fixture.Encoder; });
        await Task.Delay(100);
        provider.Started.Should().BeFalse();
        provider.TryGet().Should().BeNull();
        loads.Should().Be(0);

        provider.Start().Should().BeTrue();
        provider.Start().Should().BeFalse("a second start does nothing");
        await Task.Run(provider.Wait).WaitAsync(TimeSpan.FromSeconds(30));
        provider.TryGet().Should().BeSameAs(fixture.Encoder);
        loads.Should().Be(1);
    }

    [Fact]
    public async Task Start_loading_starts_at_once_and_a_failure_is_reported()
    {
        var ok = EmbedderProvider.StartLoading(() => fixture.Encoder);
        ok.Started.Should().BeTrue();
        await Task.Run(ok.Wait).WaitAsync(TimeSpan.FromSeconds(30));

        var failing = EmbedderProvider.StartLoading(() => throw new FileNotFoundException("no model here"));
        var wait = () => failing.Wait();
        wait.Should().Throw<FileNotFoundException>();
        failing.TryGet().Should().BeNull();
        failing.Error.Should().BeOfType<FileNotFoundException>();
    }

    [Fact]
    public async Task Low_priority_load_runs_at_nice_19_on_Linux_and_a_normal_load_does_not()
    {
        if (!OperatingSystem.IsLinux()) return;
        var mine = BackgroundPriority.CurrentThreadNice();
        int? seen = null;
        var low = EmbedderProvider.Deferred(() => { seen = BackgroundPriority.CurrentThreadNice(); return fixture.Encoder; });
        low.Start(lowPriority: true);
        await Task.Run(low.Wait).WaitAsync(TimeSpan.FromSeconds(30));
        seen.Should().Be(19);

        int? normal = null;
        var regular = EmbedderProvider.StartLoading(() => { normal = BackgroundPriority.CurrentThreadNice(); return fixture.Encoder; });
        await Task.Run(regular.Wait).WaitAsync(TimeSpan.FromSeconds(30));
        normal.Should().Be(mine, "only the low-priority loading thread is reniced, not the process");
        BackgroundPriority.CurrentThreadNice().Should().Be(mine);
    }

    [Fact]
    public void Thread_priority_alone_does_not_change_the_nice_value_on_Linux()
    {
        // Why BackgroundPriority calls setpriority itself: on Linux, .NET's Thread.Priority leaves the thread's nice value as it is.
        if (!OperatingSystem.IsLinux()) return;
        int? before = null, after = null;
        var thread = new Thread(() =>
        {
            before = BackgroundPriority.CurrentThreadNice();
            Thread.CurrentThread.Priority = ThreadPriority.Lowest;
            after = BackgroundPriority.CurrentThreadNice();
        });
        thread.Start();
        thread.Join();
        after.Should().Be(before);
    }
}
