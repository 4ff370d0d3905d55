namespace McpMemory.Transports.Http;

/// <summary>
/// How `serve --http` listens and whom it lets in: the URLs to bind, the API keys (a single full-access key and/or a
/// keys file) and the browser origins allowed besides the loopback ones. Part of <see cref="Settings"/>, which reads the
/// options and the environment.
/// </summary>
public sealed record HttpSettings(IReadOnlyList<string> Urls, string? ApiKey, string? KeysFile, IReadOnlyList<string> AllowedOrigins)
{
    public const string ApiKeyVariable = Settings.ApiKeyVariable;
    public const string KeysFileVariable = Settings.KeysFileVariable;
    public const string DefaultUrl = "http://127.0.0.1:7077";

    public static HttpSettings Resolve(string[]? urls, string? apiKey, string? keysFile, string[]? allowedOrigins) => new(
        Urls: Split(urls) is { Count: > 0 } list ? list : [DefaultUrl],
        ApiKey: FirstNonEmpty(apiKey),
        KeysFile: FirstNonEmpty(keysFile) is { } path ? Path.GetFullPath(path) : null,
        AllowedOrigins: Split(allowedOrigins));

    public bool HasKeys => ApiKey is not null || KeysFile is not null;

    /// <summary>"--urls a;b" and "--urls a,b" and repeated options all work, as ASP.NET Core's own --urls does.</summary>
    private static List<string> Split(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
