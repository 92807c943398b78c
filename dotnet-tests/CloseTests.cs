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

    /// <summary>Dispose sends close_notify, whatever the transport: the core as the server sees
    /// an orderly end (a read returns 0), not a connection cut short (TLSB_ERR_PEER_RESET).</summary>
    [Theory]
    [InlineData(Made.Buffer)]
    [InlineData(Made.Socket)]
    [InlineData(Made.Connect)]
    public async Task DisposeSendsCloseNotify(Made made)
    {
        using TlsContext serverContext = Peers.LocalhostServer();
        using TlsListener listener = serverContext.Listen("127.0.0.1", 0);
        using TlsContext context = Peers.TrustingClient();
        Task<TlsStream> accepted = Task.Run(async () =>
        {
            TlsStream server = await listener.AcceptAsync();
            await server.AuthenticateAsServerAsync();
            return server;
        });
        TlsStream client = await Task.Run(() => ClientOf(made, context, listener.Port)).WaitAsync(Peers.Patience);
        using TlsStream server = await accepted.WaitAsync(Peers.Patience);
        client.Dispose();
        Assert.Equal(0, await server.ReadAsync(new byte[16]).AsTask().WaitAsync(Peers.Patience));
    }

    /// <summary>An inner stream that stops taking bytes cannot hold Dispose (nor make it throw).</summary>
    [Fact]
    public async Task DisposeDoesNotWaitLongForAStalledInnerStream()
    {
        (Socket c, Socket s) = Peers.TcpPair();
        using var server = new SslStream(new NetworkStream(s, ownsSocket: true));
        Task serverHandshake = server.AuthenticateAsServerAsync(Peers.SslServer());
        using TlsContext context = Peers.TrustingClient();
        var inner = new StallingStream(new NetworkStream(c, ownsSocket: true));
        var client = new TlsStream(inner, context);
        await client.AuthenticateAsClientAsync("localhost").WaitAsync(Peers.Patience);
        await serverHandshake.WaitAsync(Peers.Patience);
        inner.Stalled = true;
        await Task.Run(client.Dispose).WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Passes everything to the inner stream, except that once stalled, writes never
    /// complete and ignore their tokens.</summary>
    private sealed class StallingStream(Stream inner) : Stream
    {
        public volatile bool Stalled;

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Stalled)
                Thread.Sleep(Timeout.Infinite);
            inner.Write(buffer, offset, count);
        }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Stalled ? new ValueTask(new TaskCompletionSource().Task) : inner.WriteAsync(buffer, cancellationToken);
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
