using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Briefing;

/// <summary>
/// What an agent should know when a session starts, within a token budget: unfinished work (its agent state), the
/// user's preferences and corrections, recent decisions with their reasons, the skills that work (for the task, when
/// there is one; Knowledge/SkillBook), and the memories most relevant to the task
/// (hybrid search) or, without a task, the most important and most used. Sections take turns, one item each, so none
/// starves another; a memory appears once however many sections it fits; each section says how many of its kind were
/// left out. The budget is counted with cl100k_base on the final markdown, so it holds exactly, not by estimate.
/// Reads only: a briefing never counts as an access (it would lift whatever it showed, every session).
/// </summary>
public sealed class BriefingBuilder(MemoryService memories, TimeProvider? clock = null)
{
    private readonly BriefingQueries _queries = new(memories.Database);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Candidates read per section: more than any budget up to several thousand tokens can show.</summary>
    private const int PerSection = 30;
    /// <summary>A long memory is clipped in the briefing (its id opens the whole of it).</summary>
    private const int MaxItemChars = 320;
    private const int MaxTaskChars = 200;

    private static readonly IReadOnlyList<string> PreferenceTypes = ["preference", "correction"];
    private static readonly IReadOnlyList<string> DecisionTypes = ["decision"];
    /// <summary>Skills have their own section (the ones that work); one that keeps failing is not offered as important.</summary>
    private static readonly IReadOnlyList<string> SkillTypes = ["skill"];
    private static readonly string[] ReasonKeys = ["reason", "why", "because", "rationale"];

    public Briefing Build(Caller caller, BriefingRequest request)
    {
        var budget = request.BudgetTokens ?? BriefingRequest.DefaultBudget;
        if (budget is < BriefingRequest.MinBudget or > BriefingRequest.MaxBudget)
            throw new MemoryValidationException("budget_tokens", $"must be between {BriefingRequest.MinBudget} and {BriefingRequest.MaxBudget} (got {budget})");
        var task = Task(request.Task);
        var namespaces = Namespaces(caller, request.Namespaces);
        var now = UnixTime.ToMs(_clock.GetUtcNow());

        // One scan of the live memories' ranking fields orders every section; the full rows are read for the candidates only.
        var live = _queries.Live(namespaces, now);
        var counts = live.GroupBy(m => m.MemoryType).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        long Count(IEnumerable<string> types) => types.Sum(t => counts.GetValueOrDefault(t));
        var others = counts.Keys.Except(PreferenceTypes).Except(DecisionTypes).Except(SkillTypes).ToList();
        var preferenceSeqs = MostImportant(live, PreferenceTypes);
        var decisionSeqs = live.Where(m => DecisionTypes.Contains(m.MemoryType))
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Seq).Take(PerSection).Select(m => m.Seq).ToList();
        var importantSeqs = task is null ? MostImportant(live, others) : [];
        var rows = _queries.Rows(preferenceSeqs.Concat(decisionSeqs).Concat(importantSeqs));
        List<Memory> Read(List<long> seqs) => seqs.Where(rows.ContainsKey).Select(seq => rows[seq]).ToList();

        var (states, stateTotal) = _queries.States(namespaces, caller.AgentId, PerSection);
        var skills = new SkillBook(memories, _clock).ForBriefing(namespaces, task, PerSection);
        var preferences = Read(preferenceSeqs);
        var decisions = Read(decisionSeqs);
        string? mode = null;
        List<Memory> relevant;
        if (task is not null)
        {
            var found = memories.Search(caller, new SearchRequest { Query = task, TopK = PerSection, Namespaces = namespaces }, trackAccess: false);
            relevant = found.Results.Select(h => h.Memory).ToList();
            mode = found.Mode;
        }
        else
        {
            // Preferences, corrections and decisions have their own sections: this one ranks the other kinds.
            relevant = Read(importantSeqs);
        }

        var shown = new HashSet<string>(StringComparer.Ordinal);
        var drafts = new List<Draft>();
        long ShownOf(IReadOnlyList<string> types) => drafts.Sum(d => d.Shown.Count(c => c.Item.MemoryType is { } t && types.Contains(t)));
        drafts.AddRange(
        [
            new(Briefing.UnfinishedWork, "Unfinished work", states.Select(StateCandidate).ToList(),
                d => stateTotal - d.Shown.Count, n => $"- and {n} more state keys (get_agent_state)"),
            new(Briefing.Preferences, "Preferences and corrections", preferences.Select(m => MemoryCandidate(m, $"{m.MemoryType}: ")).ToList(),
                _ => Count(PreferenceTypes) - ShownOf(PreferenceTypes), n => $"- and {n} more preferences and corrections, search for them"),
            new(Briefing.Decisions, "Recent decisions", decisions.Select(m => MemoryCandidate(m, $"{Day(m.CreatedAt)}: ", Reason(m))).ToList(),
                _ => Count(DecisionTypes) - ShownOf(DecisionTypes), n => $"- and {n} more decisions, search for them"),
            new(Briefing.Skills, task is null ? "Skills that work" : "Skills for the task", skills.Select(SkillCandidate).ToList(),
                d => d.Candidates.Count(c => !shown.Contains(c.Item.MemoryId!)), n => $"- and {n} more skills, find_skills for them"),
            task is not null
                ? new(Briefing.Relevant, "Relevant to the task", relevant.Select(m => MemoryCandidate(m, $"{m.MemoryType}, {Day(m.CreatedAt)}: ")).ToList(),
                    d => d.Candidates.Count(c => !shown.Contains(c.Item.MemoryId!)), n => $"- and {n} more matches, search for them")
                : new(Briefing.MostImportant, "Most important", relevant.Select(m => MemoryCandidate(m, $"{m.MemoryType}, {Day(m.CreatedAt)}: ")).ToList(),
                    _ => Count(others) - ShownOf(others), n => $"- and {n} more memories, search for them"),
        ]);

        var header = Header(namespaces, task);
        var added = Select(drafts, shown, TokenCounter.Count(header), budget);

        // The selection summed each line's tokens; the final text is counted whole and trimmed until it fits.
        var markdown = Render(header, drafts, notes: true);
        var tokens = TokenCounter.Count(markdown);
        while (tokens > budget && added.Count > 0)
        {
            var last = added[^1];
            added.RemoveAt(added.Count - 1);
            var item = last.Shown[^1];
            last.Shown.RemoveAt(last.Shown.Count - 1);
            if (item.Item.MemoryId is { } id) shown.Remove(id);
            markdown = Render(header, drafts, notes: true);
            tokens = TokenCounter.Count(markdown);
        }
        if (tokens > budget)
        {
            markdown = Render(header, drafts, notes: false);
            tokens = TokenCounter.Count(markdown);
        }

        var sections = drafts
            .Select(d => new BriefingSection(d.Name, d.Title, d.Shown.Select(c => c.Item).ToList(), Math.Max(0, d.Omitted(d)), d.Omitted(d) > 0 ? d.Note(d.Omitted(d))[2..] : null))
            .Where(s => s.Items.Count > 0 || s.Omitted > 0)
            .ToList();
        return new Briefing(task, namespaces, budget, tokens, TokenCounter.Encoding, mode, sections, markdown);
    }

    /// <summary>What matters most: importance, then how often it was used, then the newest.</summary>
    private static List<long> MostImportant(List<LiveMemory> live, IReadOnlyList<string> types) =>
        live.Where(m => types.Contains(m.MemoryType))
            .OrderByDescending(m => m.Importance).ThenByDescending(m => m.AccessCount).ThenByDescending(m => m.CreatedAt).ThenByDescending(m => m.Seq)
            .Take(PerSection).Select(m => m.Seq).ToList();

    /// <summary>
    /// Sections take turns adding their next item while it fits, each keeping room for its heading and its "more" line.
    /// A section stops at its first item that does not fit (later, shorter ones would break its order).
    /// </summary>
    private static List<Draft> Select(List<Draft> drafts, HashSet<string> shown, int used, int budget)
    {
        // Lines are counted one by one; the whole text tokenizes a little differently where they meet. A 1 % margin makes
        // the final count fit at the first try almost always (each retry re-counts the whole text).
        var reserved = budget / 100 + drafts.Where(d => d.Candidates.Count > 0)
            .Sum(d => TokenCounter.Count($"\n## {d.Title}\n") + TokenCounter.Count(d.Note(d.Candidates.Count + 9999) + "\n"));
        var added = new List<Draft>();
        for (var progress = true; progress;)
        {
            progress = false;
            foreach (var draft in drafts)
            {
                if (draft.Closed) continue;
                while (draft.Next < draft.Candidates.Count && draft.Candidates[draft.Next].Item.MemoryId is { } id && shown.Contains(id)) draft.Next++;
                if (draft.Next >= draft.Candidates.Count) { draft.Closed = true; continue; }
                var candidate = draft.Candidates[draft.Next];
                if (used + reserved + candidate.Tokens > budget) { draft.Closed = true; continue; }
                draft.Shown.Add(candidate);
                draft.Next++;
                if (candidate.Item.MemoryId is { } memoryId) shown.Add(memoryId);
                used += candidate.Tokens;
                added.Add(draft);
                progress = true;
            }
        }
        return added;
    }

    private static string Render(string header, IEnumerable<Draft> drafts, bool notes)
    {
        var text = new StringBuilder(header);
        var any = false;
        foreach (var draft in drafts)
        {
            var omitted = draft.Omitted(draft);
            if (draft.Shown.Count == 0 && (omitted <= 0 || !notes)) continue;
            any = true;
            text.Append("\n## ").Append(draft.Title).Append('\n');
            foreach (var item in draft.Shown) text.Append(item.Line).Append('\n');
            if (notes && omitted > 0) text.Append(draft.Note(omitted)).Append('\n');
        }
        if (!any) text.Append("\nNothing stored here yet. Store decisions (with the reason), fixes, preferences and corrections with store_memory.\n");
        return text.ToString();
    }

    private static string Header(IReadOnlyList<string> namespaces, string? task) =>
        $"# Memory briefing\nFrom {string.Join(", ", namespaces)}" +
        (task is null ? "" : $", for the task \"{Clip(Flatten(task), MaxTaskChars).Text}\"") +
        ". Open any item by its id: get, or the resource memory://memories/<id>.\n";

    private static Candidate StateCandidate(AgentState state)
    {
        var value = state.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : state.Value?.ToJsonString() ?? "null";
        var (text, clipped) = Clip(Flatten(value), MaxItemChars);
        var item = new BriefingItem(null, state.Key, null, text, clipped, state.UpdatedAt, state.Namespace, Version: state.Version);
        return Candidate.Of(item, $"- `{state.Key}` (v{state.Version}, {Day(state.UpdatedAt)}): {text}");
    }

    private static Candidate MemoryCandidate(Memory memory, string prefix, string? reason = null)
    {
        var (text, clipped) = Clip(Flatten(memory.Content), MaxItemChars);
        var id = memory.Id.ToString("D");
        var item = new BriefingItem(id, null, memory.MemoryType, text, clipped, memory.CreatedAt, memory.Namespace, memory.Importance, reason);
        var because = reason is null ? "" : $" (reason: {reason})";
        return Candidate.Of(item, $"- {prefix}{text}{because} (id {id})");
    }

    /// <summary>A skill as one line: when, the steps, how to know it worked, its record.</summary>
    private static Candidate SkillCandidate(Skill skill)
    {
        var steps = skill.Steps.Count == 0 ? "" : " → " + string.Join("; ", skill.Steps.Select((s, i) => $"{i + 1}. {s}"));
        var hint = skill.SuccessHint is null ? "" : $" (worked when: {skill.SuccessHint})";
        var (text, clipped) = Clip(Flatten($"when {skill.Trigger}{steps}{hint}"), MaxItemChars);
        var memory = skill.Memory;
        var id = memory.Id.ToString("D");
        var item = new BriefingItem(id, null, memory.MemoryType, text, clipped, memory.CreatedAt, memory.Namespace, memory.Importance);
        return Candidate.Of(item, $"- skill: {text} ({skill.Successes} worked, {skill.Failures} failed) (id {id})");
    }

    /// <summary>A decision's reason, when the agent stored it apart in metadata (reason, why, because, rationale).</summary>
    private static string? Reason(Memory memory)
    {
        if (memory.Metadata is null) return null;
        foreach (var key in ReasonKeys)
            if (memory.Metadata[key] is JsonValue value && value.TryGetValue<string>(out var reason) && !string.IsNullOrWhiteSpace(reason))
                return Clip(Flatten(reason), MaxItemChars / 2).Text;
        return null;
    }

    private string? Task(string? task)
    {
        if (string.IsNullOrWhiteSpace(task)) return null;
        try { return memories.Validate.Query(task); }
        catch (MemoryValidationException e) when (e.Field == "query") { throw new MemoryValidationException("task", e.Message[(e.Field.Length + 2)..]); }
    }

    private IReadOnlyList<string> Namespaces(Caller caller, IReadOnlyList<string>? requested)
    {
        var namespaces = memories.Validate.NamespaceList(requested) ?? caller.DefaultSearchNamespaces();
        foreach (var ns in namespaces)
            if (!caller.CanRead(ns))
                throw new MemoryValidationException("namespaces", $"this caller may not read \"{ns}\"");
        return namespaces;
    }

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One line: markdown lists break on newlines, and runs of white space cost tokens.</summary>
    private static string Flatten(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static (string Text, bool Clipped) Clip(string text, int max)
    {
        if (text.Length <= max) return (text, false);
        var cut = text.LastIndexOf(' ', max - 1, max / 4);
        if (cut <= 0) cut = char.IsHighSurrogate(text[max - 2]) ? max - 2 : max - 1;
        return (text[..cut].TrimEnd() + "…", true);
    }

    private sealed class Candidate(BriefingItem item, string line)
    {
        private int _tokens = -1;
        public BriefingItem Item { get; } = item;
        public string Line { get; } = line;
        /// <summary>A line costs its own tokens plus its newline; counted only for the lines the selection considers.</summary>
        public int Tokens => _tokens >= 0 ? _tokens : _tokens = TokenCounter.Count(Line + "\n");
        public static Candidate Of(BriefingItem item, string line) => new(item, line);
    }

    private sealed class Draft(string name, string title, List<Candidate> candidates, Func<Draft, long> omitted, Func<long, string> note)
    {
        public string Name { get; } = name;
        public string Title { get; } = title;
        public List<Candidate> Candidates { get; } = candidates;
        public Func<Draft, long> Omitted { get; } = omitted;
        public Func<long, string> Note { get; } = note;
        public List<Candidate> Shown { get; } = [];
        public int Next { get; set; }
        public bool Closed { get; set; }
    }
}
