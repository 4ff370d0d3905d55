using FluentAssertions;
using McpMemory.Transports.Http;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>The pure rules behind `serve --http`: which addresses may be bound, which origins and hosts pass, how keys match.</summary>
public class HttpSettingsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7077", false, null)]
    [InlineData("http://localhost:0", false, null)]
    [InlineData("http://[::1]:8080", false, null)]
    [InlineData("http://0.0.0.0:7077", false, "non-loopback")]
    [InlineData("http://*:7077", false, "non-loopback")]
    [InlineData("http://192.168.1.10:7077", false, "non-loopback")]
    [InlineData("http://0.0.0.0:7077", true, null)]
    [InlineData("https://127.0.0.1:7077", false, "only http://")]
    public void Binding_rules(string url, bool hasKeys, string? refusal)
    {
        var result = HttpServer.CheckBindings([url], hasKeys);
        if (refusal is null) result.Should().BeNull();
        else result.Should().Contain(refusal);
    }

    [Theory]
    [InlineData(null, "127.0.0.1:7077", true)]
    [InlineData("http://localhost:3000", "127.0.0.1:7077", true)]
    [InlineData("https://127.0.0.1", "localhost:7077", true)]
    [InlineData("http://[::1]:9", "[::1]:7077", true)]
    [InlineData("https://app.example.com", "127.0.0.1:7077", true)]
    [InlineData("https://app.example.com/", "127.0.0.1:7077", true)]
    [InlineData("http://app.example.com", "127.0.0.1:7077", false)]
    [InlineData("http://127.0.0.1.evil.example", "127.0.0.1:7077", false)]
    [InlineData("file://localhost", "127.0.0.1:7077", false)]
    [InlineData(null, "evil.example:7077", false)]
    [InlineData(null, "127.0.0.2:7077", true)]
    public void Origin_and_host_rules_on_loopback(string? origin, string host, bool allowed)
    {
        var guard = new OriginGuard(["https://app.example.com"], loopbackOnly: true);
        var context = new DefaultHttpContext();
        context.Request.Host = HostString.FromUriComponent(host);
        if (origin is not null) context.Request.Headers.Origin = origin;
        (guard.Check(context.Request) is null).Should().Be(allowed);
    }

    [Fact]
    public void Any_host_passes_when_bound_beyond_loopback_but_origins_are_still_checked()
    {
        var guard = new OriginGuard([], loopbackOnly: false);
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("memory.internal.example", 7077);
        guard.Check(context.Request).Should().BeNull();
        context.Request.Headers.Origin = "https://evil.example";
        guard.Check(context.Request).Should().Contain("--allowed-origins");
    }

    [Fact]
    public void Keys_match_exactly_and_a_single_api_key_has_full_access()
    {
        var settings = new Settings("/tmp/unused.db", "project:x", "agent");
        var ring = ApiKeyRing.Load(new HttpSettings([HttpSettings.DefaultUrl], "the-one-key-0123456789", null, []), settings);
        ring.Authenticate("the-one-key-0123456789")!.Caller.Should().Be(settings.ToCaller());
        ring.Authenticate("the-one-key-012345678").Should().BeNull();
        ring.Authenticate("the-one-key-0123456789 ").Should().BeNull();
        ring.Authenticate("").Should().BeNull();
    }

    [Fact]
    public void Urls_may_be_separated_by_semicolons_or_commas()
    {
        HttpSettings.Resolve(["http://127.0.0.1:1;http://[::1]:2", "http://localhost:3"], null, null, ["https://a.example,https://b.example"])
            .Should().BeEquivalentTo(new
            {
                Urls = new[] { "http://127.0.0.1:1", "http://[::1]:2", "http://localhost:3" },
                AllowedOrigins = new[] { "https://a.example", "https://b.example" },
            });
    }
}
