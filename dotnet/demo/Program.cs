// Demo client: HOST PORT [NAME=VALUE...]. Connects, sends "hello from dotnet\n", reads the echo
// and prints the negotiated details in the lines every face's demo prints.
using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using TlsBridge;

if (args.Length < 2 || !int.TryParse(args[1], out int port))
{
    Console.Error.WriteLine("usage: TlsBridge.Demo HOST PORT [NAME=VALUE...]");
    return 2;
}
string host = args[0];

// In the build tree the library sits in <build>/lib, two levels above <build>/dotnet/demo.
string buildTreeLibrary = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "lib", "libtlsbridge.so.1"));
if (Environment.GetEnvironmentVariable(TlsBridgeLibrary.EnvironmentVariable) == null && File.Exists(buildTreeLibrary))
    TlsBridgeLibrary.LibraryPath = buildTreeLibrary;

try
{
    using var config = new TlsConfig();
    for (int i = 2; i < args.Length; i++)
    {
        int eq = args[i].IndexOf('=');
        if (eq <= 0)
        {
            Console.Error.WriteLine($"not NAME=VALUE: {args[i]}");
            return 2;
        }
        config.Set(args[i][..eq], args[i][(eq + 1)..]);
    }
    using var context = TlsContext.CreateClient(config);
    using var tcp = new TcpClient(host, port);
    using var tls = new TlsStream(tcp.GetStream(), context);
    tls.AuthenticateAsClient(host);

    byte[] hello = Encoding.UTF8.GetBytes("hello from dotnet\n");
    tls.Write(hello);
    byte[] echo = new byte[hello.Length];
    tls.ReadExactly(echo);
    tls.Shutdown();

    Console.WriteLine($"version: {tls.NegotiatedProtocol}");
    Console.WriteLine($"cipher: {tls.Cipher} (IANA {tls.CipherSuite})");
    Console.WriteLine($"peer: {tls.PeerSubject}");
    Console.WriteLine($"issuer: {tls.PeerIssuer}");
    Console.WriteLine($"verify: {tls.VerifyResult}");
    Console.WriteLine($"echo: {(echo.AsSpan().SequenceEqual(hello) ? "ok" : "mismatch")}");
    return echo.AsSpan().SequenceEqual(hello) ? 0 : 1;
}
catch (TlsException e)
{
    Console.Error.WriteLine($"{e.StatusName}: {e.Message}");
    return 1;
}
catch (Exception e) when (e is IOException or SocketException or DllNotFoundException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
