using System.CommandLine;
using McpMemory.Contracts;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Eval;
using McpMemory.Core.Search;

namespace McpMemory.Cli;

/// <summary>eval locomo DIR: retrieval quality of fts, vector and hybrid search on LoCoMo-format conversations.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("dir") { Description = "Folder of LoCoMo-format conversations (*.json)" };
        var fusion = new Option<FusionMethod?>("--fusion") { Description = $"Fusion method: rrf or score (default {RankingOptions.Default.Fusion})" };
        var ftsWeight = new Option<double?>("--fts-weight") { Description = $"Weight of the keyword ranking (default {RankingOptions.Default.FtsWeight})" };
        var vectorWeight = new Option<double?>("--vector-weight") { Description = $"Weight of the vector ranking (default {RankingOptions.Default.VectorWeight})" };
        var vectorRankWeight = new Option<double?>("--vector-rank-weight") { Description = $"Score fusion: bonus weight/rank for the vector ranking (default {RankingOptions.Default.VectorRankWeight}); 0 turns it off" };
        var rrfK = new Option<int?>("--rrf-k") { Description = $"RRF constant k (default {RankingOptions.Default.RrfK})" };
        var candidates = new Option<int?>("--candidates") { Description = $"Candidates per retriever (default {RankingOptions.Default.CandidatesPerSource})" };
        var bm25K1 = new Option<double?>("--bm25-k1") { Description = $"BM25 k1 of the keyword index (default {RankingOptions.Default.Bm25K1})" };
        var bm25B = new Option<double?>("--bm25-b") { Description = $"BM25 b of the keyword index (default {RankingOptions.Default.Bm25B})" };
        var dedup = new Option<double?>("--duplicate-threshold") { Description = "Cosine floor of the merge rule's strict test (default: the encoder's calibrated floor); 0 disables merging" };
        var timeAware = new Option<string>("--time-aware") { Description = "on (default): read time phrases in the questions, as asked at each conversation's last session; off: every word is a keyword", DefaultValueFactory = _ => "on" };
        timeAware.AcceptOnlyFromAmong("on", "off");
        var namedDates = new Option<string>("--named-dates") { Description = "A named date or month in a question (\"on 8 May 2023\", \"in March\"): filter (default) or boost", DefaultValueFactory = _ => "filter" };
        namedDates.AcceptOnlyFromAmong("filter", "boost");
        var asOf = new Option<string>("--now") { Description = "last-session (default): ask each question as at its conversation's last session; clock: as now (every turn is then years old, so recency ranks nothing)", DefaultValueFactory = _ => "last-session" };
        asOf.AcceptOnlyFromAmong("last-session", "clock");
        var relativePeriods = new Option<string>("--relative-periods") { Description = "A period counted from now (\"last week\", \"3 days ago\"): boost (default) or filter", DefaultValueFactory = _ => "boost" };
        relativePeriods.AcceptOnlyFromAmong("filter", "boost");
        var locomo = new Command("locomo", "Store every turn, ask every question of categories 1-4, report evidence recall@5/10/20 and hit@10 per mode")
        {
            directory, fusion, ftsWeight, vectorWeight, vectorRankWeight, rrfK, candidates, bm25K1, bm25B, dedup, timeAware, namedDates, relativePeriods, asOf,
        };
        locomo.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            var conversations = LoCoMoConversation.LoadDirectory(parse.GetValue(directory)!);
            // The eval's own options override --ranking / $MCP_MEMORY_RANKING, parameter by parameter.
            var defaults = settings.Engine.Ranking;
            var ranking = (defaults with
            {
                Fusion = parse.GetValue(fusion) ?? defaults.Fusion,
                FtsWeight = parse.GetValue(ftsWeight) ?? defaults.FtsWeight,
                VectorWeight = parse.GetValue(vectorWeight) ?? defaults.VectorWeight,
                VectorRankWeight = parse.GetValue(vectorRankWeight) ?? defaults.VectorRankWeight,
                RrfK = parse.GetValue(rrfK) ?? defaults.RrfK,
                CandidatesPerSource = parse.GetValue(candidates) ?? defaults.CandidatesPerSource,
                Bm25K1 = parse.GetValue(bm25K1) ?? defaults.Bm25K1,
                Bm25B = parse.GetValue(bm25B) ?? defaults.Bm25B,
            }).Validate();
            // --duplicate-threshold overrides $MCP_MEMORY_DUPLICATE_THRESHOLD. Time phrases are read in UTC, as the
            // conversations' dates are given, whatever $MCP_MEMORY_TIMEZONE says.
            var options = (parse.GetValue(dedup) is { } threshold
                ? settings.Engine with { MergeDuplicates = threshold != 0, DuplicateThreshold = threshold > 0 ? threshold : null }
                : settings.Engine) with
            {
                Ranking = ranking, EmbeddingInterval = TimeSpan.Zero, WriteBehind = false,
                Time = MemoryOptions.Default.Time with
                {
                    HardAbsolute = parse.GetValue(namedDates) == "filter", HardRelative = parse.GetValue(relativePeriods) == "filter",
                },
            };

            var folder = Directory.CreateTempSubdirectory("mcp-memory-eval-");
            try
            {
                using var service = MemoryService.Open(Path.Combine(folder.FullName, "eval.db"), options, EmbedderProvider.Ready(Encoders.LoadNow(settings)));
                if (!service.WaitForVectors(TimeSpan.FromMinutes(2)))
                    throw new InvalidOperationException("the encoder is not available: " + service.VectorError?.Message);
                if (!service.WaitForKeywordIndex(TimeSpan.FromMinutes(2)))
                    throw new InvalidOperationException("the keyword index did not build");
                var bar = new ProgressBar("storing turns", 1);
                var report = RetrievalEval.Run(service, conversations, new Progress<(int Done, int Total, string Stage)>(p => bar.Report(p.Done, p.Stage, p.Total)),
                    timeAware: parse.GetValue(timeAware) == "on", asOfLastSession: parse.GetValue(asOf) == "last-session");
                bar.Done();
                if (parse.GetValue(CliOptions.Json)) Output.Json(ToJson(report), ResultJsonContext.Default.DictionaryStringObject);
                else Print(report);
                return 0;
            }
            finally { folder.Delete(recursive: true); }
        }));
        return new Command("eval", "Measure retrieval quality") { locomo };
    }

    /// <summary>{"questions": N, "modes": {"fts": {"recall@5": x, …, "by_category": {…}}, …}}.</summary>
    private static Dictionary<string, object> ToJson(EvalReport report) => new Dictionary<string, object>
    {
        ["questions"] = report.Questions,
        ["conversations"] = report.Conversations,
        ["turns"] = report.Turns,
        ["merged_turns"] = report.Merged,
        ["merged_evidence_turns"] = report.MergedEvidence,
        ["skipped_questions"] = report.SkippedQuestions,
        ["ranking"] = report.Ranking,
        ["time_aware"] = report.TimeAware,
        ["time_windows"] = (report.TimeWindows ?? new Dictionary<string, (int, int)>()).ToDictionary(w => w.Key,
            w => (object)new Dictionary<string, int> { ["understood"] = w.Value.Understood, ["evidence_inside"] = w.Value.EvidenceInside }),
        ["modes"] = report.Modes.ToDictionary(m => m.Key, m =>
        {
            var json = Metrics(m.Value.Overall);
            json["by_category"] = m.Value.ByCategory.ToDictionary(c => c.Key.ToString(), c => (object)Metrics(c.Value));
            return (object)json;
        }),
    };

    private static Dictionary<string, object> Metrics(RecallMetrics m) => new()
    {
        ["questions"] = m.Questions,
        ["recall@5"] = Math.Round(m.RecallAt5, 4),
        ["recall@10"] = Math.Round(m.RecallAt10, 4),
        ["recall@20"] = Math.Round(m.RecallAt20, 4),
        ["hit@10"] = Math.Round(m.HitAt10, 4),
    };

    private static void Print(EvalReport report)
    {
        Console.Out.WriteLine($"{report.Questions} questions over {report.Conversations} conversations ({report.Turns} turns; " +
                              $"{report.Merged} turns merged as duplicates, {report.MergedEvidence} of them touching an evidence turn; {report.SkippedQuestions} questions without known evidence skipped)");
        Console.Out.WriteLine($"ranking: {report.Ranking}");
        Console.Out.WriteLine($"time-aware: {(report.TimeAware ? "on" : "off")}" + (report.TimeWindows is { Count: > 0 } w
            ? "; questions with a time phrase understood (evidence inside its window), by category/kind: " + string.Join("  ", w.Select(c => $"{c.Key}: {c.Value.Understood} ({c.Value.EvidenceInside})"))
            : "") + "\n");
        Console.Out.WriteLine($"{"mode",-8} {"recall@5",9} {"recall@10",10} {"recall@20",10} {"hit@10",8}   recall@10 by category (1 multi-hop, 2 temporal, 3 open, 4 single-hop)");
        foreach (var (mode, m) in report.Modes)
            Console.Out.WriteLine($"{mode,-8} {m.Overall.RecallAt5,9:0.000} {m.Overall.RecallAt10,10:0.000} {m.Overall.RecallAt20,10:0.000} {m.Overall.HitAt10,8:0.000}   " +
                                  string.Join("  ", m.ByCategory.Select(c => $"{c.Key}: {c.Value.RecallAt10:0.000} (n={c.Value.Questions})")));
    }
}
