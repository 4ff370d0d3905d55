using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

/// <summary>
/// Issue 20, write-behind: a store commits the row and its keyword entry and answers before the vector exists; the
/// worker embeds it soon after. Keyword search finds it at once (has_embedding false), meaning once embedded; the merge
/// rule's lexical part runs at store time and its semantic part when the vector lands, never folding different facts.
/// </summary>
[Collection(EncoderCollection.Name)]
public class WriteBehindTests(EncoderFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly Caller _caller = new("project:test", "agent-1");

    private MemoryService Open(TestDatabase dir, EmbedderProvider? provider = null, bool waitForVectors = true)
    {
        var service = MemoryService.Open(dir.Db, MemoryOptions.Default with { WriteBehind = true, EmbeddingInterval = TimeSpan.FromSeconds(1) },
            provider ?? EmbedderProvider.Ready(fixture.Encoder));
        if (waitForVectors) service.WaitForVectors(Bound).Should().BeTrue();
        service.WaitForKeywordIndex(Bound).Should().BeTrue();
        return service;
    }

    private StoreResult Store(MemoryService service, string content, string ns = "project:test") =>
        service.Store(_caller, new NewMemory { Content = content, Namespace = ns });

    /// <summary>Waits (bounded) until the worker has embedded every memory and run the semantic checks of its last batch.</summary>
    private static void WaitForEmbeddings(MemoryService service)
    {
        var until = DateTime.UtcNow + Bound;
        while (service.PendingEmbeddings() > 0 && DateTime.UtcNow < until) Thread.Sleep(20);
        service.PendingEmbeddings().Should().Be(0, "the worker embeds what was stored without a vector");
        // The worker's batch holds the embedding lock until its semantic checks are done: this waits for them.
        service.EmbedPending().Should().Be(0);
    }

    private SearchResponse Search(MemoryService service, string query, string mode, bool includeSuperseded = false, params string[] namespaces) =>
        service.Search(_caller, new SearchRequest
        {
            Query = query, Mode = mode, TopK = 20, IncludeSuperseded = includeSuperseded, Namespaces = namespaces.Length > 0 ? namespaces : null,
        }, trackAccess: false);

    [Theory, BothBackends]
    public void During_the_gap_keyword_search_finds_the_memory_and_meaning_finds_it_once_embedded(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        // The real encoder, held back until the test lets it load: the gap between acknowledgement and vector is ours.
        using var release = new ManualResetEventSlim();
        using var service = Open(dir, EmbedderProvider.StartLoading(() => { release.Wait(Bound); return fixture.Encoder; }), waitForVectors: false);
        const string text = "The staging deploy runs through the nightly Jenkins job at 02:00";

        var stored = Store(service, text);
        stored.Status.Should().Be(StoreResult.Stored);
        stored.HasEmbedding.Should().BeFalse();
        stored.SemanticCheck.Should().Be(StoreResult.CheckPending);
        stored.Similar.Should().BeEmpty();

        var byWords = Search(service, "nightly Jenkins job", "fts");
        byWords.Results.Should().ContainSingle(h => h.Memory.Id == stored.MemoryId).Which.Memory.HasEmbedding.Should().BeFalse();
        service.PendingEmbeddings().Should().Be(1);
        var hybrid = Search(service, "nightly Jenkins job", "hybrid");
        hybrid.Mode.Should().Be("fts", "meaning is not available yet");
        hybrid.Results.Should().Contain(h => h.Memory.Id == stored.MemoryId);

        release.Set();
        service.WaitForVectors(Bound).Should().BeTrue();
        WaitForEmbeddings(service);
        foreach (var mode in new[] { "vector", "hybrid" })
            Search(service, "when does the staging deploy run", mode).Results
                .Should().Contain(h => h.Memory.Id == stored.MemoryId && h.Memory.HasEmbedding, $"mode {mode} once the vector landed");
        service.Get(_caller, stored.MemoryId).HasEmbedding.Should().BeTrue();
    }

    [Theory, BothBackends]
    public void The_lexical_part_of_the_merge_rule_runs_at_store_time(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var first = Store(service, "Kubernetes namespace is billing-prod");
        var again = Store(service, "kubernetes namespace is  billing-prod.");
        var extended = Store(service, "kubernetes namespace is billing-prod, in the eu-west-1 cluster");
        var other = Store(service, "Kubernetes namespace is billing-staging");

        again.Status.Should().Be(StoreResult.Updated, "identical after normalisation: no vector needed");
        again.MemoryId.Should().Be(first.MemoryId);
        extended.Status.Should().Be(StoreResult.Updated, "the old text is contained in the new one");
        extended.MemoryId.Should().Be(first.MemoryId);
        other.Status.Should().Be(StoreResult.Stored);
        other.MemoryId.Should().NotBe(first.MemoryId);
        WaitForEmbeddings(service);

        service.Get(_caller, first.MemoryId).Should().Match<Memory>(m => m.Content == "kubernetes namespace is billing-prod, in the eu-west-1 cluster" && m.HasEmbedding);
        service.Get(_caller, other.MemoryId).SupersededBy.Should().BeNull("a different environment is a different memory");
        service.Stats().Memories.Should().Be(2);
        // The merged text got its own vector: meaning finds the memory by its new words.
        Search(service, "which cloud region is the cluster in", "vector").Results.Should().Contain(h => h.Memory.Id == first.MemoryId);
    }

    [Theory, BothBackends]
    public void A_restatement_is_folded_into_the_older_memory_when_its_vector_lands(Backend backend)
    {
        var pairs = DuplicateRuleMeasurement.Load();
        var floor = DuplicateRule.CosineFloor(fixture.Encoder.ModelId);
        // A restatement only the strict test catches (not identical, not contained): only the deferred part can merge it.
        var pair = pairs.Same.First(p =>
            DuplicateRule.Judge(p[0], p[1], 0, null) == DuplicateVerdict.Distinct
            && DuplicateRule.Judge(p[0], p[1], System.Numerics.Tensors.TensorPrimitives.Dot(fixture.Encoder.Embed(p[0]), fixture.Encoder.Embed(p[1])), floor) == DuplicateVerdict.Restated);
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var old = Store(service, pair[0]);
        WaitForEmbeddings(service);

        var restated = Store(service, pair[1]);
        restated.Status.Should().Be(StoreResult.Stored, "the semantic part waits for the vector");
        restated.MemoryId.Should().NotBe(old.MemoryId);
        WaitForEmbeddings(service);

        // The older memory took the new text, as an inline merge would have; the acknowledged id still resolves.
        var merged = service.Get(_caller, old.MemoryId);
        merged.Content.Should().Be(pair[1]);
        merged.HasEmbedding.Should().BeTrue();
        merged.SupersededBy.Should().BeNull();
        service.Get(_caller, restated.MemoryId).SupersededBy.Should().Be(old.MemoryId);
        Search(service, pair[1], "hybrid").Results.Select(h => h.Memory.Id).Should().Contain(old.MemoryId).And.NotContain(restated.MemoryId);

        var history = service.History(_caller, old.MemoryId);
        history.Select(v => (v.MemoryId, v.Kind)).Should().Equal(
            (old.MemoryId, "stored"), (restated.MemoryId, "stored"), (old.MemoryId, "merged"), (restated.MemoryId, "superseded"));
        history[2].Content.Should().Be(pair[1]);
        history[2].Similarity.Should().BeGreaterThanOrEqualTo(floor!.Value);
        service.History(_caller, restated.MemoryId).Select(v => v.Kind).Should().Equal("stored", "superseded");
        service.History(_caller, restated.MemoryId)[1].SupersededBy.Should().Be(old.MemoryId);
    }

    [Theory, BothBackends]
    public void The_deferred_merge_never_folds_different_facts_and_folds_every_restatement(Backend backend)
    {
        var pairs = DuplicateRuleMeasurement.Load();
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        // Each pair in its own namespace, the first memory embedded before the second is stored (as across sessions).
        var distinct = pairs.Distinct.Select((p, i) => (Pair: p, Ns: $"project:distinct-{i}")).ToList();
        var same = pairs.Same.Select((p, i) => (Pair: p, Ns: $"project:same-{i}")).ToList();
        var firsts = distinct.Concat(same).Select(x => Store(service, x.Pair[0], x.Ns).MemoryId).ToList();
        WaitForEmbeddings(service);
        var seconds = distinct.Concat(same).Select(x => Store(service, x.Pair[1], x.Ns)).ToList();
        WaitForEmbeddings(service);

        var falseMerges = new List<string>();
        for (var i = 0; i < distinct.Count; i++)
        {
            var (a, b) = (service.Get(_caller, firsts[i]), service.Get(_caller, seconds[i].MemoryId));
            if (seconds[i].Status != StoreResult.Stored || a.Id == b.Id || a.SupersededBy is not null || b.SupersededBy is not null || a.Content != distinct[i].Pair[0])
                falseMerges.Add(string.Join(" | ", distinct[i].Pair));
        }
        falseMerges.Should().BeEmpty("different facts are never folded together");

        var missed = new List<string>();
        for (var j = 0; j < same.Count; j++)
        {
            var i = distinct.Count + j;
            var second = service.Get(_caller, seconds[i].MemoryId); // resolves either way
            var folded = seconds[i].Status == StoreResult.Updated ? second.Id == firsts[i] : second.SupersededBy == firsts[i];
            var first = service.Get(_caller, firsts[i]);
            if (!folded || first.Content != same[j].Pair[1] || first.SupersededBy is not null) missed.Add(string.Join(" | ", same[j].Pair));
        }
        missed.Should().BeEmpty("every restatement is merged, inline (lexical) or when its vector lands (strict test)");
    }

    /// <summary>The encoder, counting the texts this instance's worker embedded.</summary>
    private sealed class CountingEncoder(IEmbedder inner) : IEmbedder
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Embedded { get; } = [];
        public string ModelId => inner.ModelId;
        public int Dimension => inner.Dimension;
        public float[] Embed(string text) => inner.Embed(text);
        public float[] EmbedQuery(string text) => inner.EmbedQuery(text);
        public float[][] EmbedBatch(IReadOnlyList<string> texts)
        {
            foreach (var text in texts) Embedded.Add(text);
            return inner.EmbedBatch(texts);
        }
    }

    private MemoryService OpenInstance(TestDatabase dir, CountingEncoder encoder, TimeSpan grace, bool embeds = true)
    {
        var service = MemoryService.Open(dir.Db, MemoryOptions.Default with
        {
            WriteBehind = true, EmbeddingInterval = TimeSpan.FromMilliseconds(200), OtherInstancesGrace = grace, BackgroundEmbedding = embeds,
        }, EmbedderProvider.Ready(encoder));
        service.WaitForVectors(Bound).Should().BeTrue();
        service.WaitForKeywordIndex(Bound).Should().BeTrue();
        return service;
    }

    /// <summary>Waits (bounded) until no memory waits for a vector, without embedding anything itself.</summary>
    private static void WaitUntilEmbedded(MemoryService service)
    {
        var until = DateTime.UtcNow + Bound;
        while (service.PendingEmbeddings() > 0 && DateTime.UtcNow < until) Thread.Sleep(20);
        service.PendingEmbeddings().Should().Be(0);
    }

    [Theory, BothBackends]
    public void Two_instances_on_one_database_each_embed_their_own_stores(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        CountingEncoder encoderA = new(fixture.Encoder), encoderB = new(fixture.Encoder);
        // A grace far beyond the test: neither may take the other's rows while it is alive and embedding.
        using var a = OpenInstance(dir, encoderA, TimeSpan.FromHours(1));
        using var b = OpenInstance(dir, encoderB, TimeSpan.FromHours(1));
        var textsA = Enumerable.Range(0, 12).Select(i => $"instance A stored note {i}: queue a{i} drains into bucket {100 + i}").ToList();
        var textsB = Enumerable.Range(0, 12).Select(i => $"instance B stored note {i}: cron job b{i} runs at minute {i + 5}").ToList();
        for (var i = 0; i < textsA.Count; i++)
        {
            Store(a, textsA[i]).Status.Should().Be(StoreResult.Stored);
            Store(b, textsB[i]).Status.Should().Be(StoreResult.Stored);
        }
        WaitUntilEmbedded(a);

        encoderA.Embedded.Should().BeEquivalentTo(textsA, "A's worker embeds A's stores and only those");
        encoderB.Embedded.Should().BeEquivalentTo(textsB, "B's worker embeds B's stores and only those");
        foreach (var text in textsA.Concat(textsB))
            Search(b, text, "vector").Results.Should().Contain(h => h.Memory.Content == text && h.Memory.HasEmbedding);
    }

    [Theory, BothBackends]
    public void Rows_of_an_instance_that_does_not_embed_them_are_embedded_by_another_after_the_grace_period(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        CountingEncoder encoderA = new(fixture.Encoder), encoderB = new(fixture.Encoder);
        using var a = OpenInstance(dir, encoderA, TimeSpan.FromMilliseconds(500));
        var own = Store(a, "instance A keeps the release checklist in docs/release.md");
        WaitUntilEmbedded(a); // A's first look at every waiting row is behind it: B's rows come after its horizon
        // B acknowledges stores but its worker never embeds them, as an instance killed right after its answers.
        var textsB = Enumerable.Range(0, 5).Select(i => $"orphaned store {i}: the billing export {i} lands in bucket exports-{i}").ToList();
        using (var b = OpenInstance(dir, encoderB, TimeSpan.FromHours(1), embeds: false))
            foreach (var text in textsB) Store(b, text).Status.Should().Be(StoreResult.Stored);

        WaitUntilEmbedded(a);
        encoderB.Embedded.Should().BeEmpty();
        encoderA.Embedded.Should().BeEquivalentTo(textsB.Prepend("instance A keeps the release checklist in docs/release.md"));
        foreach (var text in textsB)
            Search(a, text, "vector").Results.Should().Contain(h => h.Memory.Content == text && h.Memory.HasEmbedding);
        a.Get(_caller, own.MemoryId).HasEmbedding.Should().BeTrue();
    }
}
