using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Alone: the test caps the process's thread pool.</summary>
[CollectionDefinition(nameof(ThreadPoolTests), DisableParallelization = true)]
public class ThreadPoolCollection
{
}

/// <summary>Waiting for the network holds no pool thread.</summary>
[Collection(nameof(ThreadPoolTests))]
public class ThreadPoolTests
{
    /// <summary>200 core socket connections (TlsStream.Connect and TlsListener.Accept) each with
    /// a pending ReadAsync, in a pool capped far below 200 threads: other work still runs, and a
    /// read whose data comes completes.</summary>
    [Fact]
    public void ManyPendingReadsLeaveThePoolFree()
    {
        const int connections = 200;
        using TlsContext serverContext = Peers.LocalhostServer();
        using TlsContext clientContext = Peers.TrustingClient();
        using TlsListener listener = serverContext.Listen("127.0.0.1", 0);
        var clients = new List<TlsStream>();
        var servers = new List<TlsStream>();
        ThreadPool.GetMaxThreads(out int maxWorkers, out int maxIo);
        ThreadPool.GetMinThreads(out int minWorkers, out _);
        try
        {
            for (int i = 0; i < connections; i++)
            {
                Task<TlsStream> accepted = Task.Run(() =>
                {
                    TlsStream server = listener.Accept(Peers.Patience);
                    server.AuthenticateAsServer();
                    return server;
                });
                clients.Add(TlsStream.Connect(clientContext, "localhost", listener.Port, Peers.Patience));
                Assert.True(accepted.Wait(Peers.Patience));
                servers.Add(accepted.Result);
            }
            Assert.True(ThreadPool.SetMaxThreads(Math.Max(minWorkers, Environment.ProcessorCount) + 4, maxIo));
            Task<int>[] reads = clients.Select(c => c.ReadAsync(new byte[16]).AsTask()).ToArray();
            Thread.Sleep(200);
            Assert.DoesNotContain(reads, r => r.IsCompleted);

            Task<int> other = Task.Run(() => 42);
            Assert.True(other.Wait(Peers.Patience), "the pool ran nothing else while the reads waited");
            servers[^1].Write("x"u8);
            Assert.True(reads[^1].Wait(Peers.Patience), "a read whose data came did not complete");
            Assert.Equal(1, reads[^1].Result);
        }
        finally
        {
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            foreach (TlsStream stream in clients.Concat(servers))
                stream.Dispose();
        }
    }
}
