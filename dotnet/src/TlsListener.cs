using System;
using System.Threading;
using System.Threading.Tasks;
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

    /// <summary>As <see cref="Accept"/>, asynchronously; <paramref name="cancellationToken"/>
    /// ends the wait with <see cref="OperationCanceledException"/> (within <see cref="SliceMs"/>).
    /// The core's accept blocks and offers no descriptor to wait on, so the wait runs on a pool
    /// thread in slices, looking at the token between them.</summary>
    public Task<TlsStream> AcceptAsync(TlsContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return Task.Run(() =>
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int rc = Native.tlsb_accept(Handle, context.Handle, SliceMs, out SafeConnHandle conn);
                if (rc == (int)TlsStatus.Timeout)
                    continue;
                TlsException.Check(rc);
                return TlsStream.FromNativeConnection(context, conn);
            }
        }, cancellationToken);
    }

    private const int SliceMs = 200;

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
