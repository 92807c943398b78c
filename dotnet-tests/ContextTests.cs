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
        Assert.Equal(TlsStatus.TLSB_ERR_OPTION_VALUE, e.Status);
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
        Assert.Equal(TlsStatus.TLSB_ERR_VERIFY_NAME, name.Status);
        Assert.Contains("wrong.example.test", name.Message);
        var untrusted = Assert.Throws<TlsException>(() => context.Verify(File.ReadAllText(TestEnv.Cert("untrusted.pem")), ""));
        Assert.Equal(TlsStatus.TLSB_ERR_VERIFY, untrusted.Status);
        var expired = Assert.Throws<TlsException>(() => context.Verify(File.ReadAllText(TestEnv.Cert("expired.pem")), "localhost"));
        Assert.Equal(TlsStatus.TLSB_ERR_VERIFY, expired.Status);
        // The server certificate is valid for a year: checked two years from now, it has expired.
        var later = Assert.Throws<TlsException>(() => context.Verify(server, "localhost", DateTimeOffset.UtcNow.AddYears(2)));
        Assert.Equal(TlsStatus.TLSB_ERR_VERIFY, later.Status);
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

    private static async Task<TlsStream> ConnectAsync(TlsContext context, int port, byte[]? session)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var stream = new TlsStream(new NetworkStream(socket, ownsSocket: true), context) { SessionToResume = session };
        await stream.AuthenticateAsClientAsync("localhost");
        return stream;
    }
}
