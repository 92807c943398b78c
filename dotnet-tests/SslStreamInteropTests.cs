using System;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>The .NET face against SslStream, the platform's own TLS, in both directions.</summary>
public class SslStreamInteropTests
{
    /// <summary>A TlsStream client against an SslStream server; returns both after the handshake
    /// attempt (the server task is faulted if the server side failed).</summary>
    private static async Task<(TlsStream Client, SslStream Server, Task ServerHandshake)> ClientToSslServerAsync(
        TlsContext context, Mode mode, SslServerAuthenticationOptions serverOptions, string targetHost = "localhost")
    {
        (Socket c, Socket s) = Peers.TcpPair();
        var server = new SslStream(new NetworkStream(s, ownsSocket: true));
        Task serverHandshake = server.AuthenticateAsServerAsync(serverOptions);
        TlsStream client = Peers.Open(c, context, mode);
        try
        {
            await client.AuthenticateAsClientAsync(targetHost).WaitAsync(Peers.Patience);
        }
        catch
        {
            client.Dispose();
            server.Dispose();
            throw;
        }
        await serverHandshake.WaitAsync(Peers.Patience);
        return (client, server, serverHandshake);
    }

    [Theory]
    [InlineData(Mode.Buffer, "", "TLSv1.3", SslProtocols.Tls13)]
    [InlineData(Mode.Socket, "", "TLSv1.3", SslProtocols.Tls13)]
    [InlineData(Mode.Buffer, "TLSv12", "TLSv1.2", SslProtocols.Tls12)]
    [InlineData(Mode.Socket, "TLSv12", "TLSv1.2", SslProtocols.Tls12)]
    [InlineData(Mode.Buffer, "TLSv13", "TLSv1.3", SslProtocols.Tls13)]
    public async Task ClientNegotiatesTheVersionSecProtocolAllows(Mode mode, string secProtocol, string expected, SslProtocols sslExpected)
    {
        using TlsContext context = Peers.TrustingClient($"sec-protocol={secProtocol}");
        var (client, server, _) = await ClientToSslServerAsync(context, mode, Peers.SslServer());
        using (client)
        using (server)
        {
            Assert.Equal(expected, client.NegotiatedProtocol);
            Assert.Equal(sslExpected, server.SslProtocol);
            Assert.Equal("ok", client.VerifyResult);
            Assert.Equal("CN=localhost,O=tlsbridge tests", client.PeerSubject);
            Assert.Equal("CN=tlsbridge Test CA,O=tlsbridge tests", client.PeerIssuer);
            Assert.Equal("localhost", server.TargetHostName);
            _ = Peers.EchoAsync(server);
            await Peers.AssertEchoAsync(client, "over SslStream\n");
        }
    }

    /// <summary>Four megabytes each way with the synchronous and the asynchronous API, a reader
    /// and a writer at once: more than the socket buffers hold, so writes wait for the peer.</summary>
    [Theory]
    [InlineData(Mode.Buffer, false)]
    [InlineData(Mode.Socket, false)]
    [InlineData(Mode.Buffer, true)]
    [InlineData(Mode.Socket, true)]
    public async Task BulkDataBothWaysAtOnce(Mode mode, bool async)
    {
        using TlsContext context = Peers.TrustingClient();
        var (client, server, _) = await ClientToSslServerAsync(context, mode, Peers.SslServer());
        using (client)
        using (server)
        {
            _ = Peers.EchoAsync(server);
            byte[] payload = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4 << 20);
            byte[] back = new byte[payload.Length];
            Task write = async
                ? client.WriteAsync(payload).AsTask()
                : Task.Factory.StartNew(() => client.Write(payload), TaskCreationOptions.LongRunning);
            Task read = async
                ? client.ReadExactlyAsync(back).AsTask()
                : Task.Factory.StartNew(() => client.ReadExactly(back), TaskCreationOptions.LongRunning);
            await Task.WhenAll(write, read).WaitAsync(Peers.Patience);
            Assert.True(payload.AsSpan().SequenceEqual(back));
        }
    }

    [Theory]
    [InlineData(Mode.Buffer, "TLS_AES_256_GCM_SHA384", "", TlsCipherSuite.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384")]
    [InlineData(Mode.Socket, "TLS_AES_256_GCM_SHA384", "", TlsCipherSuite.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384")]
    [InlineData(Mode.Buffer, "TLS_CHACHA20_POLY1305_SHA256", "", TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256")]
    [InlineData(Mode.Buffer, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLSv12", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256")]
    [InlineData(Mode.Socket, "ECDHE-RSA-AES256-GCM-SHA384", "TLSv12", TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384")]
    public async Task ClientNegotiatesTheCipherListSuite(Mode mode, string cipherList, string secProtocol, TlsCipherSuite expected, string openSslName)
    {
        using TlsContext context = Peers.TrustingClient($"cipher-list={cipherList}", $"sec-protocol={secProtocol}");
        var (client, server, _) = await ClientToSslServerAsync(context, mode, Peers.SslServer());
        using (client)
        using (server)
        {
            Assert.Equal(expected, server.NegotiatedCipherSuite);
            Assert.Equal(expected.ToString(), client.CipherSuite);
            Assert.Equal(openSslName, client.Cipher);
        }
    }

    [Theory]
    [InlineData(Mode.Buffer)]
    [InlineData(Mode.Socket)]
    public async Task ClientAndServerWithoutACommonVersionFail(Mode mode)
    {
        using TlsContext context = Peers.TrustingClient("sec-protocol=TLSv13");
        var e = await Assert.ThrowsAsync<TlsException>(() =>
            ClientToSslServerAsync(context, mode, Peers.SslServer(protocols: SslProtocols.Tls12)));
        Assert.Equal(TlsStatus.ProtocolVersion, e.Status);
        Assert.Contains("TLSv1.3", e.Message);
    }

    [Theory]
    [InlineData(Mode.Buffer, "server", "wrong.example.test", new[] { "wrong.example.test", "localhost", "127.0.0.1" })]
    [InlineData(Mode.Socket, "server", "wrong.example.test", new[] { "wrong.example.test", "localhost", "127.0.0.1" })]
    [InlineData(Mode.Buffer, "wrongname", "localhost", new[] { "localhost", "wrong.example" })]
    public async Task WrongHostFailsNamingTheHostAndTheCertificateNames(Mode mode, string serverCertificate, string host, string[] named)
    {
        using TlsContext context = Peers.TrustingClient();
        (Socket c, Socket s) = Peers.TcpPair();
        using var server = new SslStream(new NetworkStream(s, ownsSocket: true));
        Task serverHandshake = server.AuthenticateAsServerAsync(Peers.SslServer(serverCertificate));
        using TlsStream client = Peers.Open(c, context, mode);
        var e = await Assert.ThrowsAsync<TlsException>(() => client.AuthenticateAsClientAsync(host).WaitAsync(Peers.Patience));
        Assert.Equal(TlsStatus.VerifyName, e.Status);
        Assert.True(e.IsVerificationFailure);
        foreach (string name in named)
            Assert.Contains(name, e.Message);
        // The client told the server why with an alert, so the server fails rather than waits.
        Assert.IsType<AuthenticationException>(await Peers.AssertFailsAsync(() => serverHandshake));
    }

    [Theory]
    [InlineData(Mode.Buffer)]
    [InlineData(Mode.Socket)]
    public async Task UntrustedCaFailsVerification(Mode mode)
    {
        using TlsContext context = Peers.TrustingClient();
        var e = await Assert.ThrowsAsync<TlsException>(() =>
            ClientToSslServerAsync(context, mode, Peers.SslServer("untrusted")));
        Assert.Equal(TlsStatus.Verify, e.Status);
        Assert.Equal(TlsErrorKind.Verification, e.Kind);
        Assert.Contains("unable to get local issuer certificate", e.Message);
        Assert.Contains("CN=localhost", e.Message);
    }

    [Theory]
    [InlineData(Mode.Buffer, "TLSv12")]
    [InlineData(Mode.Socket, "TLSv13")]
    public async Task MutualTlsClientPresentsItsCertificate(Mode mode, string secProtocol)
    {
        using TlsContext context = Peers.TrustingClient("certificate=client.pem", "certificate-key=client.key", $"sec-protocol={secProtocol}");
        var (client, server, _) = await ClientToSslServerAsync(context, mode, Peers.SslServer(requireClientCertificate: true));
        using (client)
        using (server)
        {
            Assert.Equal("CN=tlsbridge client, O=tlsbridge tests", server.RemoteCertificate!.Subject);
            _ = Peers.EchoAsync(server);
            await Peers.AssertEchoAsync(client, "mutual\n");
        }
    }

    [Fact]
    public async Task MutualTlsServerRejectsAClientWithoutCertificate()
    {
        using TlsContext context = Peers.TrustingClient("sec-protocol=TLSv12");
        Exception e = await Peers.AssertFailsAsync(() =>
            ClientToSslServerAsync(context, Mode.Buffer, Peers.SslServer(requireClientCertificate: true)));
        // SslStream checks the client certificate once its handshake is done, so the
        // rejection is the server's AuthenticationException.
        Assert.IsType<AuthenticationException>(e);
    }

    // ---- SslStream client, TlsStream server

    private static async Task<(SslStream Client, TlsStream Server)> SslClientToServerAsync(
        TlsContext context, Mode mode, SslClientAuthenticationOptions clientOptions)
    {
        (Socket c, Socket s) = Peers.TcpPair();
        var client = new SslStream(new NetworkStream(c, ownsSocket: true));
        TlsStream server = Peers.Open(s, context, mode);
        Task serverHandshake = server.AuthenticateAsServerAsync();
        try
        {
            await client.AuthenticateAsClientAsync(clientOptions).WaitAsync(Peers.Patience);
            await serverHandshake.WaitAsync(Peers.Patience);
        }
        catch
        {
            client.Dispose();
            server.Dispose();
            throw;
        }
        return (client, server);
    }

    [Theory]
    [InlineData(Mode.Buffer, SslProtocols.Tls12, "TLSv1.2")]
    [InlineData(Mode.Socket, SslProtocols.Tls12, "TLSv1.2")]
    [InlineData(Mode.Buffer, SslProtocols.Tls13, "TLSv1.3")]
    [InlineData(Mode.Socket, SslProtocols.Tls13, "TLSv1.3")]
    public async Task ServerServesSslStreamClients(Mode mode, SslProtocols protocols, string expected)
    {
        using TlsContext context = Peers.LocalhostServer();
        var (client, server) = await SslClientToServerAsync(context, mode, Peers.SslClient(protocols: protocols));
        using (client)
        using (server)
        {
            Assert.Equal(expected, server.NegotiatedProtocol);
            Assert.Equal(protocols, client.SslProtocol);
            Assert.Equal("localhost", server.TargetName);
            Assert.Equal("", server.PeerSubject);
            Task echo = Peers.EchoAsync(server);
            await Peers.AssertEchoAsync(client, "to the .NET server\n");
            await client.ShutdownAsync();
            await echo.WaitAsync(Peers.Patience);
        }
    }

    [Theory]
    [InlineData(Mode.Buffer, SslProtocols.Tls12)]
    [InlineData(Mode.Socket, SslProtocols.Tls13)]
    public async Task MutualTlsServerVerifiesSslStreamClientCertificate(Mode mode, SslProtocols protocols)
    {
        using TlsContext context = Peers.LocalhostServer("tls-mutual=1", "trusted-ca=ca.pem");
        var (client, server) = await SslClientToServerAsync(context, mode, Peers.SslClient(protocols: protocols, certificate: "client"));
        using (client)
        using (server)
        {
            Assert.Equal("CN=tlsbridge client,O=tlsbridge tests", server.PeerSubject);
            Assert.Equal("ok", server.VerifyResult);
        }
    }

    [Theory]
    [InlineData(Mode.Buffer, null, TlsStatus.PeerCertMissing)]
    [InlineData(Mode.Socket, null, TlsStatus.PeerCertMissing)]
    [InlineData(Mode.Buffer, "other-client", TlsStatus.Verify)]
    public async Task MutualTlsServerRejectsSslStreamClients(Mode mode, string? certificate, TlsStatus expected)
    {
        using TlsContext context = Peers.LocalhostServer("tls-mutual=1", "trusted-ca=ca.pem");
        (Socket c, Socket s) = Peers.TcpPair();
        using var client = new SslStream(new NetworkStream(c, ownsSocket: true));
        using TlsStream server = Peers.Open(s, context, mode);
        Task serverHandshake = server.AuthenticateAsServerAsync();
        // TLS 1.2: the client learns of the rejection within its handshake.
        Task clientHandshake = client.AuthenticateAsClientAsync(Peers.SslClient(protocols: SslProtocols.Tls12, certificate: certificate));
        var e = await Assert.ThrowsAsync<TlsException>(() => serverHandshake.WaitAsync(Peers.Patience));
        Assert.Equal(expected, e.Status);
        // A client certificate missing where one is required is a verification failure too.
        Assert.Equal(TlsErrorKind.Verification, e.Kind);
        Assert.True(e.IsVerificationFailure);
        await Peers.AssertFailsAsync(() => clientHandshake);
    }

    [Fact]
    public async Task SslStreamClientRejectsAnUntrustedServer()
    {
        using TlsContext context = Peers.Server("certificate=untrusted.pem", "certificate-key=untrusted.key");
        await Assert.ThrowsAsync<AuthenticationException>(() =>
            SslClientToServerAsync(context, Mode.Buffer, Peers.SslClient(protocols: SslProtocols.Tls12)));
    }
}
