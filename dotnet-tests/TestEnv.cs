using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading;

namespace TlsBridge.Tests;

/// <summary>Where the tests find their inputs: the environment variables of
/// docs/faces-contract.md (set by CTest), or, under a plain `dotnet test`, the same files in the
/// repository and in the build tree named by TLSB_BUILD_DIR (default: build/).</summary>
internal static class TestEnv
{
    private static readonly string RepositoryRoot = typeof(TestEnv).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    private static readonly string BuildDir =
        Environment.GetEnvironmentVariable("TLSB_BUILD_DIR") ?? Path.Combine(RepositoryRoot, "build");

    private static readonly Lazy<string> LazyCerts = new(FindOrMakeCerts, LazyThreadSafetyMode.ExecutionAndPublication);

#pragma warning disable CA2255 // the library path must be chosen before the first native call
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void UseBuildTreeLibrary()
    {
        string library = Path.Combine(BuildDir, "lib", "libtlsbridge.so.1");
        if (Environment.GetEnvironmentVariable(TlsBridgeLibrary.EnvironmentVariable) == null && File.Exists(library))
            TlsBridgeLibrary.LibraryPath = library;
    }

    public static string Certs => LazyCerts.Value;

    public static string Cert(string file) => Path.Combine(Certs, file);

    public static string Tool => Existing("TLSB_TOOL", Path.Combine(BuildDir, "bin", "tlsbridge"));

    public static string Vectors => Existing("TLSB_VECTORS", Path.Combine(RepositoryRoot, "c-tests", "vectors", "options.vec"));

    public static string AbiManifest => Existing("TLSB_ABI_MANIFEST", Path.Combine(RepositoryRoot, "core", "tlsbridge.abi"));

    public static string Demo => Existing("TLSB_DOTNET_DEMO", Path.Combine(BuildDir, "dotnet", "demo", "TlsBridge.Demo.dll"));

    public static string HttpGet => Existing("TLSB_DOTNET_HTTPGET", Path.Combine(BuildDir, "dotnet", "examples", "TlsBridge.HttpGet.dll"));

    private static string Existing(string variable, string fallback)
    {
        string path = Environment.GetEnvironmentVariable(variable) ?? fallback;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{variable}: {path} does not exist (set {variable}, or TLSB_BUILD_DIR for the build tree)");
        return path;
    }

    private static string FindOrMakeCerts()
    {
        string? dir = Environment.GetEnvironmentVariable("TLSB_TEST_CERTS");
        if (dir != null)
        {
            if (!File.Exists(Path.Combine(dir, "ca.pem")))
                throw new DirectoryNotFoundException($"TLSB_TEST_CERTS: {dir} holds no ca.pem");
            return dir;
        }
        dir = Path.Combine(Path.GetTempPath(), $"tlsbridge-dotnet-certs-{Environment.ProcessId}");
        var run = Process.Start(new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(RepositoryRoot, "c-tests", "certs", "make-certs.sh"), dir },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string errors = run.StandardError.ReadToEnd();
        run.WaitForExit();
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"make-certs.sh failed: {errors}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        return dir;
    }
}
