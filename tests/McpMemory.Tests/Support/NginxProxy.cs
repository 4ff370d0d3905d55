using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace McpMemory.Tests.Support;

/// <summary>
/// A real nginx (Debian's, scripts/deps/nginx.sh) in front of several `serve --http` instances, on a free loopback port,
/// with its config, pid file, logs and temp folders in a folder of the test. Its upstream and location blocks are the
/// README's team setup (hash on the Authorization header), with two additions for the test: every answer says which
/// instance served it (header X-Upstream), and the access log records each request's session id and instance.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    public string Url { get; }

    /// <summary>One line per request: "&lt;Mcp-Session-Id or -&gt; &lt;instance host:port&gt; &lt;status&gt; &lt;method&gt;".</summary>
    public IReadOnlyList<string> AccessLog => File.ReadAllLines(Path.Combine(_folder, "access.log"));

    private NginxProxy(Process process, string folder, string url)
    {
        _process = process;
        _folder = folder;
        Url = url;
    }

    /// <param name="instances">The servers' base URLs (http://127.0.0.1:port).</param>
    public static async Task<NginxProxy> StartAsync(string folder, IEnumerable<string> instances)
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: run scripts/deps/nginx.sh (./scripts/test.sh does it)");
        var port = LoopbackPort.Free();
        var servers = string.Concat(instances.Select(u => $"    server {new Uri(u).Authority};\n"));
        var config = Path.Combine(folder, "nginx.conf");
        File.WriteAllText(config, $$"""
            worker_processes 1;
            daemon off;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log;
            events { worker_connections 256; }
            http {
              client_body_temp_path {{folder}}/body;
              proxy_temp_path {{folder}}/proxy;
              fastcgi_temp_path {{folder}}/fastcgi;
              uwsgi_temp_path {{folder}}/uwsgi;
              scgi_temp_path {{folder}}/scgi;
              log_format instance '$http_mcp_session_id $upstream_addr $status $request_method';
              access_log {{folder}}/access.log instance;

              upstream mcp_memory {
                hash $http_authorization consistent;
            {{servers}}  }
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://mcp_memory;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host localhost;
                  proxy_buffering off;
                  proxy_read_timeout 1h;
                  add_header X-Upstream $upstream_addr always;
                }
              }
            }
            """);
        // -e: the error log before the config is read (else nginx opens /var/log/nginx/error.log first).
        var start = new ProcessStartInfo(nginx) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-p", folder, "-e", Path.Combine(folder, "error.log"), "-c", config }) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var proxy = new NginxProxy(process, folder, $"http://127.0.0.1:{port}");
        try
        {
            await proxy.WaitListeningAsync(port, TimeSpan.FromSeconds(10));
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>Which instance (host:port) nginx sends requests with this key to: asked with GET /health.</summary>
    public async Task<string> InstanceForKeyAsync(string key)
    {
        using var client = Client(key);
        using var response = await client.GetAsync("/health");
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("X-Upstream").Single();
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    private async Task WaitListeningAsync(int port, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"nginx exited {_process.ExitCode}: {ReadErrorLog()}");
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (watch.Elapsed < limit) { await Task.Delay(50); }
            catch (SocketException e) { throw new TimeoutException($"nginx not listening on {port} after {limit.TotalSeconds} s: {ReadErrorLog()}", e); }
        }
    }

    private string ReadErrorLog()
    {
        var log = Path.Combine(_folder, "error.log");
        return File.Exists(log) ? File.ReadAllText(log) : "(no error log)";
    }

    /// <summary>Ends the master and its worker together (a worker outlives a killed master otherwise).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
