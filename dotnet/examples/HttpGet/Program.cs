// HttpGet https://HOST:PORT/PATH [NAME=VALUE...]: prints the page fetched by HttpClient, with
// TLS done by tlsbridge. The handler is given an http:// address so that it does not add TLS
// of its own; ConnectCallback returns the TlsStream and HttpClient speaks HTTP through it.
using System;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading.Tasks;
using TlsBridge;

if (args.Length < 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out Uri? url) || url.Scheme != "https")
{
    Console.Error.WriteLine("usage: TlsBridge.HttpGet https://HOST:PORT/PATH [NAME=VALUE...]");
    return 2;
}

using var config = new TlsConfig();
foreach (string option in args[1..])
{
    int eq = option.IndexOf('=');
    config.Set(option[..Math.Max(eq, 0)], option[(eq + 1)..]);
}
using TlsContext context = TlsContext.CreateClient(config);

var handler = new SocketsHttpHandler
{
    ConnectCallback = async (connection, cancel) =>
    {
        var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(connection.DnsEndPoint, cancel);
            var tls = new TlsStream(new NetworkStream(tcp, ownsSocket: true), context);
            await tls.AuthenticateAsClientAsync(connection.DnsEndPoint.Host, cancel);
            return tls;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    },
};
using var client = new HttpClient(handler);
var plain = new UriBuilder(url) { Scheme = "http", Port = url.Port };
try
{
    Console.Write(await client.GetStringAsync(plain.Uri));
    return 0;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine(e.InnerException is TlsException tls ? $"{tls.StatusName}: {tls.Message}" : e.Message);
    return 1;
}
