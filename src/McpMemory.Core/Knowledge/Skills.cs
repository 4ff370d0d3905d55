using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json.Nodes;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Knowledge;

/// <summary>
/// A skill's structure (AgentSSOT's trigger → action → success): when it applies, what to do, how to know it worked.
/// Kept in the memory's metadata (<c>trigger</c>, <c>steps</c>, <c>success_hint</c>) and written out at the end of its
/// text too, so keyword and meaning search find a skill by its trigger and its steps like any other memory.
/// </summary>
public sealed record SkillFields(string? Trigger, IReadOnlyList<string>? Steps, string? SuccessHint)
{
    public const int MaxTriggerChars = 500;
    public const int MaxSteps = 50;
    public const int MaxStepChars = 1000;
    public const int MaxHintChars = 500;

    public bool IsEmpty => Trigger is null && (Steps is null || Steps.Count == 0) && SuccessHint is null;

    /// <summary>
    /// The memory with these fields applied: checked (only on a skill; lengths), merged into its metadata, and written
    /// at the end of its text. No fields: the memory as it is.
    /// </summary>
    public NewMemory ApplyTo(NewMemory memory)
    {
        if (IsEmpty) return memory;
        if (!string.Equals(memory.MemoryType?.Trim(), "skill", StringComparison.OrdinalIgnoreCase))
            throw new MemoryValidationException("trigger", "trigger, steps and success_hint belong to a skill: pass memory_type \"skill\"");
        var trigger = Text(Trigger, "trigger", MaxTriggerChars);
        var hint = Text(SuccessHint, "success_hint", MaxHintChars);
        var steps = Steps ?? [];
        if (steps.Count > MaxSteps) throw new MemoryValidationException("steps", $"has {steps.Count} steps; the limit is {MaxSteps}");
        var cleanSteps = steps.Select((s, i) => Text(s, $"steps[{i}]", MaxStepChars) ?? throw new MemoryValidationException($"steps[{i}]", "must not be empty")).ToList();

        JsonObject metadata;
        try { metadata = memory.MetadataJson is null ? [] : JsonNode.Parse(memory.MetadataJson) as JsonObject ?? throw new MemoryValidationException("metadata", "must be a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new MemoryValidationException("metadata", "is not valid JSON: " + e.Message); }
        if (trigger is not null) metadata["trigger"] = trigger;
        if (cleanSteps.Count > 0) metadata["steps"] = new JsonArray(cleanSteps.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray());
        if (hint is not null) metadata["success_hint"] = hint;

        var text = new StringBuilder(memory.Content.TrimEnd());
        if (trigger is not null) text.Append("\n\nWhen: ").Append(trigger);
        if (cleanSteps.Count > 0)
        {
            text.Append(trigger is null ? "\n\n" : "\n").Append("Steps:");
            for (var i = 0; i < cleanSteps.Count; i++) text.Append($"\n{i + 1}. {cleanSteps[i]}");
        }
        if (hint is not null) text.Append('\n').Append("Success: ").Append(hint);
        return memory with { Content = text.ToString(), MetadataJson = metadata.ToJsonString() };
    }

    private static string? Text(string? value, string field, int max)
    {
        if (value is null) return null;
        var trimmed = value.Trim();
        if (trimmed.Length == 0) return null;
        if (trimmed.Length > max) throw new MemoryValidationException(field, $"is {trimmed.Length} characters; the limit is {max}");
        return trimmed;
    }
}

/// <summary>A skill as it is found: its memory, its structure, its success record.</summary>
public sealed record Skill(Memory Memory, string Trigger, IReadOnlyList<string> Steps, string? SuccessHint, long Successes, long Failures)
{
    /// <summary>Laplace's estimate of how often it works: 0.5 with no record, towards 1 with successes, towards 0 with failures.</summary>
    public double Reliability => (Successes + 1.0) / (Successes + Failures + 2.0);

    /// <summary>Keeps failing: at least two failures and more failures than successes. Sinks in ranking, flagged in stats.</summary>
    public bool Failing => Failures >= 2 && Failures > Successes;
}

/// <summary>A skill matched to a task: how well its trigger fits (0..1) and its rank (the fit weighed by its record).</summary>
public sealed record SkillMatch(Skill Skill, double Match, double Score);

/// <summary>
/// Finds the skills for a task: each live skill's trigger (its text when it has none) is matched against the task by
/// words (the share of the trigger's stemmed content words in the task) and, when the encoder is ready, by meaning
/// (cosine of the task as a query and the trigger), then weighed by its success record, so a skill that keeps failing
/// sinks below one that works. Skills are few, so every one is scored; trigger vectors are kept per encoder.
/// </summary>
public sealed class SkillBook(MemoryService memories, TimeProvider? clock = null)
{
    /// <summary>A trigger must fit at least this well to count as matching a task (search_memory puts those first).</summary>
    public const double MatchFloor = 0.4;
    public const int MaxTopK = 50;

    private static readonly ConcurrentDictionary<(string Model, string Text), float[]> TriggerVectors = new();
    private const int MaxCachedVectors = 4096;

    private readonly SkillQueries _queries = new(memories.Database);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private long Now => UnixTime.ToMs(_clock.GetUtcNow());

    /// <summary>The skills the caller may read in these namespaces (default: its own and shared) that fit the task at all, best first.</summary>
    public IReadOnlyList<SkillMatch> Find(Caller caller, string task, int? topK = null, IReadOnlyList<string>? namespaces = null)
    {
        var query = memories.Validate.Query(task);
        var k = topK ?? 5;
        if (k is < 1 or > MaxTopK) throw new MemoryValidationException("top_k", $"must be between 1 and {MaxTopK} (got {k})");
        var spaces = memories.Validate.NamespaceList(namespaces) ?? caller.DefaultSearchNamespaces();
        foreach (var ns in spaces)
            if (!caller.CanRead(ns)) throw new MemoryValidationException("namespaces", $"this caller may not read \"{ns}\"");
        return Rank(_queries.Live(spaces, Now).Select(ToSkill).ToList(), query).Where(m => m.Match > 0).Take(k).ToList();
    }

    /// <summary>
    /// The skills of a briefing: for a task, those whose trigger matches it (best first); without one, the proven ones
    /// (most reliable, then most successes). Skills that keep failing are left out: a briefing offers what works.
    /// The namespaces are the caller's, already checked.
    /// </summary>
    public IReadOnlyList<Skill> ForBriefing(IReadOnlyList<string> namespaces, string? task, int limit)
    {
        var skills = _queries.Live(namespaces, Now).Select(ToSkill).Where(s => !s.Failing).ToList();
        return task is null
            ? skills.OrderByDescending(s => s.Reliability).ThenByDescending(s => s.Successes).ThenByDescending(s => s.Memory.Importance).Take(limit).ToList()
            : Rank(skills, task).Where(m => m.Match >= MatchFloor).Select(m => m.Skill).Take(limit).ToList();
    }

    /// <summary>Every skill that keeps failing, in every namespace (for stats).</summary>
    public IReadOnlyList<Skill> Failing() => _queries.Live(null, Now).Select(ToSkill).Where(s => s.Failing).ToList();

    /// <summary>How many live skills there are, in every namespace.</summary>
    public int Count() => _queries.Live(null, Now).Count;

    /// <summary>
    /// search_memory with skills first: the skills whose trigger matches the query (at least <see cref="MatchFloor"/>)
    /// lead, best first, then the other results in their order. Only when the request could return skills at all
    /// (no other memory type asked for, and no filter a skill is not checked against here).
    /// </summary>
    public SearchResponse Search(Caller caller, SearchRequest request, bool trackAccess = true)
    {
        var response = memories.Search(caller, request, trackAccess);
        var filtered = request.Tags is { Count: > 0 } || request.Since is not null || request.Until is not null || request.SessionId is not null
                       || request.MinImportance is > 0 || request.IncludeSuperseded;
        if (filtered || request.MemoryType is { } type && !string.Equals(type.Trim(), "skill", StringComparison.OrdinalIgnoreCase)) return response;
        var skills = Rank(_queries.Live(response.Namespaces, Now).Select(ToSkill).ToList(), response.Time?.Query ?? request.Query)
            .Where(m => m.Match >= MatchFloor).ToList();
        if (skills.Count == 0) return response;
        var topK = memories.Validate.TopK(request.TopK);
        var byId = response.Results.ToDictionary(h => h.Memory.Id);
        var first = skills.Select(m => byId.TryGetValue(m.Skill.Memory.Id, out var hit) ? hit : new SearchHit(m.Skill.Memory, Math.Round(m.Score, 6))).ToList();
        var ids = first.Select(h => h.Memory.Id).ToHashSet();
        return response with { Results = first.Concat(response.Results.Where(h => !ids.Contains(h.Memory.Id))).Take(topK).ToList() };
    }

    private IEnumerable<SkillMatch> Rank(List<Skill> skills, string task)
    {
        if (skills.Count == 0) return [];
        var taskWords = Stems(task);
        var embedder = memories.VectorsReady ? memories.Embedder : null;
        float[]? taskVector = null;
        if (embedder is not null)
        {
            try { taskVector = memories.QueryVectors.EmbedQuery(embedder, task); } catch (Exception) { taskVector = null; } // words alone, then
        }
        return skills.Select(skill =>
        {
            var triggerWords = Stems(skill.Trigger);
            var words = triggerWords.Count == 0 ? 0 : triggerWords.Count(taskWords.Contains) / (double)triggerWords.Count;
            var meaning = 0.0;
            if (taskVector is not null && TriggerVector(embedder!, skill.Trigger) is { } v && v.Length == taskVector.Length)
                meaning = Rescale(TensorPrimitives.Dot(taskVector, v), embedder!.ModelId);
            var match = Math.Max(words, 0.5 * words + 0.5 * meaning);
            // The record weighs the fit: ×0.5 for a skill with only failures .. ×1.5 with only successes.
            return new SkillMatch(skill, Math.Round(match, 4), Math.Round(match * (0.5 + skill.Reliability), 4));
        }).OrderByDescending(m => m.Score).ThenByDescending(m => m.Skill.Successes).ThenBy(m => m.Skill.Memory.CreatedAt);
    }

    /// <summary>
    /// Cosine to 0..1 above the level unrelated texts reach: arctic-embed-xs puts unrelated pairs at 0.65–0.76, so its
    /// scale starts at 0.75; other encoders spread wider, from 0.3.
    /// </summary>
    private static double Rescale(double cosine, string modelId)
    {
        var low = modelId.Contains("arctic", StringComparison.OrdinalIgnoreCase) ? 0.75 : 0.3;
        return Math.Clamp((cosine - low) / (1 - low), 0, 1);
    }

    private static float[]? TriggerVector(Embeddings.IEmbedder embedder, string trigger)
    {
        var key = (embedder.ModelId, trigger);
        if (TriggerVectors.TryGetValue(key, out var cached)) return cached;
        float[] vector;
        try { vector = embedder.Embed(trigger); } catch (Exception) { return null; }
        if (TriggerVectors.Count >= MaxCachedVectors) TriggerVectors.Clear();
        TriggerVectors[key] = vector;
        return vector;
    }

    private static HashSet<string> Stems(string text) => FtsQuery.Terms(text).Select(PorterStemmer.Stem).ToHashSet(StringComparer.Ordinal);

    private static Skill ToSkill(SkillRow row)
    {
        var metadata = row.Memory.Metadata;
        string? Field(string name) => metadata?[name] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s : null;
        var steps = metadata?["steps"] is JsonArray array
            ? array.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList()
            : [];
        // A skill stored without a trigger (before skills had one) is matched on its text.
        return new Skill(row.Memory, Field("trigger") ?? row.Memory.Content, steps, Field("success_hint"), row.Successes, row.Failures);
    }
}
