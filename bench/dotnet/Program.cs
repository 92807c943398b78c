// The .NET face against its anchor: the workloads of ../shared/BENCH.md through tlsbridge
// (P/Invoke) and through System.Net.Security.SslStream on the same runtime, interleaved
// (tlsbridge, SslStream, tlsbridge, SslStream, ...) for several rounds after one untimed warm-up
// round. Prints, per workload, "RESULT dotnet <workload> <unit> <tlsbridge median> <anchor median> <median round ratio>",
// the same lines as bench_c. Usage: TlsBridge.Bench CERT_DIR [--quick] [--rounds N] [--only W]; --quick
// runs small sizes, one round, and fails when a workload gave no sane number (the CTest smoke test).
//
// Both stacks sit behind IImpl, so each workload is written once. Everything is synchronous on
// dedicated threads, as in the other faces' harnesses.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using TlsBridge;

// The suite comes from OpenSSL's configuration (openssl-suite.cnf, named by OPENSSL_CONF), not
// from a CipherSuitesPolicy: with one, SslStream on Linux builds an SSL_CTX per connection and
// never resumes, which would not be SslStream as its users run it. Each stack's first connection
// checks that the suite is TLS_AES_128_GCM_SHA256.

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: TlsBridge.Bench CERT_DIR [--quick] [--rounds N] [--only WORKLOAD]");
    return 2;
}
string certs = args[0];
bool quick = false;
int rounds = 5;
string? only = null;
for (int i = 1; i < args.Length; i++)
{
    if (args[i] == "--quick") quick = true;
    else if (args[i] == "--rounds" && i + 1 < args.Length) rounds = int.Parse(args[++i]);
    else if (args[i] == "--only" && i + 1 < args.Length) only = args[++i];
    else throw new ArgumentException($"unknown argument {args[i]}");
}
if (quick) rounds = 1;
var sizes = new Sizes(quick ? 8 : 512, quick ? 30 : 1000, quick ? 30 : 2000, quick ? 1000 : 50000);

// In the build tree the library sits in <build>/lib, two levels above <build>/bench/dotnet.
string buildTreeLibrary = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "lib", "libtlsbridge.so.1"));
if (Environment.GetEnvironmentVariable(TlsBridgeLibrary.EnvironmentVariable) == null && File.Exists(buildTreeLibrary))
    TlsBridgeLibrary.LibraryPath = buildTreeLibrary;

var workloads = new (string Name, string Unit, Func<IImpl, double> Run)[]
{
    ("bulk", "MiB/s", impl => Workloads.Bulk(impl, sizes.BulkMiB)),
    ("hs", "handshakes/s", impl => Workloads.Handshakes(impl, 1, sizes.Hs, resume: false)),
    ("resume", "handshakes/s", impl => Workloads.Resume(impl, sizes.Resume)),
    ("pp", "round-trips/s", impl => Workloads.PingPong(impl, sizes.Pp)),
    ("scale", "handshakes/s", impl => Workloads.Handshakes(impl, Server.Threads, sizes.Hs, resume: false)),
};

bool bad = false;
using (IImpl tlsbridge = new TlsbridgeImpl(certs))
using (IImpl sslStream = new SslStreamImpl(certs))
{
    IImpl[] impls = { tlsbridge, sslStream };
    foreach (var w in workloads.Where(w => only == null || w.Name == only))
    {
        // Warm-up: the same workload, untimed, so that tiered compilation has settled.
        foreach (IImpl impl in impls)
            w.Run(impl);
        var results = new double[2][] { new double[rounds], new double[rounds] };
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < 2; i++) // A B, then B A (bench_c.c)
                results[i ^ (r & 1)][r] = w.Run(impls[i ^ (r & 1)]);
        double a = Median(results[0]), b = Median(results[1]);
        // The median of each round's ratio: A and B of a round run back to back (bench_c.c).
        double ratio = Median(Enumerable.Range(0, rounds).Select(r => results[0][r] / results[1][r]).ToArray());
        foreach (double m in new[] { a, b })
        {
            if (!(m > 0 && double.IsFinite(m)))
            {
                Console.Error.WriteLine($"TlsBridge.Bench: {w.Name} gave {m}");
                bad = true;
            }
        }
        Console.WriteLine(FormattableString.Invariant($"RESULT dotnet {w.Name} {w.Unit} {a:F2} {b:F2} {ratio:F3}"));
    }
}
return bad ? 1 : 0;

static double Median(double[] v)
{
    double[] s = v.OrderBy(x => x).ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

record Sizes(long BulkMiB, int Hs, int Resume, int Pp);

/// <summary>The common set-up of BENCH.md.</summary>
static class Spec
{
    public const string Suite = "TLS_AES_128_GCM_SHA256";
    public const string Host = "localhost";
    public const int WriteSize = 16384; // bulk: 16 KiB writes
    public const int MsgSize = 64;      // pp: 64-byte messages
}

/// <summary>One connection over blocking calls; Read returns 0 after the peer's close_notify.</summary>
interface IConn : IDisposable
{
    Stream Stream { get; }

    /// <summary>Sends close_notify.</summary>
    void Shutdown();

    /// <summary>Whether the handshake resumed a session; null when the stack does not say.</summary>
    bool? Reused { get; }

    /// <summary>The negotiated cipher suite (IANA name).</summary>
    string Suite { get; }
}

/// <summary>A TLS stack: a listening server and a client that dials it, contexts made once.</summary>
interface IImpl : IDisposable
{
    /// <summary>Accepts one connection and runs the server handshake.</summary>
    IConn Accept();

    /// <summary>Dials and runs the client handshake; resume: offer the session kept by <see cref="Keep"/>.</summary>
    IConn Dial(bool resume);

    /// <summary>Keeps the connection's session for later Dial(true) calls.</summary>
    void Keep(IConn conn);
}

sealed class TlsbridgeImpl : IImpl
{
    private readonly TlsContext _client, _server;
    private readonly TlsListener _listener;
    private byte[]? _session;

    public TlsbridgeImpl(string certs)
    {
        using (var c = new TlsConfig().Set("cipher-list", Spec.Suite).Set("trusted-ca", Path.Combine(certs, "ca.pem")))
            _client = TlsContext.CreateClient(c);
        using (var s = new TlsConfig().Set("cipher-list", Spec.Suite)
                   .Set("certificate", Path.Combine(certs, "server-ec.pem"))
                   .Set("certificate-key", Path.Combine(certs, "server-ec.key")))
            _server = TlsContext.CreateServer(s);
        _listener = _server.Listen("127.0.0.1", 0, 4096);
    }

    public IConn Accept()
    {
        TlsStream s = _listener.Accept();
        s.AuthenticateAsServer();
        return new Conn(s);
    }

    public IConn Dial(bool resume) =>
        new Conn(TlsStream.Connect(_client, Spec.Host, _listener.Port, null, resume ? _session : null));

    public void Keep(IConn conn) => _session = ((TlsStream)conn.Stream).ExportSession();

    private sealed class Conn(TlsStream stream) : IConn
    {
        public Stream Stream => stream;
        public void Shutdown() => stream.Shutdown();
        public bool? Reused => stream.IsSessionReused;
        public string Suite => stream.CipherSuite;
        public void Dispose() => stream.Dispose();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _client.Dispose();
        _server.Dispose();
    }
}

sealed class SslStreamImpl : IImpl
{
    private readonly TcpListener _listener;
    private readonly SslServerAuthenticationOptions _serverOptions;
    private readonly SslClientAuthenticationOptions _fresh, _resuming;

    public SslStreamImpl(string certs)
    {
        var cert = X509Certificate2.CreateFromPemFile(Path.Combine(certs, "server-ec.pem"), Path.Combine(certs, "server-ec.key"));
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(certs, "ca.pem"));
        _serverOptions = new SslServerAuthenticationOptions
        {
            // Made once, as a server reusing its certificate context does.
            ServerCertificateContext = SslStreamCertificateContext.Create(cert, null),
            EnabledSslProtocols = SslProtocols.Tls13,
        };
        SslClientAuthenticationOptions Client(bool allowResume)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.Add(ca);
            return new SslClientAuthenticationOptions
            {
                TargetHost = Spec.Host,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateChainPolicy = policy,
                AllowTlsResume = allowResume,
            };
        }
        _fresh = Client(false);
        _resuming = Client(true);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(4096);
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public IConn Accept()
    {
        Socket socket = _listener.AcceptSocket();
        socket.NoDelay = true;
        var s = new SslStream(new NetworkStream(socket, ownsSocket: true));
        s.AuthenticateAsServer(_serverOptions);
        return new Conn(s);
    }

    public IConn Dial(bool resume)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Loopback, Port);
        var s = new SslStream(new NetworkStream(socket, ownsSocket: true));
        s.AuthenticateAsClient(resume ? _resuming : _fresh);
        return new Conn(s);
    }

    /// <summary>SslStream keeps sessions by itself (per target host and options).</summary>
    public void Keep(IConn conn)
    {
    }

    private sealed class Conn(SslStream stream) : IConn
    {
        public Stream Stream => stream;
        public void Shutdown() => stream.ShutdownAsync().GetAwaiter().GetResult();
        public bool? Reused => null;
        public string Suite => stream.NegotiatedCipherSuite.ToString();
        public void Dispose() => stream.Dispose();
    }

    public void Dispose() => _listener.Stop();
}

/// <summary>Threads that accept and serve a known number of connections: echo (hs, resume,
/// scale, pp), or with bulkBytes > 0 one byte of answer after that many.</summary>
sealed class Server
{
    public const int Threads = 2; // one per core: the server never limits scale

    private readonly List<Thread> _threads = new();
    private readonly List<Exception> _failures = new();

    public Server(IImpl impl, int connections, long bulkBytes)
    {
        int remaining = connections;
        for (int i = 0; i < Threads; i++)
        {
            var t = new Thread(() =>
            {
                byte[] buf = new byte[Spec.WriteSize];
                while (Interlocked.Decrement(ref remaining) >= 0)
                {
                    try
                    {
                        using IConn c = impl.Accept();
                        long total = 0;
                        for (int n; (n = c.Stream.Read(buf)) > 0;)
                        {
                            total += n;
                            if (bulkBytes == 0) c.Stream.Write(buf, 0, n);
                            else if (total == bulkBytes) c.Stream.WriteByte((byte)'!');
                        }
                        c.Shutdown();
                    }
                    catch (Exception e)
                    {
                        lock (_failures) _failures.Add(e);
                    }
                }
            }) { Name = $"bench-server-{i}" };
            t.Start();
            _threads.Add(t);
        }
    }

    public void Join()
    {
        foreach (Thread t in _threads) t.Join();
        if (_failures.Count > 0) throw new InvalidOperationException("server failed", _failures[0]);
    }
}

static class Workloads
{
    /// <summary>A client connection, handshake done, on the suite BENCH.md sets.</summary>
    private static IConn Dial(IImpl impl, bool resume)
    {
        IConn c = impl.Dial(resume);
        if (c.Suite != Spec.Suite)
        {
            c.Dispose();
            throw new InvalidOperationException($"negotiated {c.Suite}, not {Spec.Suite} (is OPENSSL_CONF bench/dotnet/openssl-suite.cnf?)");
        }
        return c;
    }

    /// <summary>close_notify both ways, reading what comes before the server's (tickets).</summary>
    private static void Finish(IConn c)
    {
        c.Shutdown();
        byte[] buf = new byte[256];
        while (c.Stream.Read(buf) > 0)
        {
        }
    }

    public static double Bulk(IImpl impl, long mib)
    {
        long bytes = mib << 20;
        var server = new Server(impl, 1, bytes);
        byte[] data = new byte[Spec.WriteSize];
        double seconds;
        using (IConn c = Dial(impl, false))
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            for (long sent = 0; sent < bytes; sent += data.Length)
                c.Stream.Write(data);
            if (c.Stream.ReadByte() != '!')
                throw new InvalidOperationException("bulk: no answer");
            seconds = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Finish(c);
        }
        server.Join();
        return mib / seconds;
    }

    /// <summary>count handshakes on each of threads client threads; handshakes/s.</summary>
    public static double Handshakes(IImpl impl, int threads, int count, bool resume)
    {
        var server = new Server(impl, threads * count, 0);
        var failures = new List<Exception>();
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var clients = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            try
            {
                for (int k = 0; k < count; k++)
                {
                    using IConn c = Dial(impl, resume);
                    if (c.Reused is bool reused && reused != resume)
                        throw new InvalidOperationException(resume ? "a session was not resumed" : "a session was resumed");
                    Finish(c);
                }
            }
            catch (Exception e)
            {
                lock (failures) failures.Add(e);
            }
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        server.Join();
        if (failures.Count > 0) throw new InvalidOperationException("handshakes failed", failures[0]);
        return threads * count / seconds;
    }

    public static double Resume(IImpl impl, int count)
    {
        var server = new Server(impl, 1, 0);
        using (IConn c = Dial(impl, true))
        {
            Finish(c);
            impl.Keep(c);
        }
        server.Join();
        return Handshakes(impl, 1, count, resume: true);
    }

    public static double PingPong(IImpl impl, int count)
    {
        var server = new Server(impl, 1, 0);
        byte[] msg = new byte[Spec.MsgSize], back = new byte[Spec.MsgSize];
        double seconds;
        using (IConn c = Dial(impl, false))
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                c.Stream.Write(msg);
                c.Stream.ReadExactly(back);
            }
            seconds = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Finish(c);
        }
        server.Join();
        return count / seconds;
    }
}
