using System;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Counting this process's descriptors needs no other test running at the same time.</summary>
[CollectionDefinition(nameof(DescriptorTests), DisableParallelization = true)]
public class DescriptorCollection
{
}

/// <summary>Descriptors handed to the core are closed again: on a refused connection, and by
/// the finalizers of streams nobody disposed.</summary>
[Collection(nameof(DescriptorTests))]
public class DescriptorTests
{
    /// <summary>When the core refuses to make a connection, the descriptor it was offered (a
    /// duplicate) is closed again and the application's socket is untouched.</summary>
    [Fact]
    public void RefusedSocketConnectionLeavesTheSocketAlone()
    {
        (Socket c, Socket s) = Peers.TcpPair();
        using var _ = s;
        using TlsContext context = Peers.TrustingClient();
        int before = OpenDescriptors();
        using (var stream = new TlsStream(c, context, leaveSocketOpen: true))
        {
            var e = Assert.Throws<TlsException>(() => stream.AuthenticateAsClient(null));
            Assert.Equal(TlsStatus.Argument, e.Status);
            Assert.Contains("target name", e.Message);
        }
        // Not more than before (finalizers of earlier tests' garbage may close others meanwhile).
        Assert.InRange(OpenDescriptors(), 0, before);
        c.Blocking = true;
        c.Send("still usable"u8);
        byte[] got = new byte[12];
        s.ReceiveTimeout = 5000;
        Assert.Equal(12, s.Receive(got));
        Assert.Equal("still usable"u8.ToArray(), got);
        c.Dispose();
    }

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Streams never disposed: their finalizers free the native connections, which
    /// close the descriptors the core was given.</summary>
    [Fact]
    public async Task FinalizationFreesUndisposedConnections()
    {
        const int count = 20;
        var servers = new SslStream[count];
        int before = OpenDescriptors();
        for (int i = 0; i < count; i++)
            servers[i] = await AbandonClientAsync();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        foreach (SslStream server in servers)
            server.Dispose();
        // Each abandoned stream held two descriptors (its Socket and the core's duplicate) and
        // each server one; all of them are gone again.
        Assert.InRange(OpenDescriptors(), 0, before + 2);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<SslStream> AbandonClientAsync()
    {
        (TlsStream client, SslStream server) = await LifetimeTests.ConnectedPairAsync(Mode.Socket);
        Assert.Equal("ok", client.VerifyResult);
        return server;
    }
}
