using System.Diagnostics;
using System.Runtime.InteropServices;

namespace McpMemory.Dashboard;

/// <summary>`ui --open`: hands the URL to the desktop's default browser; a failure only means the user opens it by hand.</summary>
public static class BrowserLauncher
{
    public static void TryOpen(string url)
    {
        try
        {
            var start = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? new ProcessStartInfo("cmd", ["/c", "start", "", url])
                : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? new ProcessStartInfo("open", [url])
                : new ProcessStartInfo("xdg-open", [url]);
            start.UseShellExecute = false;
            start.RedirectStandardError = true;
            start.RedirectStandardOutput = true;
            using var process = Process.Start(start);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Console.Error.WriteLine($"mcp-memory: could not open a browser ({e.Message}); open the URL above by hand");
        }
    }
}
