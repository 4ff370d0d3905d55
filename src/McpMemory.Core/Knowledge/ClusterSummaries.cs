using System.Text;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Knowledge;

/// <summary>A cluster worth one summary: the live memories of one namespace that share <see cref="Tag"/>; <see cref="Replaces"/>: older summaries of the tag.</summary>
public sealed record SummaryCluster(string Namespace, string Tag, IReadOnlyList<Memory> Members, IReadOnlyList<Guid> Replaces);

/// <summary>
/// Summaries of large clusters, written by a model the caller provides (the MCP client's, through sampling). A cluster is
/// the live memories (not superseded, archived or expired, not summaries themselves) of one namespace that carry the
/// same tag, when there are at least <see cref="DefaultMinSize"/> of them; the <see cref="MaxMembers"/> most important
/// (then newest) are summarised. Largest clusters first; a cluster whose members a live summary of the same tag
/// already covers is skipped, and so is one with the same members as a cluster chosen before it; a new summary of a
/// tag supersedes the tag's older summary (kept, in memory_history). The summary is a new
/// <c>context</c> memory tagged with the cluster's tag and <c>summary</c>, its metadata listing the originals
/// (<c>summary_of</c>); the originals stay as they are, and each gets a "summarize" event naming the summary
/// (memory_history shows it), so nothing of theirs is rewritten.
/// </summary>
public sealed class ClusterSummaries(MemoryService memories, TimeProvider? clock = null)
{
    public const int DefaultMinSize = 5;
    public const int MaxMembers = 30;
    public const int DefaultMaxClusters = 3;
    public const string SummaryTag = "summary";
    public const string SummaryOfKey = "summary_of";
    public const string SummaryTagKey = "summary_tag";

    private readonly SummaryQueries _queries = new(memories.Database);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private long Now => UnixTime.ToMs(_clock.GetUtcNow());

    /// <summary>The clusters of the namespace (default: the caller's) that want a summary, largest first, at most <paramref name="maxClusters"/>.</summary>
    public IReadOnlyList<SummaryCluster> Find(Caller caller, string? ns, int minSize = DefaultMinSize, int maxClusters = DefaultMaxClusters)
    {
        var space = ns is null ? caller.DefaultNamespace : Namespaces.Validate(ns);
        if (!caller.CanWrite(space)) throw new MemoryValidationException("namespace", $"this caller may not change memories in \"{space}\"");
        var rows = _queries.LiveTagged(space, Now);
        var summaries = rows.Where(IsSummary).ToList();
        var byTag = new Dictionary<string, List<Memory>>(StringComparer.Ordinal);
        foreach (var m in rows.Where(m => !IsSummary(m)))
            foreach (var tag in m.Tags)
            {
                if (!byTag.TryGetValue(tag, out var list)) byTag[tag] = list = [];
                list.Add(m);
            }
        var chosen = new List<SummaryCluster>();
        foreach (var (tag, members) in byTag.Where(t => t.Value.Count >= minSize).OrderByDescending(t => t.Value.Count).ThenBy(t => t.Key, StringComparer.Ordinal))
        {
            if (chosen.Count >= maxClusters) break;
            var picked = members.Take(MaxMembers).ToList();
            var ids = picked.Select(m => m.Id).ToHashSet();
            if (summaries.Any(s => Covers(s, tag, ids))) continue;
            if (chosen.Any(c => c.Members.Select(m => m.Id).ToHashSet().SetEquals(ids))) continue;
            var older = summaries.Where(s => s.Metadata?[SummaryTagKey]?.GetValue<string>() == tag).Select(s => s.Id).ToList();
            chosen.Add(new SummaryCluster(space, tag, picked, older));
        }
        return chosen;
    }

    /// <summary>What the model is asked: one self-contained summary of the cluster's memories.</summary>
    public static string Prompt(SummaryCluster cluster)
    {
        var text = new StringBuilder();
        text.Append("Write one memory that summarises these ").Append(cluster.Members.Count).Append(" related memories (tag \"")
            .Append(cluster.Tag).Append("\", namespace ").Append(cluster.Namespace).AppendLine(") for a coding agent's later sessions.")
            .AppendLine("One self-contained paragraph of at most 150 words, plain text, no preamble; keep names, commands, numbers and decisions exact; do not invent anything.")
            .AppendLine();
        foreach (var m in cluster.Members)
            text.Append("- (").Append(m.MemoryType).Append(", ").Append(m.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd")).Append(") ")
                .AppendLine(Namespaces.Truncate(m.Content.ReplaceLineEndings(" "), 1000));
        return text.ToString();
    }

    public const string SystemPrompt = "You condense a coding agent's stored memories into one accurate summary memory.";

    /// <summary>
    /// Stores <paramref name="text"/> as the cluster's summary (a context memory linked to the originals) and links each
    /// original to it by a "summarize" event. Returns the summary's id.
    /// </summary>
    public Guid Record(Caller caller, SummaryCluster cluster, string text, string? model)
    {
        var metadata = new JsonObject
        {
            [SummaryOfKey] = new JsonArray([.. cluster.Members.Select(m => (JsonNode)m.Id.ToString("D"))]),
            [SummaryTagKey] = cluster.Tag,
            ["summarized_by"] = "mcp-sampling",
            ["model"] = model,
        };
        var stored = memories.Store(caller, new NewMemory
        {
            Content = memories.Validate.Content(text.Trim()),
            MemoryType = "context",
            Tags = [cluster.Tag, SummaryTag],
            Importance = cluster.Members.Max(m => m.Importance),
            Namespace = cluster.Namespace,
            MetadataJson = metadata.ToJsonString(),
            Source = "sampling",
            Supersedes = cluster.Replaces,
        });
        _queries.Link(stored.MemoryId, cluster.Tag, cluster.Members, Now);
        return stored.MemoryId;
    }

    private static bool IsSummary(Memory m) => m.Metadata?[SummaryOfKey] is JsonArray;

    private static bool Covers(Memory summary, string tag, HashSet<Guid> ids) =>
        summary.Metadata?[SummaryTagKey]?.GetValue<string>() == tag
        && summary.Metadata[SummaryOfKey] is JsonArray of
        && ids.IsSubsetOf(of.Select(n => Guid.TryParse(n?.GetValue<string>(), out var g) ? g : Guid.Empty));
}
