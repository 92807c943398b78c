using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Contexts: the log callback, offline verification, session resumption.</summary>
public class ContextTests
{
    [Fact]
    public void LogCallbackReceivesWarningsAndErrorsOfContextBuilds()
    {
        var messages = new List<(TlsLogLevel Level, string Text)>();
        using var config = Peers.Config("trusted-ca=ca.pem", "protocol-list=SSLv3 TLSv1.2");
        config.SetLog((level, text) => messages.Add((level, text)));
        using (TlsContext context = TlsContext.CreateClient(config))
            Assert.Contains("protocols: TLSv1.2", context.EffectiveSettings.Split('\n'));
        Assert.Contains(messages, m => m.Level == TlsLogLevel.Warning && m.Text.Contains("SSLv3"));

        messages.Clear();
        config.Set("sec-protocol", "TLSv99");
        var e = Assert.Throws<TlsException>(() => TlsContext.CreateClient(config));
        Assert.Equal(TlsStatus.OptionValue, e.Status);
        Assert.Contains(messages, m => m.Level == TlsLogLevel.Error && m.Text == e.Message);

        messages.Clear();
        config.SetLog(null);
        Assert.Throws<TlsException>(() => TlsContext.CreateClient(config));
        Assert.Empty(messages);
    }

    [Fact]
    public void VerifyChecksAChainOffline()
    {
        using TlsContext context = Peers.TrustingClient();
        string server = File.ReadAllText(TestEnv.Cert("server.pem"));
        context.Verify(server, "localhost");
        var name = Assert.Throws<TlsException>(() => context.Verify(server, "wrong.example.test"));
        Assert.Equal(TlsStatus.VerifyName, name.Status);
        Assert.Contains("wrong.example.test", name.Message);
        var untrusted = Assert.Throws<TlsException>(() => context.Verify(File.ReadAllText(TestEnv.Cert("untrusted.pem")), ""));
        Assert.Equal(TlsStatus.Verify, untrusted.Status);
        var expired = Assert.Throws<TlsException>(() => context.Verify(File.ReadAllText(TestEnv.Cert("expired.pem")), "localhost"));
        Assert.Equal(TlsStatus.Verify, expired.Status);
        // The server certificate is valid for a year: checked two years from now, it has expired.
        var later = Assert.Throws<TlsException>(() => context.Verify(server, "localhost", DateTimeOffset.UtcNow.AddYears(2)));
        Assert.Equal(TlsStatus.Verify, later.Status);
    }

    [Theory]
    [InlineData("TLSv12")]
    [InlineData("TLSv13")]
    public async Task ExportedSessionIsResumed(string secProtocol)
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext context = Peers.TrustingClient($"sec-protocol={secProtocol}");
        byte[] session;
        using (TlsStream first = await ConnectAsync(context, server.Port, null))
        {
            Assert.False(first.IsSessionReused);
            // TLS 1.3 tickets come after the handshake: one round trip makes sure they are in.
            await Peers.AssertEchoAsync(first, "first\n");
            session = first.ExportSession();
        }
        using TlsStream second = await ConnectAsync(context, server.Port, session);
        Assert.True(second.IsSessionReused);
        await Peers.AssertEchoAsync(second, "resumed\n");
    }

    [Theory]
    [InlineData("TLSv12")]
    [InlineData("TLSv13")]
    public async Task CoreDialledClientResumesAnExportedSession(string secProtocol)
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext context = Peers.TrustingClient($"sec-protocol={secProtocol}");
        byte[] session = await FirstSessionAsync(context, "localhost", server.Port);
        using (TlsStream resumed = TlsStream.Connect(context, "localhost", server.Port, Peers.Patience, session))
        {
            Assert.True(resumed.IsSessionReused);
            Assert.Equal("ok", resumed.VerifyResult);
            await Peers.AssertEchoAsync(resumed, "resumed\n");
        }
        using TlsStream full = TlsStream.Connect(context, "localhost", server.Port, Peers.Patience, null);
        Assert.False(full.IsSessionReused);
        await Peers.AssertEchoAsync(full, "full\n");
    }

    [Fact]
    public async Task CoreDialledClientRefusesASessionOfOtherSettings()
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext tls12 = Peers.TrustingClient("sec-protocol=TLSv12");
        using TlsContext other = Peers.TrustingClient();
        byte[] session = await FirstSessionAsync(tls12, "localhost", server.Port);
        var e = Assert.Throws<TlsException>(() => TlsStream.Connect(other, "localhost", server.Port, Peers.Patience, session));
        Assert.Equal(TlsStatus.Argument, e.Status);
        Assert.Contains("other settings", e.Message);
        // The same refusal as a session offered through SessionToResume.
        var socketPath = await Assert.ThrowsAsync<TlsException>(() => ConnectAsync(other, server.Port, session));
        Assert.Equal(e.Status, socketPath.Status);
        Assert.Equal(e.Message, socketPath.Message);
    }

    [Fact]
    public async Task CoreDialledClientRefusesASessionForAnotherTargetName()
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        using TlsContext context = Peers.TrustingClient();
        byte[] session = await FirstSessionAsync(context, "localhost", server.Port);
        // The certificate names localhost and 127.0.0.1, not 127.0.0.2; the offer is refused
        // before the handshake, so a bare TCP listener there is peer enough.
        using var other = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        other.Start();
        int port = ((IPEndPoint)other.LocalEndpoint).Port;
        var e = Assert.Throws<TlsException>(() => TlsStream.Connect(context, "127.0.0.2", port, Peers.Patience, session));
        Assert.Equal(TlsStatus.VerifyName, e.Status);
        Assert.Contains("'127.0.0.2'", e.Message);
        var socketPath = await Assert.ThrowsAsync<TlsException>(() => ConnectAsync(context, server.Port, session, "127.0.0.2"));
        Assert.Equal(e.Status, socketPath.Status);
        Assert.Equal(e.Message, socketPath.Message);
    }

    /// <summary>A full handshake through the core's dial; its session, tickets read.</summary>
    private static async Task<byte[]> FirstSessionAsync(TlsContext context, string host, int port)
    {
        using TlsStream first = TlsStream.Connect(context, host, port, Peers.Patience);
        Assert.False(first.IsSessionReused);
        // TLS 1.3 tickets come after the handshake: one round trip makes sure they are in.
        await Peers.AssertEchoAsync(first, "first\n");
        return first.ExportSession();
    }

    private static async Task<TlsStream> ConnectAsync(TlsContext context, int port, byte[]? session, string targetHost = "localhost")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var stream = new TlsStream(new NetworkStream(socket, ownsSocket: true), context) { SessionToResume = session };
        try
        {
            await stream.AuthenticateAsClientAsync(targetHost);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return stream;
    }
}
