using System.ComponentModel;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Contracts;
using McpMemory.Core.Search;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>
/// store_memory, search_memory, memory_history, feedback, delete_memory: each one call into the engine and its result's
/// shape. Engine errors become tool errors in one place, the call-tool filter (<see cref="ToolArgumentErrors"/>).
/// </summary>
[McpServerToolType]
public sealed class MemoryTools(MemoryService memories, Caller caller)
{
    [McpServerTool(Name = "store_memory", Title = "Store a memory", Destructive = false, Idempotent = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Save something worth remembering in later sessions: a decision and its reason, a bug's cause and fix, " +
                 "a user preference, a correction, a command that worked. One self-contained fact per memory, written so it " +
                 "makes sense without this conversation. Returns the memory_id. The same memory stored again (same words, or the old " +
                 "text extended) updates it (status \"updated\"); anything else is a new memory, and close ones come back in similar: " +
                 "if the new memory replaces one of them, pass its id in supersedes.")]
    public StoreMemoryResult StoreMemory(
        [Description("The memory itself, in plain words (max 64 KiB).")] string content,
        [Description("Kind of memory: fact (default), decision, preference, fix, skill, episode, context, correction.")] string? memory_type = null,
        [Description("Optional JSON object with structured details, e.g. {\"file\": \"src/app.ts\", \"issue\": 42}.")] JsonElement? metadata = null,
        [Description("Optional short labels (max 32, each max 64 chars; letters, digits, . _ - : / + #), e.g. [\"nginx\", \"deploy\"].")] string[]? tags = null,
        [Description("How much this matters, 0..1 (default 0.5). Use 0.8+ for decisions and hard-won fixes.")] double? importance = null,
        [Description("Where to store it: \"shared\", \"project:<name>\" or \"agent:<id>\" (default: this project).")] string? @namespace = null,
        [Description("Optional id of the current session, to find what was learned together.")] string? session_id = null,
        [Description("When it happened, ISO-8601 (default: now).")] string? created_at = null,
        [Description("Forget it after this time, ISO-8601 (default: never).")] string? expires_at = null,
        [Description("Ids of older memories this one replaces (max 32): they are kept, marked superseded, hidden from search unless include_superseded, and shown in memory_history.")] string[]? supersedes = null,
        [Description("Skills only (memory_type \"skill\"): when the skill applies, e.g. \"the release build fails with NU1603\" (max 500 chars). search_memory and find_skills match tasks against it first.")] string? trigger = null,
        [Description("Skills only: what to do, one step per item (max 50, each max 1000 chars).")] string[]? steps = null,
        [Description("Skills only: how to know it worked, e.g. \"dotnet build prints 0 warnings\" (max 500 chars).")] string? success_hint = null)
        => StoreMemoryResult.From(memories.Store(caller, new SkillFields(trigger, steps, success_hint).ApplyTo(new NewMemory
            {
                Content = content,
                MemoryType = memory_type,
                MetadataJson = ToolCall.Metadata(metadata),
                Tags = tags,
                Importance = importance,
                Namespace = @namespace,
                SessionId = session_id,
                CreatedAt = IsoTime.Parse(created_at, "created_at"),
                ExpiresAt = IsoTime.Parse(expires_at, "expires_at"),
                Source = "mcp",
                Supersedes = supersedes?.Select((id, i) => MemoryValidator.MemoryId(id, $"supersedes[{i}]")).ToList(),
            })));

    [McpServerTool(Name = "search_memory", Title = "Search memories", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Find what was learned before. Search at the start of a task, before debugging, and before a design decision. " +
                 "A natural-language question works; exact words (names, error codes, paths) match strongly. " +
                 "Covers this project's memories plus shared ones unless namespaces says otherwise. Results are best first; skills whose " +
                 "trigger matches the query come first.")]
    public SearchMemoryResult SearchMemory(
        [Description("What to look for, in plain words or exact terms.")] string query,
        [Description("How many results, 1..100 (default 10).")] int? top_k = null,
        [Description("Only this kind: fact, decision, preference, fix, skill, episode, context, correction.")] string? memory_type = null,
        [Description("Only memories carrying all of these tags.")] string[]? tags = null,
        [Description("Only memories at least this important, 0..1.")] double? min_importance = null,
        [Description("Search these namespaces instead of this project + shared, e.g. [\"shared\", \"project:api\"].")] string[]? namespaces = null,
        [Description("Only memories from this session.")] string? session_id = null,
        [Description("Only memories created at or after this time, ISO-8601.")] string? since = null,
        [Description("Only memories created before this time, ISO-8601.")] string? until = null,
        [Description("auto (default: hybrid when the encoder is ready, else fts), hybrid, fts (exact words only) or vector (meaning only).")] string? mode = null,
        [Description("Include each factor of each result's score (ranks, bm25, similarity, recency, access, importance, feedback, time).")] bool explain = false,
        [Description("Read time phrases in the query (\"yesterday\", \"last week\", \"in March\", \"since 2026-11-01\", \"recently\") as a window on created_at, and search the rest (default true). The result's time field says what was understood.")] bool time_aware = true,
        [Description("The moment time phrases are read against and recency is counted from, ISO-8601 (default: now).")] string? now = null,
        [Description("Also return memories that a newer one superseded (hidden by default); they carry superseded_by.")] bool include_superseded = false,
        [Description("Also return memories that consolidation archived as stale (hidden by default); they carry archived_at.")] bool include_archived = false)
        => SearchMemoryResult.From(new SkillBook(memories).Search(caller, new SearchRequest
            {
                Query = query, TopK = top_k, MemoryType = memory_type, Tags = tags, MinImportance = min_importance,
                Namespaces = namespaces, SessionId = session_id,
                Since = IsoTime.Parse(since, "since"), Until = IsoTime.Parse(until, "until"), Mode = mode, Explain = explain,
                IncludeSuperseded = include_superseded,
                IncludeArchived = include_archived,
                TimeAware = time_aware, Now = IsoTime.Parse(now, "now"),
            }));

    [McpServerTool(Name = "memory_history", Title = "History of a memory", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Every version of a memory, oldest first, from the event log: stored, merged (restated or extended), " +
                 "superseded (and by which memory), deleted; with the versions of the memories it superseded. Works for deleted memories too.")]
    public MemoryHistoryResult MemoryHistory(
        [Description("The memory_id (a UUID).")] string memory_id)
    {
        var id = MemoryValidator.MemoryId(memory_id);
        return MemoryHistoryResult.From(id, memories.History(caller, id));
    }

    [McpServerTool(Name = "feedback", Title = "Rate a memory", Destructive = false, Idempotent = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Say whether a memory helped: \"useful\" ranks it higher in later searches, \"wrong\" ranks it lower " +
                 "(delete it, or store a correction, if it is plainly false), \"noted\" records a remark without changing its rank. " +
                 "On a skill, say whether it worked: \"success\" (= useful) or \"failure\" (= wrong) are counted in its success record.")]
    public FeedbackResult Feedback(
        [Description("The memory_id from search_memory (a UUID).")] string memory_id,
        [Description("useful, noted or wrong; for a skill also success (= useful) or failure (= wrong).")] string signal,
        [Description("Optional reason, max 2000 characters.")] string? note = null)
        => FeedbackResult.From(memories.Feedback(caller, MemoryValidator.MemoryId(memory_id), signal, note));

    [McpServerTool(Name = "unarchive_memory", Title = "Restore an archived memory", Destructive = false, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Bring back a memory that consolidation archived as stale (search_memory with include_archived shows them, with archived_at): " +
                 "it returns to default search, the briefing and find_skills, unchanged. A memory that is not archived is left as it is.")]
    public UnarchiveMemoryResult UnarchiveMemory(
        [Description("The memory_id of the archived memory (a UUID).")] string memory_id)
        => UnarchiveMemoryResult.From(memories.Unarchive(caller, MemoryValidator.MemoryId(memory_id)));

    [McpServerTool(Name = "delete_memory", Title = "Delete a memory", Destructive = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Delete a memory that turned out wrong or obsolete (its text stays in the event log). " +
                 "Prefer storing a correction when the history matters.")]
    public DeleteMemoryResult DeleteMemory(
        [Description("The memory_id returned by store_memory or search_memory (a UUID).")] string memory_id)
        => DeleteMemoryResult.From(memories.Delete(caller, MemoryValidator.MemoryId(memory_id)));
}
