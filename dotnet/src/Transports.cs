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
/// <c>async</c>); the synchronous one blocks only the calling thread, and the asynchronous one
/// holds no thread while it waits. A wait returns false when <c>timeoutMs</c> (&gt; 0; else no
/// limit) ran out first; the token (the caller's, linked with Dispose's) ends it with
/// <see cref="OperationCanceledException"/>.</summary>
internal abstract class Transport
{
    /// <summary>Makes the native connection (the context decides the role).</summary>
    public abstract SafeConnHandle Create(SafeContextHandle context, string? targetName);

    public abstract ValueTask FlushAsync(SafeConnHandle conn, bool async, CancellationToken cancel);

    public abstract ValueTask<bool> WaitReadableAsync(SafeConnHandle conn, int timeoutMs, bool async, CancellationToken cancel);

    public abstract ValueTask<bool> WaitWritableAsync(SafeConnHandle conn, int timeoutMs, bool async, CancellationToken cancel);

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
            > 0 or (int)TlsStatus.WantRead or (int)TlsStatus.WantWrite => null,
            0 when op is ConnOp.Handshake or ConnOp.Shutdown => null,
            (int)TlsStatus.Closed when op == ConnOp.Read => null,
            // A write (or handshake) after the peer's close_notify cannot go on; counting the
            // status as bytes, or calling again, would spin for ever.
            (int)TlsStatus.Closed => new IOException($"{Name(op)}: the peer has closed the TLS session (close_notify)"),
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

    // The inner stream has its own timeouts, if any: timeoutMs is not for this transport.
    public override async ValueTask<bool> WaitReadableAsync(SafeConnHandle conn, int timeoutMs, bool async, CancellationToken cancel)
    {
        if (async) await _inLock.WaitAsync(cancel).ConfigureAwait(false);
        else _inLock.Wait(cancel);
        try
        {
            if (_eof)
                throw new IOException("the inner stream has ended, but the connection still wants to read");
            int n = async ? await _inner.ReadAsync(_in.AsMemory(), cancel).ConfigureAwait(false)
                : _leaveOpen ? ReadLeftOpen(cancel)
                : _inner.Read(_in, 0, _in.Length);
            Feed(conn, n);
            return true;
        }
        finally
        {
            _inLock.Release();
        }
    }

    // Dispose ends a blocked Read by disposing the inner stream, which it may not do to a stream
    // left open; nothing else ends a blocked Stream.Read. So this read waits for an asynchronous
    // one, which Dispose's token ends (a stream that ignores the token reads on, unobserved).
    private int ReadLeftOpen(CancellationToken cancel)
    {
        ValueTask<int> read = _inner.ReadAsync(_in.AsMemory(), cancel);
        if (read.IsCompleted)
            return read.GetAwaiter().GetResult();
        Task<int> task = read.AsTask();
        Task.WaitAny([task], cancel);
        return task.GetAwaiter().GetResult();
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
    public override async ValueTask<bool> WaitWritableAsync(SafeConnHandle conn, int timeoutMs, bool async, CancellationToken cancel)
    {
        await FlushAsync(conn, async, cancel).ConfigureAwait(false);
        return true;
    }

    public override void Close()
    {
        if (!_leaveOpen)
            _inner.Dispose();
    }
}

/// <summary>Socket mode: the core reads and writes a descriptor of its own, in non-blocking mode,
/// and waits go through a .NET Socket on the same TCP connection: a zero-byte ReceiveAsync
/// (readiness, no thread held) or Poll in short slices for synchronous calls. The Socket is the
/// application's (<c>new TlsStream(socket, ...)</c>: the core gets a duplicate of its descriptor),
/// or for a connection the core made itself (dial, accept) a duplicate of the core's.</summary>
internal sealed class SocketTransport : Transport
{
    private const int SliceMs = 200;

    private readonly Socket _socket;

    public SocketTransport(Socket socket, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!socket.Connected)
            throw new ArgumentException("the socket must be connected", nameof(socket));
        _socket = socket;
        LeaveOpen = leaveOpen;
    }

    /// <summary>Waits for a connection the core made (tlsb_dial, tlsb_accept), which is switched
    /// to non-blocking calls: its waits are then .NET's, which cancel and hold no thread.</summary>
    public static SocketTransport ForConnection(SafeConnHandle conn)
    {
        TlsException.Check(Native.tlsb_conn_set_nonblocking(conn, 1));
        var handle = new SafeSocketHandle(Native.DuplicateDescriptor(conn), ownsHandle: true);
        try
        {
            return new SocketTransport(new Socket(handle), leaveOpen: false);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
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

    public override async ValueTask<bool> WaitReadableAsync(SafeConnHandle conn, int timeoutMs, bool async, CancellationToken cancel)
    {
        if (!async)
            return PollSliced(SelectMode.SelectRead, timeoutMs, cancel);
        if (timeoutMs <= 0)
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancel).ConfigureAwait(false);
            return true;
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timer.CancelAfter(timeoutMs);
        try
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timer.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return false;
        }
    }

    // Sockets have no asynchronous "writable" notification, and the send buffer is full only
    // under back-pressure: an async writer then polls with a growing delay, holding no thread.
    public override async ValueTask<bool> WaitWritableAsync(SafeConnHandle conn, int timeoutMs, bool async, CancellationToken cancel)
    {
        if (!async)
            return PollSliced(SelectMode.SelectWrite, timeoutMs, cancel);
        long deadline = Deadline(timeoutMs);
        for (int delay = 1; !_socket.Poll(TimeSpan.Zero, SelectMode.SelectWrite); delay = Math.Min(delay * 2, 50))
        {
            if (Environment.TickCount64 >= deadline)
                return false;
            await Task.Delay(delay, cancel).ConfigureAwait(false);
        }
        return true;
    }

    private static long Deadline(int timeoutMs) => timeoutMs > 0 ? Environment.TickCount64 + timeoutMs : long.MaxValue;

    // Short slices let a Dispose on another thread end the wait even if nothing wakes poll().
    private bool PollSliced(SelectMode mode, int timeoutMs, CancellationToken cancel)
    {
        long deadline = Deadline(timeoutMs);
        while (true)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
                return false;
            if (_socket.Poll(TimeSpan.FromMilliseconds(Math.Min(left, SliceMs)), mode))
                return true;
            cancel.ThrowIfCancellationRequested();
        }
    }

    public override void Close()
    {
        if (!LeaveOpen)
            _socket.Dispose();
    }
}
