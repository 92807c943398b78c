using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using Xunit;

namespace TlsBridge.Tests;

/// <summary>Checks every DllImport of Native.cs against core/tlsbridge.abi by reflection: the
/// same exports, and for each the manifest's return and parameter types.</summary>
public unsafe class AbiManifestTests
{
    private static readonly Type NativeType = typeof(TlsConfig).Assembly.GetType("TlsBridge.Interop.Native", throwOnError: true)!;

    private static Dictionary<string, string[]> Manifest() => File.ReadLines(TestEnv.AbiManifest)
        .Select(line => line.Trim())
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        .ToDictionary(fields => fields[0], fields => fields[1..]);

    private static IEnumerable<(MethodInfo Method, DllImportAttribute Import)> Imports() =>
        NativeType.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Select(m => (m, m.GetCustomAttribute<DllImportAttribute>()))
            .Where(x => x.Item2 != null)
            .Select(x => (x.m, x.Item2!));

    private static string Entry(MethodInfo method, DllImportAttribute import) => import.EntryPoint ?? method.Name;

    /// <summary>The manifest word a declared C# type stands for, or why it stands for none.</summary>
    private static string Kind(Type type, ParameterInfo? parameter, bool isReturn)
    {
        if (type == typeof(void)) return "void";
        if (type == typeof(int)) return "i32";
        if (type == typeof(long)) return "i64";
        if (type == typeof(byte*)) return "bytes";
        if (type.IsFunctionPointer) return "fn";
        if (type == typeof(IntPtr)) return isReturn ? "cstr" : "ptr";
        if (type == typeof(string))
        {
            MarshalAsAttribute? marshal = parameter?.GetCustomAttribute<MarshalAsAttribute>();
            return marshal?.Value == UnmanagedType.LPUTF8Str ? "str" : "string without LPUTF8Str";
        }
        if (typeof(SafeHandle).IsAssignableFrom(type)) return "ptr";
        if (type.IsByRef && parameter is { IsOut: true } && typeof(SafeHandle).IsAssignableFrom(type.GetElementType()))
            return "out";
        return type.FullName ?? type.Name;
    }

    [Fact]
    public void EveryManifestExportIsDeclaredAndEveryDeclarationIsInTheManifest()
    {
        Dictionary<string, string[]> manifest = Manifest();
        List<string> declared = Imports().Where(x => x.Import.Value == "tlsbridge").Select(x => Entry(x.Method, x.Import)).ToList();
        Assert.Equal(declared.Count, declared.Distinct().Count());
        Assert.Equal(manifest.Keys.Order(), declared.Order());
    }

    [Fact]
    public void DeclarationsMatchTheManifestTypes()
    {
        Dictionary<string, string[]> manifest = Manifest();
        var mismatches = new List<string>();
        foreach ((MethodInfo method, DllImportAttribute import) in Imports().Where(x => x.Import.Value == "tlsbridge"))
        {
            string[] expected = manifest[Entry(method, import)];
            var actual = new List<string> { Kind(method.ReturnType, null, isReturn: true) };
            actual.AddRange(method.GetParameters().Select(p => Kind(p.ParameterType, p, isReturn: false)));
            if (!expected.SequenceEqual(actual))
                mismatches.Add($"{method.Name}: manifest {string.Join(' ', expected)}, declared {string.Join(' ', actual)}");
        }
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    /// <summary>The library-owned strings must never be freed by the marshaller: every `cstr`
    /// comes back as IntPtr, never as string.</summary>
    [Fact]
    public void NoDeclarationReturnsAMarshalledString()
    {
        Assert.DoesNotContain(Imports(), x => x.Method.ReturnType == typeof(string));
    }

    /// <summary>Socket mode duplicates a Socket's descriptor; that is the only import from
    /// elsewhere than the core.</summary>
    [Fact]
    public void TheOnlyOtherImportIsLibcFcntl()
    {
        var others = Imports().Where(x => x.Import.Value != "tlsbridge").Select(x => $"{x.Import.Value}!{Entry(x.Method, x.Import)}");
        Assert.Equal(["libc!fcntl"], others);
    }

    /// <summary>name -> value of every enum constant in the header (core/include/tlsbridge.h,
    /// beside the manifest).</summary>
    private static Dictionary<string, int> HeaderConstants()
    {
        string header = Path.Combine(Path.GetDirectoryName(TestEnv.AbiManifest)!, "include", "tlsbridge.h");
        return System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(header), @"\b(TLSB_[A-Z0-9_]+)\s*=\s*(-?\d+)")
            .ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value));
    }

    /// <summary>The one naming rule of TlsStatus: the C name without TLSB_ and ERR_, in
    /// PascalCase (TLSB_ERR_OPTION_VALUE: OptionValue).</summary>
    private static string MemberName(string cName)
    {
        string name = cName["TLSB_".Length..];
        if (name.StartsWith("ERR_"))
            name = name["ERR_".Length..];
        return string.Concat(name.Split('_').Select(word => word[..1] + word[1..].ToLowerInvariant()));
    }

    [Fact]
    public void TlsStatusIsTheHeadersStatusEnum()
    {
        Dictionary<string, int> header = HeaderConstants()
            .Where(c => c.Key is "TLSB_OK" or "TLSB_CLOSED" || c.Key.StartsWith("TLSB_WANT_") || c.Key.StartsWith("TLSB_ERR_"))
            .ToDictionary(c => MemberName(c.Key), c => c.Value);
        Assert.Equal(header.OrderBy(c => c.Key), Enum.GetValues<TlsStatus>().ToDictionary(s => s.ToString(), s => (int)s).OrderBy(c => c.Key));
    }

    [Fact]
    public void NativeConstantsAreTheHeaders()
    {
        Dictionary<string, int> header = HeaderConstants();
        var constants = NativeType.GetFields(BindingFlags.Static | BindingFlags.NonPublic)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int) && f.Name.StartsWith("TLSB_")).ToList();
        Assert.NotEmpty(constants);
        foreach (FieldInfo constant in constants)
            Assert.Equal(header[constant.Name], (int)constant.GetRawConstantValue()!);
        foreach (TlsLogLevel level in Enum.GetValues<TlsLogLevel>())
            Assert.Equal(header[$"TLSB_LOG_{level.ToString().ToUpperInvariant()}"], (int)level);
    }

    [Fact]
    public void EveryStatusOfTheEnumHasTheCoresName()
    {
        foreach (TlsStatus status in Enum.GetValues<TlsStatus>())
            Assert.Equal(status.ToString(), MemberName(new TlsException(status, "").StatusName));
    }
}
