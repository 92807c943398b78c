using System;
using System.Threading;
using System.Threading.Tasks;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>A TCP listener owned by the core (socket mode servers without a .NET Socket), bound
/// to the server context it was made by (<see cref="TlsContext.Listen"/>), as Java's
/// <c>TlsContext.listen</c>. Dispose it before its context.</summary>
public sealed class TlsListener : IDisposable
{
    private const int SliceMs = 200;

    private readonly SafeListenerHandle _handle;
    private readonly TlsContext _context;

    internal TlsListener(TlsContext context, string? host, int port, int backlog)
    {
        _context = context;
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

    /// <summary>Waits for one TCP connection (timeout null, zero or
    /// <see cref="Timeout.InfiniteTimeSpan"/>: no limit) and returns it as a server stream of
    /// the listener's context, not yet authenticated: call
    /// <see cref="TlsStream.AuthenticateAsServer"/>. A <see cref="Stop"/> from another thread
    /// ends the wait with TLSB_ERR_HANDLE_CLOSED.</summary>
    public TlsStream Accept(TimeSpan? timeout = null)
    {
        int timeoutMs = TlsStream.TimeoutMs(timeout);
        TlsException.Check(Native.tlsb_accept(Handle, _context.Handle, timeoutMs, out SafeConnHandle conn));
        return TlsStream.FromNativeConnection(_context, conn);
    }

    /// <summary>As <see cref="Accept"/>, asynchronously; <paramref name="cancellationToken"/>
    /// ends the wait with <see cref="OperationCanceledException"/> (within 200 ms). The core's
    /// accept blocks and offers no descriptor to wait on, so the wait runs on a pool thread in
    /// slices, looking at the token between them.</summary>
    public Task<TlsStream> AcceptAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return Task.Run(() =>
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int rc = Native.tlsb_accept(Handle, _context.Handle, SliceMs, out SafeConnHandle conn);
                if (rc == (int)TlsStatus.Timeout)
                    continue;
                TlsException.Check(rc);
                return TlsStream.FromNativeConnection(_context, conn);
            }
        }, cancellationToken);
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
