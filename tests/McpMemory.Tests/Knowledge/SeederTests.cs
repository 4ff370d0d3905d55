using System.Diagnostics;
using FluentAssertions;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>Seeding against a real store (SQLite in a temp folder; no encoder: keyword search), real files and a real git repository.</summary>
public class SeederTests
{
    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void Reseeding_changes_only_what_changed_supersedes_with_history_removes_what_vanished_and_leaves_the_rest_untouched()
    {
        using var store = new TestStore();
        using var project = new TempDirectory();
        Write(project.File("README.md"), "# Shop\nA web shop.\n## Tests\nRun ./scripts/test.sh before every push.\n## Deploy\nStaging deploys from main.\n");
        Write(Path.Combine(project.Path, "docs", "adr", "0001-queue.md"), "# Job queue\nChose Postgres advisory locks: no extra broker to run.\n");
        var seeder = new Seeder(store.Service);

        var first = seeder.Run(store.Caller, new SeedRequest { Paths = [project.Path] });
        first.Should().BeEquivalentTo(new { Files = 2, Added = 4, Updated = 0, Removed = 0, Unchanged = 0 });
        var tests = store.Service.Search(store.Caller, new SearchRequest { Query = "scripts test.sh push" }).Results.First().Memory;
        tests.MemoryType.Should().Be("context");
        tests.Content.Should().Be("README.md › Shop › Tests\n\nRun ./scripts/test.sh before every push.");
        tests.Metadata!["source_path"]!.GetValue<string>().Should().Be("README.md");
        tests.Metadata["heading"]!.GetValue<string>().Should().Be("Shop › Tests");
        tests.Metadata["content_hash"]!.GetValue<string>().Should().HaveLength(16);
        tests.Source.Should().Be("seed");

        var before = store.Service.Stats();
        var again = seeder.Run(store.Caller, new SeedRequest { Paths = [project.Path] });
        again.Should().BeEquivalentTo(new { Added = 0, Updated = 0, Removed = 0, Unchanged = 4 });
        again.Changes.Should().BeEmpty();
        var after = store.Service.Stats();
        (after.Memories, after.Events).Should().Be((before.Memories, before.Events), "an unchanged source adds no row and no event");

        // One section changed, one file gone.
        Write(project.File("README.md"), "# Shop\nA web shop.\n## Tests\nRun ./scripts/test.sh --fast before every push.\n## Deploy\nStaging deploys from main.\n");
        File.Delete(Path.Combine(project.Path, "docs", "adr", "0001-queue.md"));
        var dry = seeder.Run(store.Caller, new SeedRequest { Paths = [project.Path], DryRun = true });
        dry.Should().BeEquivalentTo(new { Added = 0, Updated = 1, Removed = 1, Unchanged = 2 });
        store.Service.Stats().Events.Should().Be(after.Events, "a dry run writes nothing");

        var third = seeder.Run(store.Caller, new SeedRequest { Paths = [project.Path] });
        third.Should().BeEquivalentTo(new { Added = 0, Updated = 1, Removed = 1, Unchanged = 2 });
        var update = third.Changes.Single(c => c.Action == "update");
        update.Replaces.Should().Be(tests.Id);
        store.Service.Get(store.Caller, tests.Id).SupersededBy.Should().Be(update.MemoryId);
        var history = store.Service.History(store.Caller, update.MemoryId!.Value);
        history.Select(v => v.Content).Should().Contain(tests.Content).And.Contain(c => c!.Contains("--fast"));
        store.Service.Search(store.Caller, new SearchRequest { Query = "advisory locks broker" }).Results.Should().BeEmpty("the ADR vanished");
        var removed = third.Changes.Single(c => c.Action == "remove").MemoryId!.Value;
        store.Service.History(store.Caller, removed).Select(v => v.Kind).Should().Contain("deleted", "its text stays in the event log");

        seeder.Run(store.Caller, new SeedRequest { Paths = [project.Path] }).Should().BeEquivalentTo(new { Added = 0, Updated = 0, Removed = 0, Unchanged = 3 });
    }

    [Fact]
    public void Seeding_one_folder_never_removes_the_pieces_of_another()
    {
        using var store = new TestStore();
        using var project = new TempDirectory();
        Git(project.Path, "init", "-q"); // sources are named from the repository's root, whichever folder is seeded
        Write(Path.Combine(project.Path, "docs", "a.md"), "# A\nalpha text\n");
        Write(Path.Combine(project.Path, "notes", "b.md"), "# B\nbeta text\n");
        var seeder = new Seeder(store.Service);
        seeder.Run(store.Caller, new SeedRequest { Paths = [project.Path] }).Added.Should().Be(2);
        var docsOnly = seeder.Run(store.Caller, new SeedRequest { Paths = [Path.Combine(project.Path, "docs")] });
        docsOnly.Should().BeEquivalentTo(new { Files = 1, Added = 0, Removed = 0, Unchanged = 1 });
    }

    [Fact]
    public void Binary_files_files_over_the_limit_and_links_out_of_the_root_are_refused_by_name()
    {
        using var store = new TestStore();
        using var project = new TempDirectory();
        using var outside = new TempDirectory();
        Write(project.File("README.md"), "# Fine\nA normal document.\n");
        File.WriteAllBytes(project.File("image.md"), [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]);
        Write(project.File("huge.md"), "# Huge\n" + new string('x', 5000));
        Write(outside.File("secret.md"), "# Secret\nthe production password\n");
        File.CreateSymbolicLink(project.File("linked.md"), outside.File("secret.md"));
        Directory.CreateSymbolicLink(Path.Combine(project.Path, "elsewhere"), outside.Path);

        var report = new Seeder(store.Service).Run(store.Caller, new SeedRequest { Paths = [project.Path], MaxFileBytes = 4096 });
        report.Files.Should().Be(1);
        report.Added.Should().Be(1);
        var reasons = report.Refused.ToDictionary(r => Path.GetFileName(r.Path), r => r.Reason);
        reasons["image.md"].Should().Contain("binary");
        reasons["huge.md"].Should().Contain("over the size limit of 4,096 bytes");
        reasons["linked.md"].Should().Contain("outside the root").And.Contain(outside.Path);
        reasons["elsewhere"].Should().Contain("outside the root");
        store.Service.Search(store.Caller, new SearchRequest { Query = "production password" }).Results.Should().BeEmpty();

        var missing = () => new Seeder(store.Service).Run(store.Caller, new SeedRequest { Paths = [project.File("nope")] });
        missing.Should().Throw<MemoryValidationException>().WithMessage("paths: *nope: no such file or folder");
        var escape = () => new Seeder(store.Service).Run(store.Caller, new SeedRequest { Paths = [outside.Path], Within = project.Path });
        escape.Should().Throw<MemoryValidationException>().WithMessage($"paths: {outside.Path}: outside {project.Path}*");
    }

    [Fact]
    public void Commits_become_fixes_and_decisions_merges_are_skipped_and_a_second_run_adds_nothing()
    {
        using var store = new TestStore();
        using var repo = new TempDirectory();
        Git(repo.Path, "init", "-q", "-b", "main");
        Commit(repo.Path, "a.txt", "fix(queue): retry deadlocked jobs once\n\nThe worker crashed on SQLITE_BUSY; one retry after 50 ms is enough.");
        Commit(repo.Path, "b.txt", "feat!: switch the job queue to Postgres advisory locks\n\nNo extra broker to run.");
        Git(repo.Path, "checkout", "-q", "-b", "side");
        Commit(repo.Path, "c.txt", "Document the staging database name");
        Git(repo.Path, "checkout", "-q", "main");
        Commit(repo.Path, "d.txt", "Fixed the flaky login test");
        Git(repo.Path, "merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side");

        var seeder = new Seeder(store.Service);
        var report = seeder.Run(store.Caller, new SeedRequest { Git = true, Paths = [repo.Path] });
        report.Commits.Should().Be(4, "the merge commit is skipped");
        report.Added.Should().Be(4);
        var memories = report.Changes.Select(c => store.Service.Get(store.Caller, c.MemoryId!.Value)).ToList();
        memories.Should().NotContain(m => m.Content.Contains("Merge branch"));
        var retry = memories.Single(m => m.Content.StartsWith("fix(queue)"));
        retry.MemoryType.Should().Be("fix");
        retry.Content.Should().Contain("one retry after 50 ms");
        retry.Tags.Should().Equal("git", "fix");
        retry.Metadata!["scope"]!.GetValue<string>().Should().Be("queue");
        var locks = memories.Single(m => m.Content.StartsWith("feat!"));
        locks.MemoryType.Should().Be("decision");
        locks.Metadata!["breaking"]!.GetValue<bool>().Should().BeTrue();
        memories.Single(m => m.Content.StartsWith("Fixed the flaky")).MemoryType.Should().Be("fix");
        memories.Single(m => m.Content.StartsWith("Document the staging")).MemoryType.Should().Be("decision");

        var events = store.Service.Stats().Events;
        seeder.Run(store.Caller, new SeedRequest { Git = true, Paths = [repo.Path] }).Should().BeEquivalentTo(new { Added = 0, Unchanged = 4 });
        seeder.Run(store.Caller, new SeedRequest { Git = true, Paths = [repo.Path], MaxCommits = 1 }).Should().BeEquivalentTo(new { Commits = 1, Removed = 0, Unchanged = 1 });
        store.Service.Stats().Events.Should().Be(events);
    }

    private static void Commit(string repo, string file, string message)
    {
        File.WriteAllText(Path.Combine(repo, file), message);
        Git(repo, "add", file);
        Git(repo, "commit", "-q", "-m", message);
    }

    internal static void Git(string repo, params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-C", repo, "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false" }.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit(30_000).Should().BeTrue();
        process.ExitCode.Should().Be(0, error.Result);
    }
}
