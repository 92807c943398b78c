using System;
using System.Collections.Concurrent;
using System.Threading;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>Severity of a message from the core (TLSB_LOG_*).</summary>
public enum TlsLogLevel
{
    Error = 0,
    Warning = 1,
    Info = 2,
    Debug = 3,
}

/// <summary>A mutable bag of name=value options, forwarded to the core as they are: the names
/// and values are the ones every face accepts, and nothing is checked until a context is
/// built from it (<see cref="TlsContext.CreateClient"/>, <see cref="TlsContext.CreateServer"/>).</summary>
public sealed class TlsConfig : IDisposable
{
    private readonly SafeConfigHandle _handle;

    public TlsConfig()
    {
        TlsException.Check(Native.tlsb_config_new(out _handle));
    }

    /// <summary>Sets (or replaces) one option; a null value removes it. Returns this config.</summary>
    public TlsConfig Set(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        TlsException.Check(Native.tlsb_config_set(Handle, Native.CString(name), Native.CString(value)));
        return this;
    }

    /// <summary>Routes the core's messages for contexts built from this config to
    /// <paramref name="log"/> (called on the thread that caused the message); null removes it.</summary>
    public TlsConfig SetLog(Action<TlsLogLevel, string>? log)
    {
        LogSink? sink = log == null ? null : new LogSink(log);
        TlsException.Check(Native.ConfigSetLog(Handle, sink?.Id ?? 0));
        Log = sink;
        return this;
    }

    /// <summary>Kept reachable by every context built from this config while it lives.</summary>
    internal LogSink? Log { get; private set; }

    internal SafeConfigHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle;
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>A log delegate the core can reach by number. The core gets the number, not a
/// GCHandle: a message that arrives after the sink was finalized finds nothing and is dropped,
/// instead of dereferencing a freed handle.</summary>
internal sealed class LogSink
{
    private static readonly ConcurrentDictionary<nint, Action<TlsLogLevel, string>> s_sinks = new();
    private static long s_next;

    internal LogSink(Action<TlsLogLevel, string> log)
    {
        Id = (nint)Interlocked.Increment(ref s_next);
        s_sinks[Id] = log;
    }

    ~LogSink() => s_sinks.TryRemove(Id, out _);

    internal nint Id { get; }

    internal static void Dispatch(nint id, int level, string message)
    {
        if (!s_sinks.TryGetValue(id, out Action<TlsLogLevel, string>? log))
            return;
        try
        {
            log((TlsLogLevel)level, message);
        }
        catch
        {
            // An exception must not unwind into C; the application's logger failed, not TLS.
        }
    }
}
