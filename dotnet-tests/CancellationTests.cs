using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Cancellation tokens, timeouts and Dispose end waits, on every kind of stream.</summary>
public class CancellationTests
{
    /// <summary>A core socket client (TlsStream.Connect) and its server (TlsListener.Accept).</summary>
    private static async Task<(TlsStream Client, TlsStream Server, TlsListener Listener)> CorePairAsync()
    {
        using TlsContext serverContext = Peers.LocalhostServer();
        TlsListener listener = serverContext.Listen("127.0.0.1", 0);
        using TlsContext clientContext = Peers.TrustingClient();
        Task<TlsStream> accepted = Task.Run(() =>
        {
            TlsStream server = listener.Accept(Peers.Patience);
            server.AuthenticateAsServer();
            return server;
        });
        TlsStream client = await Task.Run(() => TlsStream.Connect(clientContext, "localhost", listener.Port, Peers.Patience));
        return (client, await accepted.WaitAsync(Peers.Patience), listener);
    }

    [Fact]
    public async Task CancellingAPendingCoreReadThrowsAndTheStreamGoesOn()
    {
        var (client, server, listener) = await CorePairAsync();
        using (listener)
        using (server)
        using (client)
        {
            using var cancel = new CancellationTokenSource();
            Task<int> read = client.ReadAsync(new byte[16], cancel.Token).AsTask();
            await Task.Delay(100);
            Assert.False(read.IsCompleted);
            cancel.Cancel();
            Exception e = await Peers.AssertFailsAsync(() => read);
            Assert.IsAssignableFrom<OperationCanceledException>(e);

            server.Write("after"u8);
            byte[] got = new byte[5];
            await client.ReadExactlyAsync(got).AsTask().WaitAsync(Peers.Patience);
            Assert.Equal("after"u8.ToArray(), got);
        }
    }

    [Fact]
    public async Task ReadTimeoutBoundsAsyncReadsToo()
    {
        var (client, server, listener) = await CorePairAsync();
        using (listener)
        using (server)
        using (client)
        {
            client.ReadTimeout = 200;
            var e = await Peers.AssertFailsAsync(() => client.ReadAsync(new byte[16]).AsTask());
            Assert.Equal(TlsStatus.Timeout, Assert.IsType<TlsException>(e).Status);
        }
    }

    /// <summary>A stream over the application's Socket waits in .NET too, and can time out;
    /// over an inner stream the inner stream's own timeouts apply.</summary>
    [Theory]
    [InlineData(Mode.Buffer)]
    [InlineData(Mode.Socket)]
    public async Task SocketModeReadsTimeOut(Mode mode)
    {
        var (client, server) = await LifetimeTests.ConnectedPairAsync(mode);
        using (server)
        using (client)
        {
            Assert.Equal(mode == Mode.Socket, client.CanTimeout);
            if (mode == Mode.Buffer)
                return;
            client.ReadTimeout = 200;
            Assert.Equal(200, client.WriteTimeout);
            var e = Assert.Throws<TlsException>(() => client.Read(new byte[16]));
            Assert.Equal(TlsStatus.Timeout, e.Status);
            Assert.Equal("read: timed out after 200 ms", e.Message);
        }
    }

    /// <summary>Zero and Timeout.Infinite mean no limit, as 0 does in Java; other negative values
    /// are refused.</summary>
    [Fact]
    public async Task ZeroAndInfiniteTimeoutsMeanNoLimit()
    {
        using TlsContext serverContext = Peers.LocalhostServer();
        using TlsListener listener = serverContext.Listen("127.0.0.1", 0);
        using TlsContext clientContext = Peers.TrustingClient();
        foreach (TimeSpan none in new[] { TimeSpan.Zero, Timeout.InfiniteTimeSpan })
        {
            Task<TlsStream> dialled = Task.Run(async () =>
            {
                await Task.Delay(300);
                return TlsStream.Connect(clientContext, "localhost", listener.Port, none);
            });
            using TlsStream server = await Task.Run(() => listener.Accept(none)).WaitAsync(Peers.Patience);
            server.ReadTimeout = (int)none.TotalMilliseconds;
            Assert.Equal(Timeout.Infinite, server.ReadTimeout);
            await server.AuthenticateAsServerAsync().WaitAsync(Peers.Patience);
            using TlsStream client = await dialled.WaitAsync(Peers.Patience);
            Task<int> read = Task.Run(() => server.Read(new byte[16]));
            await Task.Delay(300);
            client.Write("late"u8);
            Assert.Equal(4, await read.WaitAsync(Peers.Patience));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => listener.Accept(TimeSpan.FromSeconds(-2)));
        var pair = await CorePairAsync();
        using (pair.Listener)
        using (pair.Server)
        using (pair.Client)
            Assert.Throws<ArgumentOutOfRangeException>(() => pair.Client.ReadTimeout = -5);
        Assert.Throws<ArgumentOutOfRangeException>(() => TlsStream.Connect(clientContext, "localhost", listener.Port, TimeSpan.FromMilliseconds(-5)));
    }

    /// <summary>In buffer mode with leaveInnerStreamOpen, Dispose cannot end a blocked read by
    /// closing the inner stream; it still ends it.</summary>
    [Fact]
    public async Task DisposeEndsABlockedSyncReadOverAnInnerStreamLeftOpen()
    {
        (Socket c, Socket s) = Peers.TcpPair();
        using var inner = new NetworkStream(c, ownsSocket: true);
        using var server = new SslStream(new NetworkStream(s, ownsSocket: true));
        Task serverHandshake = server.AuthenticateAsServerAsync(Peers.SslServer());
        using TlsContext context = Peers.TrustingClient();
        var client = new TlsStream(inner, context, leaveInnerStreamOpen: true);
        await client.AuthenticateAsClientAsync("localhost").WaitAsync(Peers.Patience);
        await serverHandshake.WaitAsync(Peers.Patience);
        Task<int> read = Task.Factory.StartNew(() => client.Read(new byte[64]), TaskCreationOptions.LongRunning);
        await Task.Delay(200);
        Assert.False(read.IsCompleted);
        client.Dispose();
        Exception e = await Peers.AssertFailsAsync(() => read);
        Assert.True(e is ObjectDisposedException or IOException, e.ToString());
    }

    /// <summary>A server that takes the TCP connection and never answers the handshake.</summary>
    [Fact]
    public async Task CancellingConnectAsyncDuringTheHandshakeThrows()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using TlsContext context = Peers.TrustingClient();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Exception e = await Peers.AssertFailsAsync(() =>
            TlsStream.ConnectAsync(context, "localhost", ((IPEndPoint)listener.LocalEndpoint).Port, cancel.Token));
        Assert.IsAssignableFrom<OperationCanceledException>(e);
    }

    [Fact]
    public async Task CancellingAcceptAsyncThrowsAndTheListenerGoesOn()
    {
        using TlsContext serverContext = Peers.LocalhostServer();
        using TlsListener listener = serverContext.Listen("127.0.0.1", 0);
        using TlsContext clientContext = Peers.TrustingClient();
        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            Exception e = await Peers.AssertFailsAsync(() => listener.AcceptAsync(cancel.Token));
            Assert.IsAssignableFrom<OperationCanceledException>(e);
        }

        Task<TlsStream> served = Task.Run(async () =>
        {
            TlsStream server = await listener.AcceptAsync();
            await server.AuthenticateAsServerAsync();
            return server;
        });
        using TlsStream client = await TlsStream.ConnectAsync(clientContext, "localhost", listener.Port).WaitAsync(Peers.Patience);
        using TlsStream server = await served.WaitAsync(Peers.Patience);
        await server.WriteAsync("accepted"u8.ToArray());
        byte[] got = new byte[8];
        await client.ReadExactlyAsync(got).AsTask().WaitAsync(Peers.Patience);
        Assert.Equal("accepted"u8.ToArray(), got);
    }
}
