using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>Finds and loads libtlsbridge.so.1, and tells about the loaded library.</summary>
/// <remarks>Order: <see cref="LibraryPath"/> if set in code, else the environment variable
/// TLSBRIDGE_LIBRARY_PATH (a file, or a directory holding libtlsbridge.so.1): an explicit path is
/// the only one tried. Otherwise the app's native search directories (where the .NET host puts
/// the TlsBridge package's runtimes/linux-x64/native/libtlsbridge.so.1, and the app's own
/// directory), then the directory of this assembly, then the system loader (LD_LIBRARY_PATH,
/// ld.so.cache). A failure names every path tried.</remarks>
public static class TlsBridgeLibrary
{
    public const string EnvironmentVariable = "TLSBRIDGE_LIBRARY_PATH";
    private const string SoName = "libtlsbridge.so.1";

    private static string? s_libraryPath;
    private static string? s_loadedFrom;

    /// <summary>A file or a directory to load the library from; set it before the first use of
    /// any TlsBridge type that calls the core. Takes precedence over TLSBRIDGE_LIBRARY_PATH.</summary>
    public static string? LibraryPath
    {
        get => s_libraryPath;
        set
        {
            if (s_loadedFrom != null)
                throw new InvalidOperationException($"libtlsbridge is already loaded from {s_loadedFrom}");
            s_libraryPath = value;
        }
    }

    /// <summary>Where the library was loaded from; null before the first native call.</summary>
    public static string? LoadedFrom => s_loadedFrom;

    /// <summary>The core's version, e.g. "1.0.0".</summary>
    public static string Version => Native.Version;

    /// <summary>The OpenSSL the core is linked with.</summary>
    public static string OpenSslVersion => Native.OpenSslVersion;

    /// <summary>True when TLSBRIDGE_COMPAT_MODE (or GCTI_SECPACK_COMPAT_MODE) was set at start.</summary>
    public static bool CompatMode => Native.tlsb_compat_mode() == 1;

#pragma warning disable CA2255 // the resolver must be in place before any P/Invoke of this assembly
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => NativeLibrary.SetDllImportResolver(typeof(TlsBridgeLibrary).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Native.Library)
            return IntPtr.Zero;
        var tried = new List<string>();
        foreach (string candidate in Candidates(assembly))
        {
            tried.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                s_loadedFrom = candidate;
                return handle;
            }
        }
        throw new DllNotFoundException(
            $"cannot load {SoName}; tried: {string.Join(", ", tried)} (set {EnvironmentVariable} or TlsBridgeLibrary.LibraryPath)");
    }

    private static IEnumerable<string> Candidates(Assembly assembly)
    {
        string? configured = s_libraryPath ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            if (Directory.Exists(configured))
            {
                yield return Path.Combine(configured, SoName);
                yield return Path.Combine(configured, "libtlsbridge.so");
            }
            else
            {
                yield return configured;
            }
            yield break; // an explicit choice is never silently replaced by another copy
        }
        // The host's list for this app: the package's native asset folder (from deps.json) and the
        // app's directory. DllImport's own probing would look there for libtlsbridge.so, not .so.1.
        var directories = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirectories)
            directories.AddRange(searchDirectories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        string? assemblyDirectory = Path.GetDirectoryName(assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDirectory))
            directories.Add(assemblyDirectory);
        var seen = new HashSet<string>();
        foreach (string directory in directories)
        {
            string candidate = Path.Combine(Path.GetFullPath(directory), SoName);
            if (seen.Add(candidate))
                yield return candidate;
        }
        yield return SoName; // the system loader's own search
    }
}
