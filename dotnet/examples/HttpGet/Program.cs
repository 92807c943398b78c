// HttpGet https://HOST:PORT/PATH [NAME=VALUE...]: prints the page HttpClient fetches with TLS
// done by tlsbridge (TlsHttp.CreateHandler). The handler is given the http:// form of the
// address so that it adds no TLS of its own.
using System;
using System.Net.Http;
using TlsBridge;

if (args.Length < 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out Uri? url) || url.Scheme != "https")
{
    Console.Error.WriteLine("usage: TlsBridge.HttpGet https://HOST:PORT/PATH [NAME=VALUE...]");
    return 2;
}

try
{
    using var config = new TlsConfig();
    foreach (string option in args[1..])
    {
        int eq = option.IndexOf('=');
        config.Set(option[..Math.Max(eq, 0)], option[(eq + 1)..]);
    }
    using TlsContext context = TlsContext.CreateClient(config);
    using var client = new HttpClient(TlsHttp.CreateHandler(context));
    Console.Write(await client.GetStringAsync(new UriBuilder(url) { Scheme = "http", Port = url.Port }.Uri));
    return 0;
}
catch (TlsException e)
{
    Console.Error.WriteLine($"{e.StatusName}: {e.Message}");
    return 1;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine(e.InnerException is TlsException tls ? $"{tls.StatusName}: {tls.Message}" : e.Message);
    return 1;
}
