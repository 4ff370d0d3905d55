using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using McpMemory.Transports.Http;
using Microsoft.AspNetCore.Http;

namespace McpMemory.Dashboard;

/// <summary>A signed-in browser: the key it signed in with (or the keyless loopback identity) and its CSRF token.</summary>
public sealed record DashboardSession(KeyIdentity Key, string CsrfToken, DateTimeOffset Expires);

/// <summary>
/// The dashboard's browser sessions, in memory (a restart signs everybody out). The cookie carries a random token; only
/// its SHA-256 digest is kept, so the table leaks no usable cookie. Each session has its own CSRF token, which every
/// change must send back (form field or header) and which is compared in constant time.
/// With no key configured (loopback only) every browser gets a session of the unrestricted identity without a login;
/// the session is still what binds its CSRF token.
/// </summary>
public sealed class DashboardSessions(ApiKeyRing keys, KeyIdentity unrestricted, TimeProvider clock)
{
    public const string CookieName = "mcpm_session";
    public const string CsrfField = "_csrf";
    public const string CsrfHeader = "X-CSRF-Token";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    private const int MaxSessions = 10_000;

    private readonly ConcurrentDictionary<string, DashboardSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>True when a browser must sign in with a key (keys are configured).</summary>
    public bool LoginRequired => keys.Count > 0;

    /// <summary>The request's session, if its cookie names a live one.</summary>
    public DashboardSession? Find(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var token) || string.IsNullOrEmpty(token)) return null;
        if (!_sessions.TryGetValue(Digest(token), out var session)) return null;
        if (session.Expires > clock.GetUtcNow()) return session;
        _sessions.TryRemove(Digest(token), out _);
        return null;
    }

    /// <summary>The request's session, or (without keys) a new keyless one, its cookie set on the response.</summary>
    public DashboardSession? FindOrStartKeyless(HttpContext context) =>
        Find(context) ?? (LoginRequired ? null : Start(context, unrestricted));

    /// <summary>Signs in with a presented key; null when it matches no configured key.</summary>
    public DashboardSession? SignIn(HttpContext context, string presentedKey)
    {
        if (!LoginRequired) return Start(context, unrestricted);
        return presentedKey.Length > 0 && keys.Authenticate(presentedKey.Trim()) is { } identity ? Start(context, identity) : null;
    }

    public void SignOut(HttpContext context)
    {
        if (context.Request.Cookies.TryGetValue(CookieName, out var token) && !string.IsNullOrEmpty(token)) _sessions.TryRemove(Digest(token), out _);
        context.Response.Cookies.Delete(CookieName, CookieOptions(context));
    }

    /// <summary>Whether the presented CSRF token is this session's (constant time).</summary>
    public static bool CsrfMatches(DashboardSession session, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(session.CsrfToken), Encoding.UTF8.GetBytes(presented));

    private DashboardSession Start(HttpContext context, KeyIdentity identity)
    {
        if (_sessions.Count >= MaxSessions) Prune();
        var token = RandomToken();
        var session = new DashboardSession(identity, RandomToken(), clock.GetUtcNow() + Lifetime);
        _sessions[Digest(token)] = session;
        context.Response.Cookies.Append(CookieName, token, CookieOptions(context));
        return session;
    }

    private void Prune()
    {
        var now = clock.GetUtcNow();
        foreach (var (digest, session) in _sessions)
            if (session.Expires <= now) _sessions.TryRemove(digest, out _);
        // Still full: drop the oldest half rather than grow without bound.
        if (_sessions.Count >= MaxSessions)
            foreach (var (digest, _) in _sessions.OrderBy(s => s.Value.Expires).Take(MaxSessions / 2).ToList())
                _sessions.TryRemove(digest, out _);
    }

    /// <summary>Secure (browsers keep Secure cookies of loopback http:// pages too), HttpOnly, SameSite=Strict.</summary>
    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        MaxAge = Lifetime,
        IsEssential = true,
    };

    private static string RandomToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Digest(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
