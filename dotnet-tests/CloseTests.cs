using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>The ends of a session: the peer's close_notify, and ours.</summary>
public class CloseTests
{
    /// <summary>How the client stream under test is made.</summary>
    public enum Made
    {
        Buffer,
        Socket,
        Connect,
    }

    /// <summary>An SslStream server on a loopback port that completes the handshake, sends
    /// close_notify and closes the connection.</summary>
    private static (int Port, Task Served) ClosingServer()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task served = Task.Run(async () =>
        {
            using (listener.Server)
            {
                Socket socket = await listener.AcceptSocketAsync();
                using var server = new SslStream(new NetworkStream(socket, ownsSocket: true));
                await server.AuthenticateAsServerAsync(Peers.SslServer());
                await server.ShutdownAsync();
            }
        });
        return (port, served);
    }

    private static TlsStream ClientOf(Made made, TlsContext context, int port)
    {
        if (made == Made.Connect)
            return TlsStream.Connect(context, "localhost", port, Peers.Patience);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, port);
        TlsStream client = Peers.Open(socket, context, made == Made.Buffer ? Mode.Buffer : Mode.Socket);
        client.AuthenticateAsClient("localhost");
        return client;
    }

    /// <summary>After the peer's close_notify a read is the end of the stream, and writes fail
    /// with an IOException: none may count the core's TLSB_CLOSED as bytes and spin.</summary>
    [Theory]
    [InlineData(Made.Buffer)]
    [InlineData(Made.Socket)]
    [InlineData(Made.Connect)]
    public async Task WriteAfterThePeersCloseNotifyFails(Made made)
    {
        (int port, Task served) = ClosingServer();
        using TlsContext context = Peers.TrustingClient();
        using TlsStream client = await Task.Run(() => ClientOf(made, context, port)).WaitAsync(Peers.Patience);
        await served.WaitAsync(Peers.Patience);
        Assert.Equal(0, await client.ReadAsync(new byte[16]).AsTask().WaitAsync(Peers.Patience));
        Task writes = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                client.Write(new byte[1000]);
                Thread.Sleep(10);
            }
        }, TaskCreationOptions.LongRunning);
        Exception e = await Peers.AssertFailsAsync(() => writes);
        Assert.IsAssignableFrom<IOException>(e);
    }
}
