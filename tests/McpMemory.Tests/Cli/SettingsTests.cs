using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Cli;

/// <summary>
/// The one settings record: options over an environment passed in (never this process's), the ranking parameters from
/// --ranking and MCP_MEMORY_RANKING, and bad values refused naming the option or variable, the parameter and its limit.
/// </summary>
public class SettingsTests
{
    private static Settings Resolve(TempDirectory dir, Dictionary<string, string> env, SettingsArgs? args = null) =>
        Settings.Resolve((args ?? new SettingsArgs()) with { Db = args?.Db ?? dir.File("m.db") }, name => env.GetValueOrDefault(name));

    [Fact]
    public void Write_behind_is_the_default_and_the_variables_switch_it_and_size_its_batch_window()
    {
        using var dir = new TempDirectory();
        Resolve(dir, []).Engine.Should().Match<McpMemory.Core.MemoryOptions>(o => o.WriteBehind && o.EmbeddingBatchWindow == TimeSpan.FromMilliseconds(20));
        Resolve(dir, new() { ["MCP_MEMORY_EMBED_INLINE"] = "on" }).Engine.WriteBehind.Should().BeFalse();
        Resolve(dir, new() { ["MCP_MEMORY_EMBED_INLINE"] = "off" }).Engine.WriteBehind.Should().BeTrue();
        Resolve(dir, new() { ["MCP_MEMORY_EMBED_BATCH_WINDOW_MS"] = "0" }).Engine.EmbeddingBatchWindow.Should().Be(TimeSpan.Zero);
        var bad = () => Resolve(dir, new() { ["MCP_MEMORY_EMBED_INLINE"] = "sometimes" });
        bad.Should().Throw<MemoryValidationException>().WithMessage("MCP_MEMORY_EMBED_INLINE: must be on or off (got \"sometimes\")");
        var negative = () => Resolve(dir, new() { ["MCP_MEMORY_EMBED_BATCH_WINDOW_MS"] = "-1" });
        negative.Should().Throw<MemoryValidationException>().WithMessage("MCP_MEMORY_EMBED_BATCH_WINDOW_MS*");
    }

    [Fact]
    public void Options_come_first_then_the_environment_then_the_defaults()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string>
        {
            [Settings.DbVariable] = dir.File("from-env.db"), [Settings.NamespaceVariable] = "project:env", [Settings.AgentVariable] = "env-agent",
            [Settings.EncoderVariable] = "off", [Settings.DuplicateThresholdVariable] = "0", [Settings.ExpirySweepVariable] = "2", [Settings.ConsolidateVariable] = "3600", [Settings.ArchiveAfterVariable] = "30",
            [Settings.ApiKeyVariable] = " key-from-the-environment ", [Settings.RankingVariable] = "recency_weight=0.1 fusion=rrf",
            [Settings.TimeZoneVariable] = "Europe/Berlin", [Settings.SprintVariable] = "2026-11-02/14",
        };

        var fromEnv = Settings.Resolve(new SettingsArgs(), name => env.GetValueOrDefault(name));
        fromEnv.DatabasePath.Should().Be(dir.File("from-env.db"));
        fromEnv.DefaultNamespace.Should().Be("project:env");
        fromEnv.AgentId.Should().Be("env-agent");
        fromEnv.EncoderOff.Should().BeTrue();
        fromEnv.Engine.MergeDuplicates.Should().BeFalse("0 turns merging off");
        fromEnv.ExpirySweep.Interval.Should().Be(TimeSpan.FromSeconds(2));
        fromEnv.Consolidation.Interval.Should().Be(TimeSpan.FromHours(1));
        fromEnv.Archive.Should().Be(new McpMemory.Core.Knowledge.ArchivePolicy(30));
        fromEnv.Http.ApiKey.Should().Be("key-from-the-environment");
        fromEnv.Engine.Ranking.Should().Be(RankingOptions.Default with { RecencyWeight = 0.1, Fusion = FusionMethod.Rrf });
        fromEnv.Engine.Time.TimeZone.Id.Should().Be("Europe/Berlin");
        fromEnv.Engine.Time.SprintDays.Should().Be(14);

        var fromArgs = Settings.Resolve(new SettingsArgs
        {
            Db = dir.File("from-args.db"), Namespace = "shared", ApiKey = "key-from-the-option", Ranking = "recency_weight=0.3,bm25_b=0.5",
        }, name => env.GetValueOrDefault(name));
        fromArgs.DatabasePath.Should().Be(dir.File("from-args.db"));
        fromArgs.DefaultNamespace.Should().Be("shared");
        fromArgs.Http.ApiKey.Should().Be("key-from-the-option");
        fromArgs.Engine.Ranking.Should().Be(RankingOptions.Default with { RecencyWeight = 0.3, Bm25B = 0.5, Fusion = FusionMethod.Rrf },
            "--ranking applies over the variable, parameter by parameter");

        var defaults = Resolve(dir, []);
        defaults.EncoderOff.Should().BeFalse();
        defaults.Engine.Should().Be(McpMemory.Core.MemoryOptions.Default with { WriteBehind = true }, "a server answers a store before its vector (issue 20)");
        defaults.ExpirySweep.Should().Be(McpMemory.Transports.ExpirySweepOptions.Default);
        defaults.Consolidation.Enabled.Should().BeFalse("a server consolidates on a schedule only when asked");
        defaults.Archive.Should().Be(McpMemory.Core.Knowledge.ArchivePolicy.Default);
        (defaults.Archive.AfterDays, defaults.Archive.BelowImportance).Should().Be((90, 0.5));
        Resolve(dir, new() { [Settings.ArchiveAfterVariable] = "0" }).Archive.Enabled.Should().BeFalse("0 turns archiving off");
        foreach (var bad in new[] { "1.5", "-1", "36501", "soon" })
            ((Action)(() => Resolve(dir, new() { [Settings.ArchiveAfterVariable] = bad }))).Should().Throw<MemoryValidationException>()
                .WithMessage($"{Settings.ArchiveAfterVariable}: \"{bad}\" is not a whole number of days between 0 (off) and 36500");
        defaults.Http.Should().BeEquivalentTo(new { Urls = new[] { McpMemory.Transports.Http.HttpSettings.DefaultUrl }, ApiKey = (string?)null, KeysFile = (string?)null });
    }

    [Theory]
    [InlineData("recency_weight=1.5", "--ranking: recency_weight: must be a number from 0 to 1 (got 1.5)")]
    [InlineData("candidates=2.5", "--ranking: candidates: must be a whole number from 1 to 1000 (got 2.5)")]
    [InlineData("rrf_k=0", "--ranking: rrf_k: must be a whole number from 1 to 10000 (got 0)")]
    [InlineData("bm25_b=high", "--ranking: bm25_b: must be a number from 0 to 1 (got \"high\")")]
    [InlineData("fusion=max", "--ranking: fusion: must be rrf or score (got \"max\")")]
    [InlineData("fts_weight=0 vector_weight=0", "--ranking: fts_weight: and vector_weight cannot both be 0*")]
    [InlineData("speed=11", "--ranking: speed: is not a ranking parameter; known: fusion, fts_weight, *")]
    [InlineData("fts_weight", "--ranking: \"fts_weight\" is not NAME=VALUE*")]
    public void Bad_ranking_parameters_name_the_option_the_parameter_and_the_limit(string ranking, string message)
    {
        using var dir = new TempDirectory();
        var fromOption = () => Resolve(dir, [], new SettingsArgs { Ranking = ranking });
        fromOption.Should().Throw<MemoryValidationException>().WithMessage(message);
        var fromVariable = () => Resolve(dir, new() { [Settings.RankingVariable] = ranking });
        fromVariable.Should().Throw<MemoryValidationException>().WithMessage(Settings.RankingVariable + message["--ranking".Length..]);
    }

    [Fact]
    public void Every_parameter_eval_prints_can_be_set_back()
    {
        // The eval prints the ranking it used ("ranking: bm25_k1=1.2 … fusion=Score …"): that line, as is, is a valid --ranking.
        var changed = RankingOptions.Default with { Fusion = FusionMethod.Rrf, FtsWeight = 0.9, CandidatesPerSource = 80, TimeBoostWeight = 0.5, HalfLifeDays = 30 };
        Settings.RankingFrom(RankingOptions.Default, changed.ToString(), "--ranking").Should().Be(changed);
        RankingOptions.Names.Should().HaveCount(15);
    }

    [Fact]
    public void Other_bad_values_name_their_variable()
    {
        using var dir = new TempDirectory();
        foreach (var (variable, value, message) in new[]
        {
            (Settings.DuplicateThresholdVariable, "1.2", "must be a number from 0 (merging off) to 1"),
            (Settings.ExpirySweepVariable, "soon", "is not a number of seconds between 0 (off) and 86400"),
            (Settings.TimeZoneVariable, "Mars/Olympus", "is not a known time zone"),
            (Settings.SprintVariable, "2026-11-02", "must be FIRST-DAY/DAYS"),
        })
        {
            var act = () => Resolve(dir, new() { [variable] = value });
            act.Should().Throw<MemoryValidationException>().WithMessage($"{variable}: \"{value}\" {message}*");
        }
    }

    [Fact]
    public async Task A_ranking_weight_set_on_the_command_line_or_in_the_environment_changes_what_search_explains()
    {
        using var dir = new TempDirectory();
        var db = new[] { "--db", dir.File("m.db") };
        var env = new Dictionary<string, string> { [Settings.EncoderVariable] = "off" };
        (await ToolProcess.RunAsync(["store", "the deploy script lives in tools/deploy.sh", "--importance", "1", .. db], env)).ExitCode.Should().Be(0);

        async Task<double> ImportanceFactor(IEnumerable<string> extra, Dictionary<string, string> environment)
        {
            var search = await ToolProcess.RunAsync(["search", "deploy script", "--explain", "--json", .. db, .. extra], environment);
            search.ExitCode.Should().Be(0, search.Stderr);
            return JsonDocument.Parse(search.Stdout).RootElement.GetProperty("results")[0].GetProperty("explain").GetProperty("importance").GetDouble();
        }

        (await ImportanceFactor([], env)).Should().BeApproximately(1 + RankingOptions.Default.ImportanceWeight, 1e-9, "importance 1 lifts by the default weight");
        (await ImportanceFactor(["--ranking", "importance_weight=0.05"], env)).Should().BeApproximately(1.05, 1e-9);
        (await ImportanceFactor([], new(env) { [Settings.RankingVariable] = "importance_weight=0" })).Should().Be(1);

        var refused = await ToolProcess.RunAsync(["search", "deploy script", "--ranking", "importance_weight=2", .. db], env);
        refused.ExitCode.Should().Be(1);
        refused.Stderr.Trim().Should().Be("error: --ranking: importance_weight: must be a number from 0 to 1 (got 2)");
    }
}
