using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

public class ValidationTests
{
    public static TheoryData<string, NewMemory> BadMemories => new()
    {
        { "content*must not be empty", new NewMemory { Content = "" } },
        { "content*more than whitespace", new NewMemory { Content = " \n\t " } },
        { "content*65537 bytes*limit is 65536*", new NewMemory { Content = new string('x', 65537) } },
        { "content*unpaired UTF-16 surrogate*", new NewMemory { Content = "bad \ud800 text" } },
        { "importance*between 0 and 1*1.5*", new NewMemory { Content = "x", Importance = 1.5 } },
        { "importance*between 0 and 1*", new NewMemory { Content = "x", Importance = -0.1 } },
        { "importance*NaN*", new NewMemory { Content = "x", Importance = double.NaN } },
        { "memory_type*\"thought\" is not a memory type*fact, decision*", new NewMemory { Content = "x", MemoryType = "thought" } },
        { "metadata*not valid JSON*", new NewMemory { Content = "x", MetadataJson = "{not json" } },
        { "metadata*must be a JSON object*", new NewMemory { Content = "x", MetadataJson = "[1,2]" } },
        { "metadata*limit is 16384 bytes*", new NewMemory { Content = "x", MetadataJson = "{\"a\":\"" + new string('y', 17000) + "\"}" } },
        { "metadata*nesting limit 16*", new NewMemory { Content = "x", MetadataJson = new string('[', 40) + new string(']', 40) } },
        { "tags*33 tags*limit is 32*", new NewMemory { Content = "x", Tags = Enumerable.Range(0, 33).Select(i => "t" + i).ToList() } },
        { "tags*65 characters*limit is 64*", new NewMemory { Content = "x", Tags = [new string('t', 65)] } },
        { "tags*contains ' '*", new NewMemory { Content = "x", Tags = ["two words"] } },
        { "tags*empty tag*", new NewMemory { Content = "x", Tags = [" "] } },
        { "namespace*not a namespace*", new NewMemory { Content = "x", Namespace = "team" } },
        { "namespace*1 to 100 characters*", new NewMemory { Content = "x", Namespace = "project:" } },
        { "namespace*contains*", new NewMemory { Content = "x", Namespace = "project:a b" } },
        { "session_id*control characters*", new NewMemory { Content = "x", SessionId = "a\u0001b" } },
        { "expires_at*not in the future*", new NewMemory { Content = "x", ExpiresAt = DateTimeOffset.UnixEpoch } },
    };

    [Theory]
    [MemberData(nameof(BadMemories))]
    public void Bad_memory_is_refused_naming_the_field_and_limit_and_nothing_is_stored(string expectedMessage, NewMemory memory)
    {
        using var t = new TestStore();
        t.Service.Invoking(s => s.Store(t.Caller, memory)).Should().Throw<MemoryValidationException>().WithMessage(expectedMessage);
        t.Service.Stats().Memories.Should().Be(0);
        t.Service.Stats().Events.Should().Be(0);
    }

    [Fact]
    public void Content_limit_is_configurable()
    {
        using var t = new TestStore(new MemoryLimits { MaxContentBytes = 10 });
        t.Store("0123456789");
        t.Service.Invoking(s => s.Store(t.Caller, new NewMemory { Content = "0123456789a" }))
            .Should().Throw<MemoryValidationException>().WithMessage("content*11 bytes*limit is 10*");
    }

    public static TheoryData<string, SearchRequest> BadSearches => new()
    {
        { "query*must not be empty", new SearchRequest { Query = "  " } },
        { "query*limit is 4096*", new SearchRequest { Query = new string('q', 5000) } },
        { "top_k*between 1 and 100*0*", new SearchRequest { Query = "q", TopK = 0 } },
        { "top_k*between 1 and 100*101*", new SearchRequest { Query = "q", TopK = 101 } },
        { "memory_type*not a memory type*", new SearchRequest { Query = "q", MemoryType = "nope" } },
        { "min_importance*between 0 and 1*", new SearchRequest { Query = "q", MinImportance = 2 } },
        { "namespaces*not a namespace*", new SearchRequest { Query = "q", Namespaces = ["bogus"] } },
        { "since*not before until*", new SearchRequest { Query = "q", Since = DateTimeOffset.UnixEpoch.AddDays(2), Until = DateTimeOffset.UnixEpoch } },
    };

    [Theory]
    [MemberData(nameof(BadSearches))]
    public void Bad_search_is_refused_naming_the_field(string expectedMessage, SearchRequest request)
    {
        using var t = new TestStore();
        t.Service.Invoking(s => s.Search(t.Caller, request)).Should().Throw<MemoryValidationException>().WithMessage(expectedMessage);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-uuid")]
    [InlineData("12345678-1234-1234-1234-12345678901")]
    public void Invalid_memory_id_is_refused(string id) =>
        FluentActions.Invoking(() => MemoryValidator.MemoryId(id)).Should().Throw<MemoryValidationException>().WithMessage("memory_id*");
}
