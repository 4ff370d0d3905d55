using McpMemory.Contracts;
using McpMemory.Core;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

// Sampling is deprecated from MCP specification 2026-07-28 (SEP-2577), but clients speaking the earlier versions
// (the TypeScript SDK, VS Code, …) still offer it, and a summary is only ever asked for when the client declared it.
#pragma warning disable MCP9005

/// <summary>
/// consolidate_memories' optional part: summaries of large clusters (<see cref="ClusterSummaries"/>) written by the
/// connected client's model through MCP sampling (sampling/createMessage). Only when the client declared the sampling
/// capability and the caller asked (summarize); otherwise it says which, and does nothing else.
/// </summary>
internal sealed class SamplingSummaries(MemoryService memories, Caller caller)
{
    /// <summary>Tokens the model may spend on one summary (the prompt asks for at most 150 words).</summary>
    private const int MaxTokens = 400;

    public async Task<SamplingResult> RunAsync(McpServer server, string? ns, bool summarize, bool dryRun, CancellationToken cancellationToken)
    {
        var supported = server.ClientCapabilities?.Sampling is not null;
        if (!supported)
            return new SamplingResult(false, summarize, [], "the client does not support MCP sampling (no sampling capability): no summary was written");
        if (!summarize)
            return new SamplingResult(true, false, [], "the client supports MCP sampling: pass summarize: true to have its model summarise large clusters");

        var book = new ClusterSummaries(memories);
        var clusters = book.Find(caller, ns);
        var results = new List<ClusterSummaryResult>(clusters.Count);
        foreach (var cluster in clusters)
        {
            var members = cluster.Members.Select(m => m.Id.ToString("D")).ToList();
            var replaces = cluster.Replaces.Select(id => id.ToString("D")).ToList();
            if (dryRun)
            {
                results.Add(new ClusterSummaryResult(cluster.Namespace, cluster.Tag, members, null, null, null, replaces, null));
                continue;
            }
            try
            {
                var answer = await server.SampleAsync(new CreateMessageRequestParams
                {
                    SystemPrompt = ClusterSummaries.SystemPrompt,
                    Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = ClusterSummaries.Prompt(cluster) }] }],
                    MaxTokens = MaxTokens,
                    IncludeContext = ContextInclusion.None,
                }, cancellationToken);
                var text = string.Join("\n", answer.Content.OfType<TextContentBlock>().Select(b => b.Text)).Trim();
                if (text.Length == 0)
                {
                    results.Add(new ClusterSummaryResult(cluster.Namespace, cluster.Tag, members, null, null, answer.Model, replaces, "the client's model returned no text"));
                    continue;
                }
                var id = book.Record(caller, cluster, text, answer.Model);
                results.Add(new ClusterSummaryResult(cluster.Namespace, cluster.Tag, members, id.ToString("D"), text, answer.Model, replaces, null));
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not MemoryValidationException)
            {
                // The user declined the request, or the client failed: the originals are untouched; say so per cluster.
                results.Add(new ClusterSummaryResult(cluster.Namespace, cluster.Tag, members, null, null, null, replaces, e.Message));
            }
        }
        var note = clusters.Count == 0
            ? $"no cluster needs a summary (a cluster: at least {ClusterSummaries.DefaultMinSize} live memories sharing a tag, not yet summarised)"
            : dryRun ? $"{clusters.Count} cluster(s) would be summarised by the client's model" : $"{results.Count(r => r.SummaryId is not null)} of {clusters.Count} cluster(s) summarised by the client's model";
        return new SamplingResult(true, true, results, note);
    }
}
