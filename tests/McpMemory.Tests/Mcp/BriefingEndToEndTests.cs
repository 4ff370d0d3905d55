using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Briefing;
using McpMemory.Tests.Support;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>The briefing over MCP, through the SDK's client and the built server over stdio: tool, prompt, resources.</summary>
public sealed class BriefingEndToEndTests
{
    private static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public async Task get_briefing_the_briefing_prompt_and_the_resources_give_the_same_memories_within_the_budget()
    {
        using var dir = new TempDirectory();
        await using var client = await StdioMcpClient.StartAsync(dir.File("m.db"), "project:e2e");
        var decision = (await StdioMcpClient.CallAsync(client, "store_memory", Args(("content", "Chose Postgres advisory locks for the job queue"),
            ("memory_type", "decision"), ("metadata", new { reason = "no extra broker to run" })))).GetProperty("memory_id").GetString()!;
        var preference = (await StdioMcpClient.CallAsync(client, "store_memory", Args(("content", "The user wants small commits with honest messages"),
            ("memory_type", "preference")))).GetProperty("memory_id").GetString()!;
        var elsewhere = (await StdioMcpClient.CallAsync(client, "store_memory", Args(("content", "Billing team prefers feature flags"),
            ("memory_type", "preference"), ("namespace", "project:billing")))).GetProperty("memory_id").GetString()!;
        await StdioMcpClient.CallAsync(client, "set_agent_state", Args(("key", "current_task"), ("value", new { step = "wire the queue worker" })));

        var tools = (await client.ListToolsAsync()).ToDictionary(t => t.Name);
        var tool = tools["get_briefing"];
        tool.ProtocolTool.Annotations!.ReadOnlyHint.Should().BeTrue();
        tool.JsonSchema.GetProperty("properties").EnumerateObject().Select(p => (p.Name, p.Value.GetProperty("description").GetString()))
            .Should().HaveCount(3).And.OnlyContain(p => !string.IsNullOrWhiteSpace(p.Item2));

        var briefing = await StdioMcpClient.CallAsync(client, "get_briefing", Args(("task", "job queue locks"), ("budget_tokens", 600)));
        var markdown = briefing.GetProperty("markdown").GetString()!;
        briefing.GetProperty("tokens").GetInt32().Should().Be(TokenCounter.Count(markdown)).And.BeLessThanOrEqualTo(600);
        var ids = briefing.GetProperty("sections").EnumerateArray().SelectMany(s => s.GetProperty("items").EnumerateArray())
            .Select(i => i.GetProperty("memory_id").GetString()).Where(id => id is not null).ToList();
        ids.Should().OnlyHaveUniqueItems().And.Contain([decision, preference]).And.NotContain(elsewhere, "project:billing is not searched by default");
        markdown.Should().Contain("wire the queue worker").And.Contain("(reason: no extra broker to run)").And.Contain($"(id {decision})");

        var billing = await StdioMcpClient.CallAsync(client, "get_briefing", Args(("namespaces", new[] { "project:billing" })));
        billing.GetProperty("markdown").GetString().Should().Contain("Billing team prefers feature flags").And.NotContain("Postgres");

        var refused = await client.CallToolAsync("get_briefing", Args(("budget_tokens", 50)));
        refused.IsError.Should().BeTrue();
        refused.Content.OfType<TextContentBlock>().Single().Text.Should().Contain("budget_tokens: must be between 200 and 20000 (got 50)");

        var prompts = await client.ListPromptsAsync();
        var prompt = prompts.Should().ContainSingle(p => p.Name == "briefing").Subject;
        prompt.ProtocolPrompt.Arguments!.Select(a => (a.Name, a.Required)).Should().Equal([("task", (bool?)false)]);
        var got = await client.GetPromptAsync("briefing", new Dictionary<string, object?> { ["task"] = "job queue locks" });
        var text = got.Messages.Should().ContainSingle().Subject.Content.Should().BeOfType<TextContentBlock>().Subject.Text;
        text.Should().Contain("# Memory briefing").And.Contain($"(id {decision})").And.Contain("for the task \"job queue locks\"");

        var resources = await client.ListResourcesAsync();
        resources.Select(r => r.Uri).Should().Contain("memory://briefing");
        var templates = await client.ListResourceTemplatesAsync();
        templates.Select(t => t.UriTemplate).Should().Contain(["memory://memories/{id}", "memory://state/{key}"]);

        var read = await client.ReadResourceAsync("memory://briefing");
        var resourceText = read.Contents.OfType<TextResourceContents>().Single();
        resourceText.MimeType.Should().Be("text/markdown");
        resourceText.Text.Should().Contain($"(id {preference})").And.Contain("wire the queue worker");

        var memory = JsonDocument.Parse((await client.ReadResourceAsync($"memory://memories/{decision}")).Contents.OfType<TextResourceContents>().Single().Text).RootElement;
        memory.GetProperty("memory_id").GetString().Should().Be(decision);
        memory.GetProperty("content").GetString().Should().Be("Chose Postgres advisory locks for the job queue");

        var state = JsonDocument.Parse((await client.ReadResourceAsync("memory://state/current_task")).Contents.OfType<TextResourceContents>().Single().Text).RootElement;
        state.GetProperty("value").GetProperty("step").GetString().Should().Be("wire the queue worker");

        var missing = async () => await client.ReadResourceAsync($"memory://memories/{Guid.NewGuid():D}");
        (await missing.Should().ThrowAsync<McpException>()).Which.Message.Should().Contain("no memory with id");
        var noState = async () => await client.ReadResourceAsync("memory://state/never-set");
        (await noState.Should().ThrowAsync<McpException>()).Which.Message.Should().Contain("no state \"never-set\"");
    }
}
