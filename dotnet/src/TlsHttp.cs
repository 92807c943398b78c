using System;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace TlsBridge;

/// <summary>HttpClient over tlsbridge.</summary>
public static class TlsHttp
{
    /// <summary>A handler whose connections are <see cref="TlsStream"/>s of
    /// <paramref name="context"/> (a client context). Give the HttpClient http:// addresses: the
    /// handler then adds no TLS of its own, and the TLS is tlsbridge's, with the address's host
    /// as the target name.</summary>
    public static SocketsHttpHandler CreateHandler(TlsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new SocketsHttpHandler { ConnectCallback = (connection, cancel) => ConnectAsync(context, connection, cancel) };
    }

    private static async ValueTask<Stream> ConnectAsync(TlsContext context, SocketsHttpConnectionContext connection,
        CancellationToken cancel)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        TlsStream? tls = null;
        try
        {
            await socket.ConnectAsync(connection.DnsEndPoint, cancel).ConfigureAwait(false);
            tls = new TlsStream(new NetworkStream(socket, ownsSocket: true), context);
            await tls.AuthenticateAsClientAsync(connection.DnsEndPoint.Host, cancel).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            if (tls != null) tls.Dispose();
            else socket.Dispose();
            throw;
        }
    }
}
