using System.Net;
using System.Net.Sockets;

namespace McpMemory.Tests.Support;

/// <summary>A loopback TCP port free at the moment of asking, for a server (PostgreSQL, nginx) that must be told its port.</summary>
internal static class LoopbackPort
{
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
