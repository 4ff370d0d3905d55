using System.Globalization;
using System.Text;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Portability;

/// <summary>One namespace rendered as Markdown, with a file name that is safe in any folder.</summary>
public sealed record MarkdownFile(string Namespace, string FileName, int Memories, string Text);

/// <summary>
/// A person's view of the memories: one Markdown document per namespace, grouped by type (in the order of
/// <see cref="MemoryTypes.All"/>), newest first, each memory with its date, importance, tags and id. For reading,
/// not for re-import (use JSONL for that). Expired memories are left out.
/// </summary>
internal static class MarkdownExporter
{
    public static IReadOnlyList<MarkdownFile> Render(MemoryDatabase database, long now)
    {
        var memories = PortableStore.LiveMemoriesByNamespace(database, now);

        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return memories.GroupBy(m => m.Namespace, StringComparer.Ordinal)
            .Select(group => new MarkdownFile(group.Key, UniqueFileName(group.Key, usedNames), group.Count(), Document(group.Key, group.ToList())))
            .ToList();
    }

    private static string Document(string ns, List<Memory> memories)
    {
        var md = new StringBuilder();
        md.Append("# ").Append(ns).Append("\n\n");
        md.Append(memories.Count).Append(memories.Count == 1 ? " memory" : " memories").Append(", grouped by type, newest first.\n");
        var typeOrder = MemoryTypes.All.Keys.ToList();
        foreach (var byType in memories.GroupBy(m => m.MemoryType).OrderBy(g => typeOrder.IndexOf(g.Key) is var i && i < 0 ? int.MaxValue : i).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            md.Append("\n## ").Append(byType.Key).Append(" (").Append(byType.Count()).Append(")\n");
            foreach (var m in byType)
            {
                md.Append("\n### ").Append(m.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
                  .Append(" · importance ").Append(m.Importance.ToString("0.##", CultureInfo.InvariantCulture));
                if (m.Tags.Count > 0) md.Append(" · ").Append(string.Join(' ', m.Tags.Select(t => "`" + t + "`")));
                md.Append("\n\n").Append(m.Content.Trim()).Append("\n\n");
                var facts = new List<string> { "id `" + m.Id.ToString("D") + "`" };
                if (m.AgentId is not null) facts.Add("agent " + m.AgentId);
                if (m.SessionId is not null) facts.Add("session " + m.SessionId);
                if (m.Source is not null) facts.Add("source " + m.Source);
                if (m.ExpiresAt is { } expires) facts.Add("expires " + expires.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
                if (m.ArchivedAt is { } archived) facts.Add("archived " + archived.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
                if (m.Metadata is not null) facts.Add("metadata `" + m.Metadata.ToJsonString(JsonlFormat.Options).Replace("`", "'") + "`");
                md.Append("<sub>").Append(string.Join(" · ", facts)).Append("</sub>\n");
            }
        }
        return md.ToString();
    }

    /// <summary>
    /// "project:api" → "project-api.md". Namespace names may hold '/' and "..", so only letters, digits and _ - @ +
    /// survive (anything else becomes '-'), and clashes get a numeric suffix: a file always lands inside the folder.
    /// </summary>
    internal static string UniqueFileName(string ns, HashSet<string> used)
    {
        var name = new StringBuilder(ns.Length);
        foreach (var c in ns) name.Append(char.IsLetterOrDigit(c) || c is '_' or '-' or '@' or '+' ? c : '-');
        var stem = name.ToString();
        if (stem.Length == 0) stem = "namespace";
        var candidate = stem + ".md";
        for (var n = 2; !used.Add(candidate); n++) candidate = $"{stem}-{n}.md";
        return candidate;
    }
}
