using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Many connections at once through shared contexts.</summary>
public class ParallelTests
{
    [Theory]
    [InlineData(Mode.Buffer)]
    [InlineData(Mode.Socket)]
    public async Task ManyClientsAndServersInParallel(Mode mode)
    {
        const int connections = 48;
        using TlsContext serverContext = Peers.LocalhostServer();
        using TlsContext clientContext = Peers.TrustingClient();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(connections);
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Task servers = Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            using TlsStream server = Peers.Open(await listener.AcceptSocketAsync(), serverContext, mode);
            await server.AuthenticateAsServerAsync();
            await Peers.EchoAsync(server);
        }));

        await Task.WhenAll(Enumerable.Range(0, connections).Select(async i =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port);
            using TlsStream client = Peers.Open(socket, clientContext, mode);
            await client.AuthenticateAsClientAsync("localhost");
            byte[] payload = RandomNumberGenerator.GetBytes(64 * 1024 + i);
            // Write and read at the same time: one reader and one writer per stream.
            Task write = client.WriteAsync(payload).AsTask();
            byte[] back = new byte[payload.Length];
            await client.ReadExactlyAsync(back);
            await write;
            Assert.Equal(payload, back);
            await client.ShutdownAsync();
            Assert.Equal(0, await client.ReadAsync(new byte[1]));
        })).WaitAsync(TimeSpan.FromSeconds(60));
        await servers.WaitAsync(Peers.Patience);
    }
}
