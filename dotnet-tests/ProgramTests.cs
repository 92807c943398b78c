using System;
using System.IO;
using System.Threading.Tasks;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>The demo client (run as `tlsbridge demo` runs it) and the library loader, each in a
/// process of its own.</summary>
public class ProgramTests
{
    private static Task<(int Exit, string Output, string Errors)> RunDemoAsync(string? libraryPath, params string[] args) =>
        Peers.RunProgramAsync(TestEnv.Demo, libraryPath, args);

    /// <summary>Without TLSBRIDGE_LIBRARY_PATH: the demo sets TlsBridgeLibrary.LibraryPath in
    /// code, to the library of the build tree it sits in.</summary>
    [Fact]
    public async Task DemoClientPrintsTheContractLines()
    {
        using var server = new ToolServer("certificate=server.pem", "certificate-key=server.key");
        (int exit, string output, string errors) = await RunDemoAsync(null, "localhost", server.Port.ToString(),
            "trusted-ca=ca.pem", "cipher-list=TLS_AES_256_GCM_SHA384");
        Assert.True(exit == 0, errors);
        Assert.Equal(
            "version: TLSv1.3\n" +
            "cipher: TLS_AES_256_GCM_SHA384 (IANA TLS_AES_256_GCM_SHA384)\n" +
            "peer: CN=localhost,O=tlsbridge tests\n" +
            "issuer: CN=tlsbridge Test CA,O=tlsbridge tests\n" +
            "verify: ok\n" +
            "echo: ok\n", output);
    }

    [Fact]
    public async Task DemoClientReportsAVerificationFailure()
    {
        using var server = new ToolServer("certificate=untrusted.pem", "certificate-key=untrusted.key");
        (int exit, string output, string errors) = await RunDemoAsync(Peers.LoadedLibrary(), "localhost", server.Port.ToString(), "trusted-ca=ca.pem");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("TLSB_ERR_VERIFY: ", errors);
    }

    [Fact]
    public async Task LoadFailureNamesThePathsTried()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir", "libtlsbridge.so.1");
        (int exit, _, string errors) = await RunDemoAsync(missing, "localhost", "1");
        Assert.Equal(1, exit);
        Assert.Contains($"tried: {missing}", errors);
        Assert.Contains(TlsBridgeLibrary.EnvironmentVariable, errors);
    }

    [Fact]
    public void LibraryReportsItsVersions()
    {
        Assert.Equal("1.0.0", TlsBridgeLibrary.Version);
        Assert.StartsWith("OpenSSL 3.", TlsBridgeLibrary.OpenSslVersion);
        Assert.NotNull(TlsBridgeLibrary.LoadedFrom);
        Assert.Throws<InvalidOperationException>(() => TlsBridgeLibrary.LibraryPath = "/elsewhere");
    }
}
