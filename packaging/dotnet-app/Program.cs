// A new user's first TlsBridge program (packaging/check.sh): a client for the C example's echo
// server, built once from the TlsBridge package and once with a ProjectReference, and run with no
// environment variable. Usage: App client PORT CA.pem
using System;
using System.Text;
using TlsBridge;

if (args.Length != 3 || args[0] != "client")
{
    Console.Error.WriteLine("usage: App client PORT CA.pem");
    return 2;
}
const string Hello = "hello from .NET";
using var config = new TlsConfig().Set("trusted-ca", args[2]);
using var context = TlsContext.CreateClient(config);
using var stream = TlsStream.Connect(context, "localhost", int.Parse(args[1]));
stream.Write(Encoding.UTF8.GetBytes(Hello));
var echo = new byte[64];
int n = stream.Read(echo);
string text = Encoding.UTF8.GetString(echo, 0, n);
Console.WriteLine($"version: {stream.NegotiatedProtocol}");
Console.WriteLine($"library: {TlsBridgeLibrary.LoadedFrom}");
Console.WriteLine($"echo: {text}");
return text == Hello ? 0 : 1;
