using System;
using System.Linq;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Dispose, use after dispose, dispose racing a read, finalization.</summary>
public class LifetimeTests
{
    [Fact]
    public void DisposeIsIdempotentAndUseAfterDisposeThrows()
    {
        var config = Peers.Config("trusted-ca=ca.pem");
        var context = TlsContext.CreateClient(config);
        config.Dispose();
        config.Dispose();
        Assert.Throws<ObjectDisposedException>(() => config.Set("tls", "1"));
        Assert.Throws<ObjectDisposedException>(() => TlsContext.CreateClient(config));

        (Socket c, Socket s) = Peers.TcpPair();
        using var _ = s;
        context.Dispose();
        context.Dispose();
        var stream = new TlsStream(new NetworkStream(c, ownsSocket: true), context);
        Assert.Throws<ObjectDisposedException>(() => stream.AuthenticateAsClient("localhost"));
        stream.Dispose();
        stream.Dispose();
        Assert.False(stream.CanRead);
        Assert.Throws<ObjectDisposedException>(() => stream.Read(new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => stream.Write(new byte[1]));

        using TlsContext server = Peers.LocalhostServer();
        TlsListener listener = server.Listen("127.0.0.1", 0);
        listener.Dispose();
        listener.Dispose();
        Assert.Throws<ObjectDisposedException>(() => listener.Port);
        Assert.Throws<ObjectDisposedException>(() => listener.Accept());
        using (TlsContext client = Peers.TrustingClient())
            Assert.Throws<InvalidOperationException>(() => client.Listen("127.0.0.1", 0));
    }

    [Theory]
    [InlineData(Mode.Buffer)]
    [InlineData(Mode.Socket)]
    public async Task StreamUseAfterDisposeThrows(Mode mode)
    {
        var (client, server) = await ConnectedPairAsync(mode);
        using (server)
        {
            Assert.Equal("TLSv1.3", client.NegotiatedProtocol);
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.NegotiatedProtocol);
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.ReadAsync(new byte[8]));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.WriteAsync(new byte[8]));
            Assert.Throws<ObjectDisposedException>(() => client.Shutdown());
        }
    }

    /// <summary>A socket-mode stream made with leaveSocketOpen leaves the TCP connection usable
    /// after Dispose, as SslStream's leaveInnerStreamOpen does; the TLS layer ends with the
    /// close_notify Dispose sends.</summary>
    [Fact]
    public async Task DisposeWithLeaveSocketOpenKeepsTheConnection()
    {
        (Socket c, Socket s) = Peers.TcpPair();
        using var clientSocket = c;
        using var serverSocket = s;
        var server = new SslStream(new NetworkStream(s, ownsSocket: false), leaveInnerStreamOpen: true);
        Task serverHandshake = server.AuthenticateAsServerAsync(Peers.SslServer());
        using TlsContext context = Peers.TrustingClient();
        var client = new TlsStream(c, context, leaveSocketOpen: true);
        await client.AuthenticateAsClientAsync("localhost").WaitAsync(Peers.Patience);
        await serverHandshake.WaitAsync(Peers.Patience);
        client.Dispose();
        Assert.Equal(0, await server.ReadAsync(new byte[16]).AsTask().WaitAsync(Peers.Patience));
        server.Dispose();
        c.Blocking = true;
        c.Send("after TLS"u8);
        byte[] got = new byte[9];
        s.ReceiveTimeout = 5000;
        for (int n = 0; n < got.Length;)
            n += s.Receive(got, n, got.Length - n, SocketFlags.None);
        Assert.Equal("after TLS"u8.ToArray(), got);
    }

    /// <summary>A TlsStream client and an SslStream server (which sends nothing unless told).</summary>
    internal static async Task<(TlsStream Client, SslStream Server)> ConnectedPairAsync(Mode mode)
    {
        (Socket c, Socket s) = Peers.TcpPair();
        var server = new SslStream(new NetworkStream(s, ownsSocket: true));
        Task serverHandshake = server.AuthenticateAsServerAsync(Peers.SslServer());
        using TlsContext context = Peers.TrustingClient();
        TlsStream client = Peers.Open(c, context, mode);
        await client.AuthenticateAsClientAsync("localhost").WaitAsync(Peers.Patience);
        await serverHandshake.WaitAsync(Peers.Patience);
        return (client, server);
    }

    [Theory]
    [InlineData(Mode.Buffer, true)]
    [InlineData(Mode.Buffer, false)]
    [InlineData(Mode.Socket, true)]
    [InlineData(Mode.Socket, false)]
    public async Task DisposeDuringAReadEndsTheReadWithObjectDisposedException(Mode mode, bool async)
    {
        var (client, server) = await ConnectedPairAsync(mode);
        using (server)
        {
            Task<int> read = async
                ? client.ReadAsync(new byte[64]).AsTask()
                : Task.Factory.StartNew(() => client.Read(new byte[64]), TaskCreationOptions.LongRunning);
            await Task.Delay(100);
            Assert.False(read.IsCompleted);
            client.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => read.WaitAsync(Peers.Patience));
        }
    }

    [Fact]
    public async Task DisposeDuringABlockedCoreReadEndsIt()
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext context = Peers.TrustingClient();
        TlsStream client = await Task.Run(() => TlsStream.Connect(context, "localhost", server.Port, Peers.Patience));
        Task<int> read = client.ReadAsync(new byte[64]).AsTask();
        await Task.Delay(100);
        Assert.False(read.IsCompleted);
        client.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => read.WaitAsync(Peers.Patience));
    }

    /// <summary>Many reads racing Dispose at varying moments: every one ends, none crashes.</summary>
    [Theory]
    [InlineData(Mode.Buffer)]
    [InlineData(Mode.Socket)]
    public async Task ConcurrentDisposeNeverCrashes(Mode mode)
    {
        for (int i = 0; i < 40; i++)
        {
            var (client, server) = await ConnectedPairAsync(mode);
            using (server)
            {
                _ = server.WriteAsync(new byte[100_000]);
                var buffer = new byte[1000];
                Task reader = Task.Run(async () =>
                {
                    while (await client.ReadAsync(buffer) > 0) { }
                });
                var disposers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
                {
                    Thread.SpinWait(Random.Shared.Next(0, 200_000));
                    client.Dispose();
                })).ToArray();
                await Task.WhenAll(disposers);
                Exception? e = await Record.ExceptionAsync(() => reader.WaitAsync(Peers.Patience));
                Assert.True(e is null or ObjectDisposedException, e?.ToString());
            }
        }
    }
}
