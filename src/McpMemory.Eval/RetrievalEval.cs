using System.Text.Json.Nodes;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;

namespace McpMemory.Eval;

/// <summary>Recall figures for one mode (fractions 0..1).</summary>
public sealed record RecallMetrics(int Questions, double RecallAt5, double RecallAt10, double RecallAt20, double HitAt10);

public sealed record ModeReport(RecallMetrics Overall, IReadOnlyDictionary<int, RecallMetrics> ByCategory);

/// <param name="TimeAware">Whether time phrases in the questions were read (<see cref="SearchRequest.TimeAware"/>).</param>
/// <param name="TimeWindows">Per category and kind of time phrase ("2/absolute"), how many questions had one understood, and how many of those kept an evidence turn inside its window.</param>
public sealed record EvalReport(
    int Questions, int Conversations, int Turns, int Merged, int MergedEvidence, int SkippedQuestions,
    IReadOnlyDictionary<string, ModeReport> Modes, string Ranking,
    bool TimeAware = false, IReadOnlyDictionary<string, (int Understood, int EvidenceInside)>? TimeWindows = null);

/// <summary>
/// The retrieval eval of LoCoMo: each turn stored as one memory (created_at = its session's date, one namespace
/// per conversation), each question of categories 1-4 searched in its conversation's namespace as if asked at the
/// time of its last session (<see cref="SearchRequest.Now"/>: "last week" and recency count from there), and evidence
/// recall@5/10/20 and hit@10 reported per mode. Only global parameters may change between runs.
/// </summary>
public static class RetrievalEval
{
    public static readonly IReadOnlyList<string> Modes = [SearchResponse.Fts, SearchResponse.Vector, SearchResponse.Hybrid];
    private const int MaxK = 20;

    public static EvalReport Run(MemoryService service, IReadOnlyList<LoCoMoConversation> conversations, IProgress<(int Done, int Total, string Stage)>? progress = null,
        bool timeAware = true, bool asOfLastSession = true)
    {
        // Under write-behind the turns' vectors would still be pending when the questions come, and vector recall
        // would read 0: the eval measures retrieval over a settled store, so it needs inline embedding.
        if (service.WritesBehind)
            throw new ArgumentException("the eval needs inline embedding: open the service with MemoryOptions.WriteBehind = false", nameof(service));
        var windows = new Dictionary<string, (int Understood, int EvidenceInside)>();
        var asked = conversations.SelectMany(c => c.Questions).Count(q => q.Category is >= 1 and <= 4);
        var totalTurns = conversations.Sum(c => c.Turns.Count);
        var hits = Modes.ToDictionary(m => m, _ => new List<(int Category, double R5, double R10, double R20, bool Hit10)>());
        int merged = 0, mergedEvidence = 0, skipped = 0, stored = 0, done = 0;

        foreach (var conversation in conversations)
        {
            var caller = new Caller(Namespaces.Project("locomo-" + conversation.Name), "eval");
            // Store the turns in batches (one transaction and one encoder batch each).
            var evidence = conversation.Questions.SelectMany(q => q.Evidence).ToHashSet(StringComparer.Ordinal);
            var turnOf = new Dictionary<Guid, string>(); // memory id → the turn first stored under it
            foreach (var chunk in conversation.Turns.Chunk(64))
            {
                var results = service.StoreMany(caller, chunk.Select(t => new NewMemory
                {
                    Content = t.Content,
                    CreatedAt = t.Date,
                    MetadataJson = new JsonObject { ["dia_id"] = t.DiaId }.ToJsonString(),
                    Source = "locomo",
                }).ToList());
                for (var i = 0; i < results.Count; i++)
                    if (results[i].Status == StoreResult.Updated)
                    {
                        // A merge loses a turn: the incoming one (now under another id) or the one whose text it replaced.
                        merged++;
                        if (evidence.Contains(chunk[i].DiaId) || (turnOf.TryGetValue(results[i].MemoryId, out var old) && evidence.Contains(old))) mergedEvidence++;
                    }
                    else turnOf[results[i].MemoryId] = chunk[i].DiaId;
                stored += chunk.Length;
                progress?.Report((stored, totalTurns, "storing turns"));
            }

            var known = conversation.Turns.Select(t => t.DiaId).ToHashSet(StringComparer.Ordinal);
            var dates = conversation.Turns.Where(t => t.Date is not null).ToDictionary(t => t.DiaId, t => t.Date!.Value, StringComparer.Ordinal);
            DateTimeOffset? lastSession = asOfLastSession && dates.Count > 0 ? dates.Values.Max() : null;
            foreach (var question in conversation.Questions.Where(q => q.Category is >= 1 and <= 4))
            {
                var relevant = question.Evidence.Where(known.Contains).ToHashSet(StringComparer.Ordinal);
                done++;
                if (relevant.Count == 0) { skipped++; continue; }
                foreach (var mode in Modes)
                {
                    var response = service.Search(caller, new SearchRequest
                    {
                        Query = question.Question, TopK = MaxK, Mode = mode, Now = lastSession, TimeAware = timeAware,
                    }, trackAccess: false);
                    if (mode == Modes[0] && response.Time is { } time)
                    {
                        var inside = relevant.Any(id => dates.TryGetValue(id, out var d) && (time.Since is null || d >= time.Since) && (time.Until is null || d < time.Until));
                        var key = $"{question.Category}/{time.Kind}";
                        var (understood, evidenceInside) = windows.GetValueOrDefault(key);
                        windows[key] = (understood + 1, evidenceInside + (inside ? 1 : 0));
                    }
                    var found = response.Results.Select(r => r.Memory.Metadata?["dia_id"]?.GetValue<string>()).ToList();
                    hits[mode].Add((question.Category, Recall(found, relevant, 5), Recall(found, relevant, 10), Recall(found, relevant, 20),
                        found.Take(10).Any(id => id is not null && relevant.Contains(id))));
                }
                progress?.Report((done, asked, "asking questions"));
            }
        }

        var modes = Modes.ToDictionary(m => m, m => new ModeReport(
            Summarise(hits[m]),
            hits[m].GroupBy(h => h.Category).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => Summarise(g.ToList()))));
        return new EvalReport(asked - skipped, conversations.Count, totalTurns, merged, mergedEvidence, skipped, modes, service.Ranking.ToString(),
            timeAware, windows.OrderBy(w => w.Key, StringComparer.Ordinal).ToDictionary(w => w.Key, w => w.Value));
    }

    private static double Recall(List<string?> found, HashSet<string> relevant, int k) =>
        found.Take(k).Where(id => id is not null).Distinct().Count(relevant.Contains!) / (double)relevant.Count;

    private static RecallMetrics Summarise(List<(int Category, double R5, double R10, double R20, bool Hit10)> rows) =>
        rows.Count == 0 ? new RecallMetrics(0, 0, 0, 0, 0)
            : new RecallMetrics(rows.Count, rows.Average(r => r.R5), rows.Average(r => r.R10), rows.Average(r => r.R20), rows.Average(r => r.Hit10 ? 1.0 : 0.0));
}
