using System;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>The .NET face against the native `tlsbridge` program, both ways.</summary>
public class ToolInteropTests
{
    [Theory]
    [InlineData(Mode.Buffer, "sec-protocol=TLSv12", "TLSv1.2")]
    [InlineData(Mode.Socket, "sec-protocol=TLSv12", "TLSv1.2")]
    [InlineData(Mode.Buffer, "sec-protocol=", "TLSv1.3")]
    [InlineData(Mode.Socket, "tls-version=TLSv1.3", "TLSv1.3")]
    public async Task ClientTalksToToolServer(Mode mode, string option, string expected)
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext context = Peers.TrustingClient(option);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, server.Port);
        using TlsStream client = Peers.Open(socket, context, mode);
        await client.AuthenticateAsClientAsync("localhost");
        Assert.Equal(expected, client.NegotiatedProtocol);
        Assert.Equal("ok", client.VerifyResult);
        await Peers.AssertEchoAsync(client, "hello from the .NET client\n");
        await Peers.AssertEchoAsync(client, new string('x', 100_000));
    }

    [Fact]
    public async Task MutualClientTalksToToolServer()
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key", "tls-mutual=1", "trusted-ca=ca.pem");
        using TlsContext withCertificate = Peers.TrustingClient("certificate=client.pem", "certificate-key=client.key");
        using (TlsStream client = await Task.Run(() => TlsStream.Connect(withCertificate, "localhost", server.Port, Peers.Patience)))
            await Peers.AssertEchoAsync(client, "mutual\n");

        using TlsContext without = Peers.TrustingClient("sec-protocol=TLSv12");
        var e = await Assert.ThrowsAsync<TlsException>(() => Task.Run(() => TlsStream.Connect(without, "localhost", server.Port, Peers.Patience)));
        Assert.Equal(TlsErrorKind.Protocol, e.Kind);
    }

    [Fact]
    public void CoreDialledClientTalksToToolServer()
    {
        using var server = new ToolServer("certificate=server-ec.pem", "certificate-key=server-ec.key");
        using TlsContext context = Peers.TrustingClient();
        using TlsStream client = TlsStream.Connect(context, "127.0.0.1", server.Port, Peers.Patience);
        Assert.Equal("127.0.0.1", client.TargetName);
        Assert.StartsWith("TLS_", client.CipherSuite);
        Peers.AssertEchoAsync(client, "dialled\n").Wait(Peers.Patience);
    }

    [Fact]
    public void CoreDialledReadTimesOut()
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext context = Peers.TrustingClient();
        using TlsStream client = TlsStream.Connect(context, "localhost", server.Port, Peers.Patience);
        Assert.True(client.CanTimeout);
        client.ReadTimeout = 200;
        Assert.Equal(200, client.ReadTimeout);
        var e = Assert.Throws<TlsException>(() => client.Read(new byte[16]));
        Assert.Equal(TlsStatus.Timeout, e.Status);
        Assert.Equal(TlsErrorKind.Transport, e.Kind);
    }

    /// <summary>`tlsbridge connect` to a .NET server: stdin goes through the server and back.</summary>
    [Theory]
    [InlineData(Mode.Buffer, "sec-protocol=TLSv12")]
    [InlineData(Mode.Socket, "sec-protocol=TLSv13")]
    public async Task ToolClientTalksToServer(Mode mode, string option)
    {
        using TlsContext context = Peers.LocalhostServer(option);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task<(int, string, string)> tool = ToolClient.ConnectAsync(port, "ping\npong\n", "trusted-ca=ca.pem", "tls-target-name=localhost");
        using TlsStream server = Peers.Open(await listener.AcceptSocketAsync(), context, mode);
        await server.AuthenticateAsServerAsync();
        Assert.Equal(option.EndsWith("12") ? "TLSv1.2" : "TLSv1.3", server.NegotiatedProtocol);
        Exception? failure = await Record.ExceptionAsync(() => Peers.EchoAsync(server));
        (int exit, string output, string errors) = await tool;
        Assert.True(failure == null && exit == 0, $"server: {failure?.Message}; tool exit {exit}: {errors}");
        Assert.Equal("ping\npong\n", output);
    }

    [Fact]
    public async Task ToolClientWithCertificateTalksToMutualServer()
    {
        using TlsContext context = Peers.LocalhostServer("tls-mutual=1", "trusted-ca=ca.pem");
        using TlsListener listener = context.Listen("127.0.0.1", 0);
        Task<(int, string, string)> tool = ToolClient.ConnectAsync(listener.Port, "with a certificate\n",
            "trusted-ca=ca.pem", "tls-target-name=localhost", "certificate=client.pem", "certificate-key=client.key");
        using TlsStream server = await Task.Run(() => listener.Accept(Peers.Patience));
        await server.AuthenticateAsServerAsync();
        Assert.Equal("CN=tlsbridge client,O=tlsbridge tests", server.PeerSubject);
        Exception? failure = await Record.ExceptionAsync(() => Peers.EchoAsync(server));
        (int exit, string output, string errors) = await tool;
        Assert.True(failure == null && exit == 0, $"server: {failure?.Message}; tool exit {exit}: {errors}");
        Assert.Equal("with a certificate\n", output);
    }

    [Fact]
    public async Task ToolClientRefusesAServerWithTheWrongName()
    {
        using TlsContext context = Peers.Server("certificate=wrongname.pem", "certificate-key=wrongname.key");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task<(int, string, string)> tool = ToolClient.ConnectAsync(port, "", "trusted-ca=ca.pem", "tls-target-name=localhost");
        using TlsStream server = Peers.Open(await listener.AcceptSocketAsync(), context, Mode.Buffer);
        await Assert.ThrowsAsync<TlsException>(() => server.AuthenticateAsServerAsync());
        (int exit, _, string errors) = await tool;
        Assert.NotEqual(0, exit);
        Assert.Contains("wrong.example", errors);
    }
}
