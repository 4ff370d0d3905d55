using System.Numerics.Tensors;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Cli;

/// <summary>
/// Which encoder the tool runs, as a user meets it: arctic-embed-xs by default, USE-lite when asked for or when the
/// transformer cannot load (and doctor says why), any model folder with --model DIR. Real child processes.
/// </summary>
public class EncoderSelectionTests
{
    /// <summary>A database that exists: doctor, like every reading command, refuses a path with no database.</summary>
    private static string Db(TempDirectory dir)
    {
        var path = dir.File("m.db");
        if (!File.Exists(path)) McpMemory.Core.Storage.MemoryDatabase.Open(path).Dispose();
        return path;
    }

    private static JsonElement Encoder(ToolProcess.Result doctor)
    {
        doctor.ExitCode.Should().Be(0, doctor.Stdout + doctor.Stderr);
        return JsonDocument.Parse(doctor.Stdout).RootElement.GetProperty("encoder");
    }

    [Fact]
    public async Task Doctor_reports_arctic_as_the_default_with_its_load_time_and_a_passed_self_check()
    {
        using var dir = new TempDirectory();
        var encoder = Encoder(await ToolProcess.RunAsync(["doctor", "--json", "--db", Db(dir)]));
        encoder.GetProperty("model").GetString().Should().Be("snowflake-arctic-embed-xs@onnx/int8");
        encoder.GetProperty("dimension").GetInt32().Should().Be(384);
        encoder.GetProperty("reason").GetString().Should().Be("default");
        encoder.GetProperty("load_ms").GetDouble().Should().BeGreaterThan(0);
        encoder.GetProperty("self_check").GetString().Should().Be("passed");
        encoder.GetProperty("cosine_to_reference").GetDouble().Should().BeGreaterThanOrEqualTo(0.99, "int8 weights (fp32 below)");
    }

    [Fact]
    public async Task The_fp32_weights_are_one_option_away_and_match_the_reference_exactly()
    {
        using var dir = new TempDirectory();
        var encoder = Encoder(await ToolProcess.RunAsync(["doctor", "--json", "--db", Db(dir), "--model", "arctic-embed-xs-fp32"]));
        encoder.GetProperty("model").GetString().Should().Be("snowflake-arctic-embed-xs@onnx");
        encoder.GetProperty("reason").GetString().Should().Be("configured: arctic-embed-xs-fp32");
        encoder.GetProperty("self_check").GetString().Should().Be("passed");
        encoder.GetProperty("cosine_to_reference").GetDouble().Should().BeGreaterThanOrEqualTo(0.9999);
    }

    [Fact]
    public async Task Use_lite_is_chosen_by_option_or_environment()
    {
        using var dir = new TempDirectory();
        var byOption = Encoder(await ToolProcess.RunAsync(["doctor", "--json", "--db", Db(dir), "--model", "use-lite"]));
        byOption.GetProperty("model").GetString().Should().Be("use-lite-en@0.2.0");
        byOption.GetProperty("reason").GetString().Should().Be("configured: use-lite");
        var byEnvironment = Encoder(await ToolProcess.RunAsync(["doctor", "--json", "--db", Db(dir)], new Dictionary<string, string> { ["MCP_MEMORY_MODEL"] = "use-lite" }));
        byEnvironment.GetProperty("model").GetString().Should().Be("use-lite-en@0.2.0");
        byEnvironment.GetProperty("self_check").GetString().Should().Be("passed");
    }

    [Fact]
    public async Task An_empty_model_folder_falls_back_to_use_lite_and_doctor_says_why()
    {
        using var dir = new TempDirectory();
        var empty = Directory.CreateDirectory(dir.File("empty")).FullName;
        var doctor = await ToolProcess.RunAsync(["doctor", "--json", "--db", Db(dir)], new Dictionary<string, string> { ["MCP_MEMORY_MODEL"] = empty });
        var encoder = Encoder(doctor);
        encoder.GetProperty("model").GetString().Should().Be("use-lite-en@0.2.0");
        encoder.GetProperty("reason").GetString().Should().StartWith("fallback: " + empty).And.Contain(Path.Combine(empty, "model.onnx")).And.Contain("missing");
        encoder.GetProperty("self_check").GetString().Should().Be("passed");
        doctor.Stderr.Should().Contain("fallback");

        // The fallback serves: a store and a hybrid search with USE-lite vectors.
        var db = new[] { "--db", Db(dir), "--model", empty };
        (await ToolProcess.RunAsync(["store", "the fallback encoder still embeds memories", .. db])).ExitCode.Should().Be(0);
        var search = await ToolProcess.RunAsync(["search", "fallback encoder", "--json", .. db]);
        JsonDocument.Parse(search.Stdout).RootElement.GetProperty("mode").GetString().Should().Be("hybrid");
    }

    [Fact]
    public async Task A_corrupt_model_file_falls_back_to_use_lite_and_doctor_says_why()
    {
        using var dir = new TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("corrupt")).FullName;
        File.Copy(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.VocabularyFile), Path.Combine(folder, OnnxEncoder.VocabularyFile));
        File.Copy(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxModelConfig.FileName), Path.Combine(folder, OnnxModelConfig.FileName));
        // The real model's first 64 KB: a truncated download.
        using (var source = File.OpenRead(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile)))
        using (var target = File.Create(Path.Combine(folder, OnnxEncoder.ModelFile)))
        {
            var head = new byte[65536];
            source.ReadExactly(head);
            target.Write(head);
        }
        var encoder = Encoder(await ToolProcess.RunAsync(["doctor", "--json", "--db", Db(dir), "--model", folder]));
        encoder.GetProperty("model").GetString().Should().Be("use-lite-en@0.2.0");
        encoder.GetProperty("reason").GetString().Should().StartWith("fallback: " + folder).And.ContainAny("protobuf", "Protobuf", "parsing", "Load model");
    }

    [Fact]
    public async Task Embed_prints_document_and_query_vectors_of_the_configured_model()
    {
        var document = await ToolProcess.RunAsync(["embed", "--json", "nginx reverse proxy", "docker compose"]);
        document.ExitCode.Should().Be(0, document.Stderr);
        var json = JsonDocument.Parse(document.Stdout).RootElement;
        json.GetProperty("model").GetString().Should().Be("snowflake-arctic-embed-xs@onnx/int8");
        json.GetProperty("dimension").GetInt32().Should().Be(384);
        var vectors = json.GetProperty("vectors").EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToList();
        vectors.Should().HaveCount(2).And.AllSatisfy(v => TensorPrimitives.Norm(v).Should().BeApproximately(1f, 1e-4f));

        var query = await ToolProcess.RunAsync(["embed", "--json", "--query", "nginx reverse proxy"]);
        var queryVector = JsonDocument.Parse(query.Stdout).RootElement.GetProperty("vectors")[0].EnumerateArray().Select(x => x.GetSingle()).ToArray();
        TensorPrimitives.CosineSimilarity(queryVector, vectors[0]).Should().BeLessThan(0.99f, "a query carries the instruction prefix");

        var useLite = await ToolProcess.RunAsync(["embed", "--json", "--model", "use-lite", "nginx reverse proxy"]);
        JsonDocument.Parse(useLite.Stdout).RootElement.GetProperty("dimension").GetInt32().Should().Be(512);
    }

    [Fact]
    public async Task Changing_the_model_re_embeds_every_memory_in_the_new_space()
    {
        using var dir = new TempDirectory();
        var db = new[] { "--db", Db(dir) };
        foreach (var text in new[] { "the deploy uses docker compose", "tests run with xunit", "the cache lives in redis" })
            (await ToolProcess.RunAsync(["store", text, "--model", "use-lite", .. db])).ExitCode.Should().Be(0);

        VectorModels(Db(dir)).Should().Equal([("use-lite-en@0.2.0", 3L)]);

        var reindex = await ToolProcess.RunAsync(["reindex", "--json", .. db]);
        reindex.ExitCode.Should().Be(0, reindex.Stderr);
        JsonDocument.Parse(reindex.Stdout).RootElement.GetProperty("model").GetString().Should().Be("snowflake-arctic-embed-xs@onnx/int8");
        JsonDocument.Parse(reindex.Stdout).RootElement.GetProperty("embedded").GetInt64().Should().Be(3, "reindex is the one embedder of a one-shot command");
        VectorModels(Db(dir)).Should().Equal([("snowflake-arctic-embed-xs@onnx/int8", 3L)], "the USE-lite vectors were dropped, never mixed with arctic's");

        var search = await ToolProcess.RunAsync(["search", "which container tool deploys it?", "--mode", "vector", "--json", .. db]);
        var results = JsonDocument.Parse(search.Stdout).RootElement.GetProperty("results");
        results.GetArrayLength().Should().Be(3);
        results[0].GetProperty("content").GetString().Should().Be("the deploy uses docker compose");
    }

    private static List<(string Model, long Count)> VectorModels(string path)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT model, COUNT(*) FROM memory_vectors GROUP BY model ORDER BY model";
        using var reader = command.ExecuteReader();
        var models = new List<(string, long)>();
        while (reader.Read()) models.Add((reader.GetString(0), reader.GetInt64(1)));
        return models;
    }
}
