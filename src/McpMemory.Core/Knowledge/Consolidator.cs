using System.Diagnostics;
using System.Numerics.Tensors;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Knowledge;

/// <summary>What to consolidate: one namespace (default: the caller's), or every namespace the caller may write.</summary>
public sealed record ConsolidateRequest
{
    public string? Namespace { get; init; }
    public bool AllNamespaces { get; init; }
    public bool DryRun { get; init; }
    /// <summary>Which stale memories to archive (default: <see cref="ArchivePolicy.Default"/>; <see cref="ArchivePolicy.Off"/>: none).</summary>
    public ArchivePolicy Archive { get; init; } = ArchivePolicy.Default;
}

/// <summary>
/// Which memories consolidation archives as stale: importance below <paramref name="BelowImportance"/> (by default below
/// the default importance, 0.5: the agent marked them minor), never accessed (no search or briefing returned them, no
/// feedback), and created and last changed more than <paramref name="AfterDays"/> days ago. 0 days turns archiving off.
/// </summary>
public sealed record ArchivePolicy(int AfterDays, double BelowImportance = ArchivePolicy.DefaultBelowImportance)
{
    public const int DefaultAfterDays = 90;
    public const double DefaultBelowImportance = MemoryValidator.DefaultImportance;
    public const int MaxAfterDays = 36_500;

    public static ArchivePolicy Default { get; } = new(DefaultAfterDays);
    public static ArchivePolicy Off { get; } = new(0);

    public bool Enabled => AfterDays > 0;

    /// <summary>A policy from a number of days (0: off), refused outside 0..<see cref="MaxAfterDays"/> naming <paramref name="field"/>.</summary>
    public static ArchivePolicy Days(int days, string field) => days is < 0 or > MaxAfterDays
        ? throw new MemoryValidationException(field, $"must be a number of days between 0 (off) and {MaxAfterDays} (got {days})")
        : new ArchivePolicy(days);
}

/// <summary>A memory archived as stale (or, dry, that would be).</summary>
public sealed record ArchivedMemory(Guid MemoryId, string Namespace, string MemoryType, string Content, double Importance, DateTimeOffset CreatedAt);

/// <summary>A memory folded into another, and the merge rule's verdict (identical, contained, restated) with the cosine.</summary>
public sealed record ConsolidatedMember(Guid MemoryId, string Content, string Reason, double Similarity);

/// <summary>One group that says the same thing: the memory kept and those it absorbs.</summary>
public sealed record ConsolidationGroup(Guid CanonicalId, string Namespace, string MemoryType, string Content, IReadOnlyList<ConsolidatedMember> Members);

/// <summary>What a run did (or, dry, would do).</summary>
public sealed record ConsolidationReport(
    IReadOnlyList<string> Namespaces, bool DryRun, int Scanned, int Merged, IReadOnlyList<ConsolidationGroup> Groups, string? Encoder, long ElapsedMs)
{
    /// <summary>The archive rule applied (<see cref="ArchivePolicy.Off"/> when off).</summary>
    public ArchivePolicy Archive { get; init; } = ArchivePolicy.Off;

    /// <summary>The stale memories archived (dry: that would be).</summary>
    public IReadOnlyList<ArchivedMemory> Archived { get; init; } = [];
}

/// <summary>
/// Consolidation: finds memories that say the same thing, by the store's own merge rule (<see cref="DuplicateRule"/>:
/// identical, contained, or a strict restatement above the encoder's cosine floor; never merely similar), keeps one
/// canonical memory per group (the fullest text: the most words, then the most used, then the oldest) with the group's
/// tags merged, the highest importance and the summed access counts, and supersedes the others (kept, linked, hidden
/// from default search; memory_history shows them). Only memories of the same namespace and type are compared, and
/// only those that can pass the rule: the same content-word signature (rules 1 and 3) or one text's first three
/// words found in the other (rule 2), so a run over N memories costs about N, not N².
/// Then it archives stale memories (<see cref="ArchivePolicy"/>): kept whole, hidden from default search, restorable
/// with unarchive. Memories in a merge group are not archived in the same run (the merge changes them).
/// </summary>
public sealed class Consolidator(MemoryService memories, TimeProvider? clock = null)
{
    private readonly ConsolidationStore _store = new(memories.Database);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public ConsolidationReport Run(Caller caller, ConsolidateRequest request)
    {
        var watch = Stopwatch.StartNew();
        IReadOnlyList<string>? namespaces = null;
        if (!request.AllNamespaces)
        {
            var ns = request.Namespace is null ? caller.DefaultNamespace : Namespaces.Validate(request.Namespace);
            if (!caller.CanWrite(ns)) throw new MemoryValidationException("namespace", $"this caller may not change memories in \"{ns}\"");
            namespaces = [ns];
        }
        else if (caller.Writable is not null) namespaces = caller.Writable.ToList();

        // Restatements are judged by cosine too: give every memory its vector first (when the encoder is ready; a dry run
        // too, or it could not see them: vectors are what the background worker would write anyway, no memory changes).
        if (memories.VectorsReady)
            for (var round = 0; round < 10_000 && memories.PendingEmbeddings() > 0; round++)
                if (memories.EmbedPending() == 0) break;
        var model = memories.VectorsReady ? memories.Embedder?.ModelId : null;
        var floor = DuplicateRule.CosineFloor(model);
        var now = UnixTime.ToMs(_clock.GetUtcNow());
        var rows = _store.Live(namespaces, model, now);

        var merges = new List<ConsolidationMerge>();
        foreach (var kind in rows.GroupBy(r => (r.Namespace, r.MemoryType)))
            merges.AddRange(Group(kind.ToList(), floor));

        var merged = request.DryRun ? merges.Sum(m => m.Members.Count) : merges.Count == 0 ? 0 : _store.Apply(merges, now);
        var groups = merges.Select(m => new ConsolidationGroup(m.Canonical.Id, m.Canonical.Namespace, m.Canonical.MemoryType, m.Canonical.Content,
            m.Members.Select(x => new ConsolidatedMember(x.Member.Id, x.Member.Content, x.Reason, Math.Round(x.Cosine, 4))).ToList())).ToList();
        var archived = Archive(namespaces, request, merges, now);
        return new ConsolidationReport(namespaces ?? rows.Select(r => r.Namespace).Distinct().Order(StringComparer.Ordinal).ToList(),
            request.DryRun, rows.Count, merged, groups, model, watch.ElapsedMilliseconds)
        {
            Archive = request.Archive,
            Archived = archived,
        };
    }

    /// <summary>The stale memories archived (dry: those that would be), leaving out this run's merge groups.</summary>
    private List<ArchivedMemory> Archive(IReadOnlyList<string>? namespaces, ConsolidateRequest request, List<ConsolidationMerge> merges, long now)
    {
        if (!request.Archive.Enabled) return [];
        var cutoff = now - request.Archive.AfterDays * 86_400_000L;
        var merging = merges.SelectMany(m => m.Members.Select(x => x.Member.Id).Prepend(m.Canonical.Id)).ToHashSet();
        var stale = _store.Stale(namespaces, cutoff, request.Archive.BelowImportance, now).Where(r => !merging.Contains(r.Id)).ToList();
        if (!request.DryRun && stale.Count > 0)
        {
            var done = _store.Archive(stale, cutoff, request.Archive.BelowImportance, request.Archive.AfterDays, now).ToHashSet();
            stale = stale.Where(r => done.Contains(r.Id)).ToList();
        }
        return stale.Select(r => new ArchivedMemory(r.Id, r.Namespace, r.MemoryType, r.Content, r.Importance, UnixTime.FromMs(r.CreatedAt))).ToList();
    }

    /// <summary>The merges among memories of one namespace and type.</summary>
    private static List<ConsolidationMerge> Group(List<ConsolidationRow> rows, double? floor)
    {
        var words = rows.Select(r => DuplicateRule.Normalize(r.Content).Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
        var bySignature = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var byOpening = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var signatures = rows.Select(r => DuplicateRule.Signature(r.Content)).ToArray();
        for (var i = 0; i < rows.Count; i++)
        {
            Add(bySignature, signatures[i], i);
            if (words[i].Length >= DuplicateRule.MinContainedWords) Add(byOpening, Opening(words[i], 0), i);
        }
        // The fullest text first: it is the one the others can be contained in.
        var order = Enumerable.Range(0, rows.Count)
            .OrderByDescending(i => words[i].Length).ThenByDescending(i => rows[i].AccessCount).ThenBy(i => rows[i].CreatedAt).ThenBy(i => rows[i].Seq).ToList();
        var assigned = new bool[rows.Count];
        var merges = new List<ConsolidationMerge>();
        foreach (var c in order)
        {
            if (assigned[c]) continue;
            assigned[c] = true;
            var candidates = new HashSet<int>(bySignature[signatures[c]]);
            // A shared opening is only a hint (every "the payments service …" shares one): keep the texts that are a run of this one's words.
            for (var p = 0; p + DuplicateRule.MinContainedWords <= words[c].Length; p++)
                if (byOpening.TryGetValue(Opening(words[c], p), out var found))
                    foreach (var m in found) if (!assigned[m] && IsRunAt(words[m], words[c], p)) candidates.Add(m);
            var members = new List<(ConsolidationRow, string, double)>();
            foreach (var m in candidates.Order())
            {
                if (assigned[m]) continue;
                var cosine = rows[m].Vector is { } a && rows[c].Vector is { } b && a.Length == b.Length ? TensorPrimitives.Dot(a, b) : 0;
                var verdict = DuplicateRule.Judge(rows[m].Content, rows[c].Content, cosine, floor);
                if (verdict == DuplicateVerdict.Distinct) continue;
                assigned[m] = true;
                members.Add((rows[m], verdict.ToString().ToLowerInvariant(), cosine));
            }
            if (members.Count > 0) merges.Add(new ConsolidationMerge(rows[c], members));
        }
        return merges;
    }

    /// <summary>Whether <paramref name="part"/> is the run of <paramref name="text"/>'s words starting at <paramref name="at"/>.</summary>
    private static bool IsRunAt(string[] part, string[] text, int at)
    {
        if (at + part.Length > text.Length) return false;
        for (var i = 0; i < part.Length; i++) if (part[i] != text[at + i]) return false;
        return true;
    }

    private static string Opening(string[] words, int at) => string.Join(' ', words, at, DuplicateRule.MinContainedWords);

    private static void Add(Dictionary<string, List<int>> index, string key, int value)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(value);
    }
}
