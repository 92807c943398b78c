using System;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>A TCP listener owned by the core (socket mode servers without a .NET Socket).</summary>
public sealed class TlsListener : IDisposable
{
    private readonly SafeListenerHandle _handle;

    /// <summary>Listens on <paramref name="host"/> (null or "": all interfaces) and
    /// <paramref name="port"/> (0: any free port; see <see cref="Port"/>).</summary>
    public TlsListener(string? host, int port, int backlog = 128)
    {
        TlsException.Check(Native.tlsb_listen(Native.CString(host), port, backlog, out _handle));
    }

    /// <summary>The bound port.</summary>
    public int Port
    {
        get
        {
            int port = Native.tlsb_listener_port(Handle);
            TlsException.Check(port);
            return port;
        }
    }

    /// <summary>Waits for one TCP connection (timeout null: no limit) and returns it as a
    /// server stream of <paramref name="context"/>, not yet authenticated: call
    /// <see cref="TlsStream.AuthenticateAsServer"/>. A <see cref="Stop"/> from another thread
    /// ends the wait with TLSB_ERR_HANDLE_CLOSED.</summary>
    public TlsStream Accept(TlsContext context, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        TlsException.Check(Native.tlsb_accept(Handle, context.Handle, TlsStream.TimeoutMs(timeout), out SafeConnHandle conn));
        return TlsStream.FromNativeConnection(context, conn);
    }

    /// <summary>Stops listening; safe from any thread. Idempotent.</summary>
    public void Stop()
    {
        if (!_handle.IsClosed)
            TlsException.Check(Native.tlsb_listener_close(_handle));
    }

    private SafeListenerHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle;
        }
    }

    public void Dispose()
    {
        if (_handle.IsClosed)
            return;
        try
        {
            Native.tlsb_listener_close(_handle);
        }
        catch (ObjectDisposedException)
        {
        }
        _handle.Dispose();
    }
}
