using System;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Strings crossing into the core are C strings: a NUL would cut them short there
/// (`evil.example\0.good.example` checked as `evil.example`), so every face refuses them, with
/// Java's message.</summary>
public class StringTests
{
    private const string Cut = "evil.example\0.good.example";
    private const string Message = "a string passed to tlsbridge contains NUL: evil.example?.good.example";

    private static void AssertRefused(Action call)
    {
        var e = Assert.Throws<ArgumentException>(call);
        Assert.Equal(Message, e.Message);
    }

    [Fact]
    public void OptionNamesAndValuesWithNulAreRefused()
    {
        using var config = new TlsConfig();
        AssertRefused(() => config.Set("tls-target-name", Cut));
        AssertRefused(() => config.Set(Cut, "1"));
        // Nothing was set: a context from the config has no target name.
        using TlsContext context = TlsContext.CreateClient(config.Set("trusted-ca", TestEnv.Cert("ca.pem")));
        Assert.DoesNotContain("evil", context.EffectiveSettings);
    }

    [Fact]
    public void HostsAndNamesWithNulAreRefused()
    {
        using TlsContext client = Peers.TrustingClient();
        AssertRefused(() => TlsStream.Connect(client, Cut, 443, TimeSpan.FromSeconds(1)));
        AssertRefused(() => client.Verify("-----BEGIN CERTIFICATE-----", Cut));
        using (TlsContext server = Peers.LocalhostServer())
            AssertRefused(() => server.Listen(Cut, 0).Dispose());

        (System.Net.Sockets.Socket c, System.Net.Sockets.Socket s) = Peers.TcpPair();
        using var _ = s;
        using TlsStream stream = Peers.Open(c, client, Mode.Buffer);
        AssertRefused(() => stream.AuthenticateAsClient(Cut));
    }
}
