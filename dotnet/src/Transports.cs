using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>One native operation of a connection, as <see cref="TlsStream"/> drives it.</summary>
internal enum ConnOp
{
    Handshake,
    Read,
    Write,
    Shutdown,
}

/// <summary>Moves a connection's ciphertext. <see cref="TlsStream"/> runs the same loop over
/// both: call the core, flush what it produced, and on TLSB_WANT_READ / TLSB_WANT_WRITE wait
/// for the transport. Every wait has a synchronous and an asynchronous form (the flag
/// <c>async</c>); the synchronous one completes synchronously, so sync calls never wait on tasks.</summary>
internal abstract class Transport
{
    /// <summary>Makes the native connection (the context decides the role).</summary>
    public abstract SafeConnHandle Create(SafeContextHandle context, string? targetName);

    /// <summary>True when <see cref="Invoke"/> may block the calling thread.</summary>
    public virtual bool InvokeBlocks => false;

    public abstract ValueTask FlushAsync(SafeConnHandle conn, bool async, CancellationToken cancel);

    public abstract ValueTask WaitReadableAsync(SafeConnHandle conn, bool async, CancellationToken cancel);

    public abstract ValueTask WaitWritableAsync(SafeConnHandle conn, bool async, CancellationToken cancel);

    /// <summary>Releases what the transport owns (the inner stream or the socket).</summary>
    public abstract void Close();

    /// <summary>Calls the core; a failure is turned into its exception at once, on this thread,
    /// because the message is thread-local. What is left is progress: bytes, TLSB_OK, TLSB_WANT_*,
    /// or (reads only) TLSB_CLOSED, the end of the stream.</summary>
    public static unsafe int Invoke(SafeConnHandle conn, ConnOp op, nint buffer, int length, out Exception? error)
    {
        int rc = op switch
        {
            ConnOp.Handshake => Native.tlsb_conn_handshake(conn),
            ConnOp.Read => Native.tlsb_conn_read(conn, (byte*)buffer, length),
            ConnOp.Write => Native.tlsb_conn_write(conn, (byte*)buffer, length),
            _ => Native.tlsb_conn_shutdown(conn),
        };
        error = rc switch
        {
            > 0 or (int)TlsStatus.TLSB_WANT_READ or (int)TlsStatus.TLSB_WANT_WRITE => null,
            0 when op is ConnOp.Handshake or ConnOp.Shutdown => null,
            (int)TlsStatus.TLSB_CLOSED when op == ConnOp.Read => null,
            // A write (or handshake) after the peer's close_notify cannot go on; counting the
            // status as bytes, or calling again, would spin for ever.
            (int)TlsStatus.TLSB_CLOSED => new IOException($"{Name(op)}: the peer has closed the TLS session (close_notify)"),
            0 => new IOException($"{Name(op)}: the connection moved no bytes"),
            _ => TlsException.FromLastError(rc),
        };
        return rc;
    }

    /// <summary>The operation's word in the core's messages ("read", "write", ...).</summary>
    public static string Name(ConnOp op) => op.ToString().ToLowerInvariant();
}

/// <summary>Buffer mode: the core holds no socket; ciphertext goes through any Stream.
/// Nothing blocks a thread in async use: waits are the inner stream's ReadAsync/WriteAsync.</summary>
internal sealed class BufferTransport : Transport
{
    // One TLS record (16 KiB) plus header and expansion fits either buffer.
    private const int BufferSize = 17 * 1024;

    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly byte[] _in = new byte[BufferSize];
    private readonly byte[] _out = new byte[BufferSize];
    // Drained bytes must reach the inner stream in drain order: drain + write is one step.
    private readonly SemaphoreSlim _outLock = new(1, 1);
    // A write may need to read (TLSB_WANT_READ) while a read is pending: one inner reader.
    private readonly SemaphoreSlim _inLock = new(1, 1);
    private bool _eof;

    public BufferTransport(Stream inner, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!inner.CanRead || !inner.CanWrite)
            throw new ArgumentException("the inner stream must be readable and writable", nameof(inner));
        _inner = inner;
        _leaveOpen = leaveOpen;
    }

    public override SafeConnHandle Create(SafeContextHandle context, string? targetName)
    {
        TlsException.Check(Native.tlsb_conn_new_buffer(context, Native.CString(targetName), out SafeConnHandle conn));
        return conn;
    }

    public override async ValueTask FlushAsync(SafeConnHandle conn, bool async, CancellationToken cancel)
    {
        if (async) await _outLock.WaitAsync(cancel).ConfigureAwait(false);
        else _outLock.Wait(cancel);
        try
        {
            bool wrote = false;
            int n;
            while ((n = Drain(conn)) > 0)
            {
                wrote = true;
                if (async) await _inner.WriteAsync(_out.AsMemory(0, n), cancel).ConfigureAwait(false);
                else _inner.Write(_out, 0, n);
            }
            if (wrote)
            {
                if (async) await _inner.FlushAsync(cancel).ConfigureAwait(false);
                else _inner.Flush();
            }
        }
        finally
        {
            _outLock.Release();
        }
    }

    private unsafe int Drain(SafeConnHandle conn)
    {
        fixed (byte* p = _out)
        {
            int n = Native.tlsb_conn_drain(conn, p, _out.Length);
            TlsException.Check(n);
            return n;
        }
    }

    public override async ValueTask WaitReadableAsync(SafeConnHandle conn, bool async, CancellationToken cancel)
    {
        if (async) await _inLock.WaitAsync(cancel).ConfigureAwait(false);
        else _inLock.Wait(cancel);
        try
        {
            if (_eof)
                throw new IOException("the inner stream has ended, but the connection still wants to read");
            int n = async
                ? await _inner.ReadAsync(_in.AsMemory(), cancel).ConfigureAwait(false)
                : _inner.Read(_in, 0, _in.Length);
            Feed(conn, n);
        }
        finally
        {
            _inLock.Release();
        }
    }

    private unsafe void Feed(SafeConnHandle conn, int n)
    {
        if (n == 0)
        {
            _eof = true;
            TlsException.Check(Native.tlsb_conn_feed_eof(conn));
            return;
        }
        fixed (byte* p = _in)
            TlsException.Check(Native.tlsb_conn_feed(conn, p, n));
    }

    // The core's output buffer grows as needed, so TLSB_WANT_WRITE only asks for a drain.
    public override ValueTask WaitWritableAsync(SafeConnHandle conn, bool async, CancellationToken cancel) =>
        FlushAsync(conn, async, cancel);

    public override void Close()
    {
        if (!_leaveOpen)
            _inner.Dispose();
    }
}

/// <summary>Socket mode over an application's connected Socket. The core gets a duplicate of
/// the descriptor, in non-blocking mode, and waits go through the .NET Socket: a zero-byte
/// ReceiveAsync (readiness, no thread held) or Poll in short slices for synchronous calls.</summary>
internal sealed class SocketTransport : Transport
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(200);

    private readonly Socket _socket;

    public SocketTransport(Socket socket, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!socket.Connected)
            throw new ArgumentException("the socket must be connected", nameof(socket));
        _socket = socket;
        LeaveOpen = leaveOpen;
    }

    /// <summary>The application keeps the socket (and its connection) after the stream.</summary>
    public bool LeaveOpen { get; }

    public override SafeConnHandle Create(SafeContextHandle context, string? targetName)
    {
        string? name = Native.CString(targetName);
        _socket.Blocking = false;
        int fd = Native.DuplicateDescriptor(_socket);
        int rc = Native.tlsb_conn_new_socket(context, fd, name, out SafeConnHandle conn);
        if (rc < 0)
        {
            TlsException error = TlsException.FromLastError(rc);
            // Ownership passes to the core only on success; close the duplicate ourselves.
            new SafeSocketHandle(fd, ownsHandle: true).Dispose();
            throw error;
        }
        return conn;
    }

    public override ValueTask FlushAsync(SafeConnHandle conn, bool async, CancellationToken cancel) => default;

    public override async ValueTask WaitReadableAsync(SafeConnHandle conn, bool async, CancellationToken cancel)
    {
        if (async)
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancel).ConfigureAwait(false);
        else
            PollSliced(SelectMode.SelectRead, cancel);
    }

    // Sockets have no asynchronous "writable" notification, and the send buffer is full only
    // under back-pressure: an async writer then polls with a growing delay, holding no thread.
    public override async ValueTask WaitWritableAsync(SafeConnHandle conn, bool async, CancellationToken cancel)
    {
        if (!async)
        {
            PollSliced(SelectMode.SelectWrite, cancel);
            return;
        }
        for (int delay = 1; !_socket.Poll(TimeSpan.Zero, SelectMode.SelectWrite); delay = Math.Min(delay * 2, 50))
            await Task.Delay(delay, cancel).ConfigureAwait(false);
    }

    // Short slices let a Dispose on another thread end the wait even if nothing wakes poll().
    private void PollSliced(SelectMode mode, CancellationToken cancel)
    {
        while (!_socket.Poll(Slice, mode))
            cancel.ThrowIfCancellationRequested();
    }

    public override void Close()
    {
        if (!LeaveOpen)
            _socket.Dispose();
    }
}

/// <summary>Socket mode over a connection the core dialled or accepted: the core waits for its
/// socket itself (blocking), so an async call runs the native call on a pool thread, and
/// Dispose wakes it through tlsb_conn_close. It holds nothing: one instance serves every
/// such stream, which gets its connection when it is made.</summary>
internal sealed class CoreSocketTransport : Transport
{
    public static readonly CoreSocketTransport Instance = new();

    private CoreSocketTransport()
    {
    }

    public override bool InvokeBlocks => true;

    public override SafeConnHandle Create(SafeContextHandle context, string? targetName) =>
        throw new InvalidOperationException("a core socket stream has its connection from the start");

    public override ValueTask FlushAsync(SafeConnHandle conn, bool async, CancellationToken cancel) => default;

    // A blocking connection never answers TLSB_WANT_*; getting one is a core bug, not a wait.
    public override ValueTask WaitReadableAsync(SafeConnHandle conn, bool async, CancellationToken cancel) =>
        throw new InvalidOperationException("a blocking connection asked to wait for input");

    public override ValueTask WaitWritableAsync(SafeConnHandle conn, bool async, CancellationToken cancel) =>
        throw new InvalidOperationException("a blocking connection asked to wait for output");

    public override void Close()
    {
    }
}
