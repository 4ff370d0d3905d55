using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

public class AgentStateTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Theory, BothBackends]
    public void Versions_increase_and_any_json_value_round_trips(Backend backend)
    {
        using var t = new TestStore(backend);
        var first = t.Service.SetState(t.Caller, "current_task", Json("""{"issue": 42, "steps": ["a", "b"]}"""), null);
        first.Version.Should().Be(1);
        var second = t.Service.SetState(t.Caller, "current_task", Json("\"done\""), expectedVersion: 1);
        second.Version.Should().Be(2);

        var read = t.Service.GetState(t.Caller, "current_task");
        read.Version.Should().Be(2);
        read.Value!.GetValue<string>().Should().Be("done");

        foreach (var value in new[] { "null", "true", "3.25", "[1,[2]]", "{}" })
            t.Service.SetState(t.Caller, "k", Json(value), null).Value?.ToJsonString().Should().Be(value == "null" ? null : value);
    }

    [Theory, BothBackends]
    public void Stale_expected_version_is_refused_with_the_current_version_and_changes_nothing(Backend backend)
    {
        using var t = new TestStore(backend);
        t.Service.SetState(t.Caller, "plan", Json("1"), null);
        t.Service.SetState(t.Caller, "plan", Json("2"), null);

        t.Service.Invoking(s => s.SetState(t.Caller, "plan", Json("3"), expectedVersion: 1))
            .Should().Throw<MemoryConflictException>().Where(e => e.CurrentVersion == 2).WithMessage("expected_version*is 2*not 1*");
        t.Service.GetState(t.Caller, "plan").Value!.GetValue<int>().Should().Be(2);

        t.Service.Invoking(s => s.SetState(t.Caller, "fresh", Json("1"), expectedVersion: 3))
            .Should().Throw<MemoryConflictException>().Where(e => e.CurrentVersion == 0);
        t.Service.SetState(t.Caller, "fresh", Json("1"), expectedVersion: 0).Version.Should().Be(1);
    }

    [Theory, BothBackends]
    public void State_is_separate_per_namespace_and_agent(Backend backend)
    {
        using var t = new TestStore(backend);
        t.Service.SetState(t.Caller, "k", Json("1"), null);
        var otherAgent = t.Caller with { AgentId = "agent-2" };
        var otherProject = t.Caller with { DefaultNamespace = "project:other" };
        otherAgent.Invoking(c => t.Service.GetState(c, "k")).Should().Throw<MemoryNotFoundException>().WithMessage("key*");
        otherProject.Invoking(c => t.Service.GetState(c, "k")).Should().Throw<MemoryNotFoundException>();
    }

    [Theory, BothBackends]
    public void Bad_keys_and_values_are_refused(Backend backend)
    {
        using var t = new TestStore(backend);
        t.Service.Invoking(s => s.SetState(t.Caller, "", Json("1"), null)).Should().Throw<MemoryValidationException>().WithMessage("key*empty*");
        t.Service.Invoking(s => s.SetState(t.Caller, new string('k', 201), Json("1"), null)).Should().Throw<MemoryValidationException>().WithMessage("key*limit is 200*");
        t.Service.Invoking(s => s.SetState(t.Caller, "k", Json("\"" + new string('v', 300_000) + "\""), null))
            .Should().Throw<MemoryValidationException>().WithMessage("value*limit is 262144 bytes*");
        t.Service.Invoking(s => s.SetState(t.Caller, "k", Json("1"), -1)).Should().Throw<MemoryValidationException>().WithMessage("expected_version*");
        t.Service.Stats().StateKeys.Should().Be(0);
    }
}
