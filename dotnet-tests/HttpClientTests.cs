using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>HttpClient through SocketsHttpHandler.ConnectCallback over a TlsStream, against a
/// small HTTPS responder on SslStream.</summary>
public class HttpClientTests
{
    private const string Page = "<html><body>served over SslStream, fetched over tlsbridge</body></html>";

    /// <summary>Answers one request per connection; records the SNI and request line it got.</summary>
    private sealed class HttpsResponder : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public HttpsResponder()
        {
            _listener.Start();
            Serving = ServeAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public Task Serving { get; }
        public string? ServerName { get; private set; }
        public string? RequestLine { get; private set; }

        private async Task ServeAsync()
        {
            using Socket socket = await _listener.AcceptSocketAsync();
            using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await ssl.AuthenticateAsServerAsync(Peers.SslServer());
            ServerName = ssl.TargetHostName;
            var reader = new StreamReader(ssl, Encoding.ASCII);
            RequestLine = await reader.ReadLineAsync();
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync())) { }
            byte[] body = Encoding.UTF8.GetBytes(Page);
            string head = $"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
            await ssl.WriteAsync(Encoding.ASCII.GetBytes(head));
            await ssl.WriteAsync(body);
            await ssl.ShutdownAsync();
        }

        public void Dispose() => _listener.Stop();
    }

    private static HttpClient Client(TlsContext context) => new(TlsHttp.CreateHandler(context));

    [Fact]
    public async Task HttpClientFetchesAPageOverTlsStream()
    {
        using var responder = new HttpsResponder();
        using TlsContext context = Peers.TrustingClient();
        using HttpClient client = Client(context);
        string page = await client.GetStringAsync($"http://localhost:{responder.Port}/index.html").WaitAsync(Peers.Patience);
        Assert.Equal(Page, page);
        await responder.Serving.WaitAsync(Peers.Patience);
        Assert.Equal("localhost", responder.ServerName);
        Assert.Equal("GET /index.html HTTP/1.1", responder.RequestLine);
    }

    [Fact]
    public async Task HttpGetExampleFetchesAPage()
    {
        using var responder = new HttpsResponder();
        (int exit, string output, string errors) = await Peers.RunProgramAsync(TestEnv.HttpGet, Peers.LoadedLibrary(),
            $"https://localhost:{responder.Port}/example", "trusted-ca=ca.pem");
        Assert.True(exit == 0, errors);
        Assert.Equal(Page, output);
        Assert.Equal("GET /example HTTP/1.1", responder.RequestLine);
    }

    [Fact]
    public async Task HttpClientSeesTheVerificationFailure()
    {
        using var responder = new HttpsResponder();
        using TlsContext context = Peers.Client("trusted-ca=other-ca.pem");
        using HttpClient client = Client(context);
        var e = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.GetStringAsync($"http://localhost:{responder.Port}/").WaitAsync(Peers.Patience));
        Assert.Equal(TlsStatus.Verify, Assert.IsType<TlsException>(e.InnerException).Status);
    }
}
