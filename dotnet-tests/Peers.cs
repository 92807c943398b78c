using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace TlsBridge.Tests;

/// <summary>How a TlsStream reaches the network in a test.</summary>
public enum Mode
{
    /// <summary>Buffer mode over a NetworkStream.</summary>
    Buffer,
    /// <summary>Socket mode over the Socket's descriptor.</summary>
    Socket,
}

/// <summary>Contexts, sockets and peers (SslStream, the native tlsbridge program) for the tests.</summary>
internal static class Peers
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A context from "name=value" options (see <see cref="Expand"/>).</summary>
    public static TlsContext Client(params string[] options) => TlsContext.CreateClient(Config(options));

    public static TlsContext Server(params string[] options) => TlsContext.CreateServer(Config(options));

    /// <summary>The usual client: trusts the test CA.</summary>
    public static TlsContext TrustingClient(params string[] more) => Client(["trusted-ca=ca.pem", .. more]);

    /// <summary>The usual server: the RSA localhost certificate.</summary>
    public static TlsContext LocalhostServer(params string[] more) =>
        Server(["certificate=server.pem", "certificate-key=server.key", .. more]);

    public static TlsConfig Config(params string[] options)
    {
        var config = new TlsConfig();
        foreach (string option in options)
        {
            int eq = option.IndexOf('=');
            config.Set(option[..eq], Expand(option)[(eq + 1)..]);
        }
        return config;
    }

    /// <summary>In a "name=value" option, bare certificate file names (ending .pem or .key,
    /// comma-separated) become paths in the test certificate directory.</summary>
    public static string Expand(string option)
    {
        int eq = option.IndexOf('=');
        string value = option[(eq + 1)..];
        return value.EndsWith(".pem") || value.EndsWith(".key")
            ? $"{option[..eq]}={string.Join(",", value.Split(',').Select(TestEnv.Cert))}"
            : option;
    }

    /// <summary>A connected loopback TCP pair, made with blocking calls.</summary>
    public static (Socket Client, Socket Server) TcpPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return (client, listener.Accept());
    }

    public static TlsStream Open(Socket socket, TlsContext context, Mode mode) => mode == Mode.Buffer
        ? new TlsStream(new NetworkStream(socket, ownsSocket: true), context)
        : new TlsStream(socket, context);

    // ---- SslStream

    public static X509Certificate2 Certificate(string name)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(TestEnv.Cert(name + ".pem"), TestEnv.Cert(name + ".key"));
        // SslStream wants a key it can hand to the TLS stack; a PKCS#12 round trip gives one.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    public static X509ChainPolicy TrustTestCa() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(TestEnv.Cert("ca.pem")) },
        RevocationMode = X509RevocationMode.NoCheck,
    };

    public static SslServerAuthenticationOptions SslServer(string certificate = "server",
        SslProtocols protocols = SslProtocols.None, bool requireClientCertificate = false) => new()
    {
        ServerCertificate = Certificate(certificate),
        EnabledSslProtocols = protocols,
        ClientCertificateRequired = requireClientCertificate,
        CertificateChainPolicy = requireClientCertificate ? TrustTestCa() : null,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    public static SslClientAuthenticationOptions SslClient(string targetHost = "localhost",
        SslProtocols protocols = SslProtocols.None, string? certificate = null) => new()
    {
        TargetHost = targetHost,
        EnabledSslProtocols = protocols,
        CertificateChainPolicy = TrustTestCa(),
        ClientCertificates = certificate == null ? null : new X509CertificateCollection { Certificate(certificate) },
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    /// <summary>Asserts that <paramref name="task"/> fails by itself: running out of patience
    /// does not count as the failure a test expects.</summary>
    public static async Task<Exception> AssertFailsAsync(Func<Task> task)
    {
        Exception? e = await Xunit.Record.ExceptionAsync(() => task().WaitAsync(Patience));
        Xunit.Assert.NotNull(e);
        Xunit.Assert.IsNotType<TimeoutException>(e);
        return e;
    }

    /// <summary>Runs `dotnet PROGRAM ARGS...` (bare certificate names in the arguments expanded)
    /// with TLSBRIDGE_LIBRARY_PATH set to <paramref name="libraryPath"/>, or unset if null.</summary>
    public static async Task<(int Exit, string Output, string Errors)> RunProgramAsync(string program, string? libraryPath, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(program);
        foreach (string arg in args)
            start.ArgumentList.Add(Expand(arg));
        if (libraryPath == null)
            start.Environment.Remove(TlsBridgeLibrary.EnvironmentVariable);
        else
            start.Environment[TlsBridgeLibrary.EnvironmentVariable] = libraryPath;
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Patience);
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>The library this process uses (loaded now if nothing did yet).</summary>
    public static string LoadedLibrary()
    {
        _ = TlsBridgeLibrary.Version;
        return TlsBridgeLibrary.LoadedFrom!;
    }

    // ---- echo

    /// <summary>Echoes until end of stream, then closes in order.</summary>
    public static async Task EchoAsync(Stream stream)
    {
        byte[] buffer = new byte[16384];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
            await stream.WriteAsync(buffer.AsMemory(0, n));
        if (stream is TlsStream tls)
            await tls.ShutdownAsync();
        else if (stream is SslStream ssl)
            await ssl.ShutdownAsync();
    }

    /// <summary>Sends <paramref name="text"/> and checks that the same bytes come back.</summary>
    public static async Task AssertEchoAsync(Stream stream, string text)
    {
        byte[] sent = Encoding.UTF8.GetBytes(text);
        await stream.WriteAsync(sent);
        byte[] back = new byte[sent.Length];
        await stream.ReadExactlyAsync(back).AsTask().WaitAsync(Patience);
        Xunit.Assert.Equal(text, Encoding.UTF8.GetString(back));
    }
}

/// <summary>`tlsbridge serve 0 ...`, stopped (by its own process id) on Dispose.</summary>
internal sealed class ToolServer : IDisposable
{
    private readonly Process _process;

    public ToolServer(params string[] options)
    {
        var start = new ProcessStartInfo(TestEnv.Tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("0");
        foreach (string option in options)
            start.ArgumentList.Add(Peers.Expand(option));
        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, e) => { lock (Errors) Errors.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        Task<string?> line = _process.StandardOutput.ReadLineAsync();
        string? first = line.Wait(Peers.Patience) ? line.Result : null;
        if (first == null || !first.StartsWith("listening on "))
            throw new InvalidOperationException($"tlsbridge serve did not start: {first} {Errors}");
        Port = int.Parse(first["listening on ".Length..]);
    }

    public int Port { get; }

    public StringBuilder Errors { get; } = new();

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}

internal static class ToolClient
{
    /// <summary>Runs `tlsbridge connect 127.0.0.1:PORT ...` with <paramref name="input"/> on stdin.</summary>
    public static async Task<(int Exit, string Output, string Errors)> ConnectAsync(int port, string input, params string[] options)
    {
        var start = new ProcessStartInfo(TestEnv.Tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("connect");
        start.ArgumentList.Add($"127.0.0.1:{port}");
        foreach (string option in options)
            start.ArgumentList.Add(Peers.Expand(option));
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        // Written before the first await: the input must reach the tool (and its end be seen)
        // whatever the test's own threads are doing meanwhile.
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Peers.Patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"tlsbridge connect did not finish: {await errors}");
        }
        return (process.ExitCode, await output, await errors);
    }
}
