using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Contracts;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;

namespace McpMemory.Cli;

/// <summary>embed, doctor, reindex: the configured encoder from the command line.</summary>
internal static class EncoderCommands
{
    public static IEnumerable<Command> Create() => [Embed(), Doctor(), Reindex()];

    private static Command Embed()
    {
        var texts = new Argument<string[]>("text") { Description = "One or more texts to embed", Arity = ArgumentArity.OneOrMore };
        var query = new Option<bool>("--query") { Description = "Embed the texts as search queries (with the model's query prefix, if it has one)" };
        var command = new Command("embed", "Print the vectors of texts from the configured encoder: built-in, a model folder, or the --embeddings-url endpoint ({\"model\", \"dimension\", \"vectors\"} with --json)") { texts, query };
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            var input = parse.GetValue(texts)!;
            var encoder = Encoders.LoadNow(settings);
            var vectors = parse.GetValue(query) ? input.Select(encoder.EmbedQuery).ToArray() : encoder.EmbedBatch(input);
            if (parse.GetValue(CliOptions.Json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new EmbedOutput(encoder.ModelId, encoder.Dimension, vectors), ResultJsonContext.Default.EmbedOutput));
                return 0;
            }
            for (var i = 0; i < input.Length; i++)
                Console.Out.WriteLine($"{Clip(input[i])}\n  [{string.Join(", ", vectors[i].Take(6).Select(v => v.ToString("0.0000")))}, …] ({encoder.Dimension} dims, {encoder.ModelId})");
            return 0;
        }));
        return command;
    }

    private static Command Doctor()
    {
        var command = new Command("doctor", "Check the installation: database, encoder (which and why, load time, self-check against a known vector)");
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            var ok = true;
            var report = new JsonObject(); // not anonymous types: the Native AOT build serializes without reflection
            try
            {
                settings.RequireDatabase();
                using var service = MemoryService.Open(settings.DatabasePath, Core.MemoryOptions.OneShot);
                var stats = service.Stats();
                report["database"] = new JsonObject { ["backend"] = service.Database.Backend, ["path"] = stats.Path, ["schema_version"] = stats.SchemaVersion, ["memories"] = stats.Memories, ["with_embedding"] = stats.WithEmbedding };
            }
            catch (Exception e) { ok = false; report["database"] = new JsonObject { ["backend"] = settings.IsPostgres ? "postgresql" : "sqlite", ["path"] = settings.DatabaseDisplay, ["error"] = e.Message }; }
            if (settings.Embeddings is { } endpoint) ok &= CheckEndpoint(endpoint, report);
            else if (settings.EncoderOff) report["encoder"] = new JsonObject { ["disabled"] = $"{Settings.EncoderVariable}=off: keyword search only" };
            else
            {
                try
                {
                    var choice = Encoders.Load(settings);
                    var (check, directory) = choice.Embedder switch
                    {
                        OnnxEncoder onnx => (EncoderSelfCheck.Run(onnx), onnx.ModelDirectory),
                        UseLiteEncoder useLite => (useLite.SelfCheck(), useLite.ModelDirectory),
                        var other => throw new InvalidOperationException($"no self-check for {other.GetType().Name}"),
                    };
                    ok &= check.Passed;
                    report["encoder"] = new JsonObject
                    {
                        ["model"] = choice.Embedder.ModelId, ["dimension"] = choice.Embedder.Dimension, ["directory"] = directory, ["reason"] = choice.Reason,
                        ["load_ms"] = Math.Round(choice.LoadTime.TotalMilliseconds, 1), ["self_check"] = check.Passed ? "passed" : "FAILED",
                        ["cosine_to_reference"] = double.IsNaN(check.Cosine) ? (double?)null : Math.Round(check.Cosine, 6),
                        ["token_ids_match"] = check.TokenIdsMatch, ["check_ms"] = Math.Round(check.Elapsed.TotalMilliseconds, 2), ["note"] = check.Note,
                    };
                }
                catch (Exception e) { ok = false; report["encoder"] = new JsonObject { ["model"] = settings.Model ?? Encoders.Arctic, ["error"] = e.Message }; }
            }
            report["ok"] = ok;
            if (parse.GetValue(CliOptions.Json)) Output.Json(report, ResultJsonContext.Default.JsonObject);
            else
            {
                foreach (var (name, value) in report.Where(p => p.Key != "ok"))
                    Console.Out.WriteLine($"{name,-9} {value?.ToJsonString() ?? "null"}");
                Console.Out.WriteLine(ok ? "all checks passed" : "some checks FAILED");
            }
            return ok ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Doctor's check of an embeddings endpoint: one request, its round trip, the model id and dimension, or the error.</summary>
    private static bool CheckEndpoint(EmbeddingEndpoint endpoint, JsonObject report)
    {
        try
        {
            var encoder = endpoint.Connect();
            var stopwatch = Stopwatch.StartNew();
            encoder.Embed("mcp-memory doctor"); // a request even when the dimension is configured (Connect then sends none)
            var roundTrip = stopwatch.Elapsed;
            report["encoder"] = new JsonObject
            {
                ["kind"] = "endpoint", ["url"] = endpoint.DisplayUrl, ["model"] = encoder.ModelId, ["dimension"] = encoder.Dimension,
                ["round_trip_ms"] = Math.Round(roundTrip.TotalMilliseconds, 1),
                ["key"] = endpoint.Key is null ? "none" : "set", ["timeout_s"] = endpoint.Options.Timeout.TotalSeconds,
            };
            return true;
        }
        catch (EmbeddingEndpointException e)
        {
            report["encoder"] = new JsonObject { ["kind"] = "endpoint", ["url"] = endpoint.DisplayUrl, ["model_name"] = endpoint.Model, ["error"] = e.Message };
            return false;
        }
    }

    private static Command Reindex()
    {
        var all = new Option<bool>("--all") { Description = "Re-embed every memory, not only those without a vector" };
        var command = new Command("reindex", "Embed memories that have no vector (or all with --all); run after changing encoder") { all };
        command.SetAction(parse => CliRunner.WithService(parse, (service, _) =>
        {
            if (!service.WaitForVectors(TimeSpan.FromMinutes(2)))
                throw new InvalidOperationException("the encoder is not available: " + service.VectorError?.Message);
            if (parse.GetValue(all)) service.ResetEmbeddings();
            var total = service.PendingEmbeddings();
            var progress = new ProgressBar("embedding", total);
            long done = 0;
            int batch;
            while ((batch = service.EmbedPending()) > 0) progress.Report(done += batch);
            progress.Done();
            if (parse.GetValue(CliOptions.Json)) Output.Json(new JsonObject { ["embedded"] = done, ["model"] = service.Embedder!.ModelId }, ResultJsonContext.Default.JsonObject);
            else Console.Out.WriteLine($"embedded {done} memories with {service.Embedder!.ModelId}");
        }, vectors: true));
        return command;
    }

    private static string Clip(string s) => s.Length <= 60 ? s : s[..59] + "…";
}
