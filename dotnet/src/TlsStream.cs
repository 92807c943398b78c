using System;
using System.Buffers;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using TlsBridge.Interop;

namespace TlsBridge;

/// <summary>A TLS connection as a Stream, in the manner of SslStream; the core does all TLS.</summary>
/// <remarks>
/// Buffer mode (<see cref="TlsStream(Stream, TlsContext, bool)"/>) runs over any readable and
/// writable Stream; socket mode (<see cref="TlsStream(Socket, TlsContext, bool)"/>,
/// <see cref="Connect(TlsContext, string, int, TimeSpan?)"/>, <see cref="TlsListener.Accept"/>)
/// lets the core read and write the descriptor itself, without blocking: waits are .NET's, so
/// that an async call holds no thread and a token cancels it. One read and one write may run at
/// the same time, as with SslStream. Dispose is idempotent and may be called from any thread: a
/// read or write in progress then ends with <see cref="ObjectDisposedException"/>. Dispose sends
/// close_notify if the handshake is done, best effort and waiting at most a second (or the
/// stream's timeout, if shorter); <see cref="ShutdownAsync"/> sends it with errors reported.
/// </remarks>
public sealed class TlsStream : Stream
{
    private readonly TlsContext _context;
    private readonly Transport _transport;
    // Made on first use (see DisposedToken): a stream that never waits never needs one.
    private CancellationTokenSource? _disposedSource;
    private SafeConnHandle? _conn;
    private int _authenticating;
    private int _disposeStarted;
    // The limit of each wait in socket mode, in ms; 0: none.
    private int _timeoutMs;
    private volatile bool _authenticated;

    /// <summary>Buffer mode over <paramref name="innerStream"/> (a NetworkStream, a pipe, ...).</summary>
    public TlsStream(Stream innerStream, TlsContext context, bool leaveInnerStreamOpen = false)
        : this(context, new BufferTransport(innerStream, leaveInnerStreamOpen))
    {
    }

    /// <summary>Socket mode over a connected <paramref name="socket"/>: the core reads and writes
    /// the TCP connection itself. The socket is switched to non-blocking.</summary>
    public TlsStream(Socket socket, TlsContext context, bool leaveSocketOpen = false)
        : this(context, new SocketTransport(socket, leaveSocketOpen))
    {
    }

    private TlsStream(TlsContext context, Transport transport, SafeConnHandle? conn = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _transport = transport;
        _conn = conn;
    }

    /// <summary>Dials host:port with the core (socket mode) and completes the client handshake;
    /// the target name is <paramref name="host"/> unless tls-target-name says otherwise.
    /// <paramref name="timeout"/> bounds the TCP connect and each wait of the handshake (null,
    /// zero or <see cref="Timeout.InfiniteTimeSpan"/>: no limit); an expired one throws
    /// <see cref="TlsException"/> TLSB_ERR_TIMEOUT.</summary>
    public static TlsStream Connect(TlsContext context, string host, int port, TimeSpan? timeout = null) =>
        Connect(context, host, port, timeout, null);

    /// <summary>As <see cref="Connect(TlsContext, string, int, TimeSpan?)"/>, offering
    /// <paramref name="sessionToResume"/> (from <see cref="ExportSession"/>; null: none) for
    /// resumption, as <see cref="SessionToResume"/> does; <see cref="IsSessionReused"/> tells
    /// whether the server took it. A session from a context with other settings, or for another
    /// target name, throws <see cref="TlsException"/> before the handshake.</summary>
    public static TlsStream Connect(TlsContext context, string host, int port, TimeSpan? timeout, byte[]? sessionToResume)
    {
        int timeoutMs = TimeoutMs(timeout);
        TlsStream stream = FromNativeConnection(context, Dial(context, host, port, timeoutMs));
        stream.ConnectHandshakeAsync(sessionToResume, timeoutMs, async: false, default).GetAwaiter().GetResult();
        return stream;
    }

    /// <summary>As <see cref="Connect(TlsContext, string, int, TimeSpan?)"/>, asynchronously:
    /// the handshake's waits hold no thread, and <paramref name="cancellationToken"/> (which
    /// can also carry a time limit) ends the call with <see cref="OperationCanceledException"/>.
    /// The TCP connect is the core's, which blocks: it runs on a pool thread, and a cancelled
    /// one is abandoned (its connection, if made, freed).</summary>
    public static Task<TlsStream> ConnectAsync(TlsContext context, string host, int port, CancellationToken cancellationToken = default) =>
        ConnectAsync(context, host, port, null, cancellationToken);

    /// <summary>As <see cref="ConnectAsync(TlsContext, string, int, CancellationToken)"/>,
    /// offering <paramref name="sessionToResume"/> as
    /// <see cref="Connect(TlsContext, string, int, TimeSpan?, byte[])"/> does.</summary>
    public static async Task<TlsStream> ConnectAsync(TlsContext context, string host, int port, byte[]? sessionToResume,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(host);
        cancellationToken.ThrowIfCancellationRequested();
        Task<SafeConnHandle> dial = Task.Run(() => Dial(context, host, port, 0), CancellationToken.None);
        SafeConnHandle conn;
        try
        {
            conn = await dial.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = dial.ContinueWith(static d =>
            {
                if (d.IsCompletedSuccessfully) d.Result.Dispose();
                else _ = d.Exception;
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
        TlsStream stream = FromNativeConnection(context, conn);
        await stream.ConnectHandshakeAsync(sessionToResume, 0, async: true, cancellationToken).ConfigureAwait(false);
        return stream;
    }

    private static SafeConnHandle Dial(TlsContext context, string host, int port, int timeoutMs)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(host);
        TlsException.Check(Native.tlsb_dial(context.Handle, Native.CString(host), port, timeoutMs, out SafeConnHandle conn));
        return conn;
    }

    // The limit applies to the handshake only; the stream's own ReadTimeout starts with none.
    private async ValueTask ConnectHandshakeAsync(byte[]? sessionToResume, int timeoutMs, bool async, CancellationToken cancel)
    {
        try
        {
            if (sessionToResume != null)
                ImportSession(sessionToResume);
            _timeoutMs = timeoutMs;
            await HandshakeAsync(async, cancel).ConfigureAwait(false);
            _timeoutMs = 0;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A stream over a connection the core made (dial, accept); it owns the connection
    /// from here on, also when this throws.</summary>
    internal static TlsStream FromNativeConnection(TlsContext context, SafeConnHandle conn)
    {
        try
        {
            return new TlsStream(context, SocketTransport.ForConnection(conn), conn);
        }
        catch
        {
            conn.Dispose();
            throw;
        }
    }

    /// <summary>A timeout in the core's terms: milliseconds, 0 for none (null, zero and
    /// <see cref="Timeout.InfiniteTimeSpan"/>, as 0 is in Java); other negative values are refused.</summary>
    internal static int TimeoutMs(TimeSpan? timeout, [CallerArgumentExpression(nameof(timeout))] string? name = null) => timeout switch
    {
        null => 0,
        { } t when t == TimeSpan.Zero || t == Timeout.InfiniteTimeSpan => 0,
        { } t when t < TimeSpan.Zero => throw new ArgumentOutOfRangeException(name, t,
            "a timeout is positive, or zero or Timeout.InfiniteTimeSpan for no limit"),
        { } t => (int)Math.Clamp(Math.Ceiling(t.TotalMilliseconds), 1, int.MaxValue),
    };

    // ---- handshake

    /// <summary>A session exported from an earlier connection (<see cref="ExportSession"/>) to
    /// offer for resumption; set before authenticating as a client.</summary>
    public byte[]? SessionToResume { get; set; }

    /// <summary>Runs the client handshake. <paramref name="targetHost"/> is sent as SNI and
    /// checked against the server certificate (null: tls-target-name, or none).</summary>
    public void AuthenticateAsClient(string? targetHost) =>
        AuthenticateAsync(TlsRole.Client, targetHost, async: false, default).GetAwaiter().GetResult();

    public Task AuthenticateAsClientAsync(string? targetHost, CancellationToken cancellationToken = default) =>
        AuthenticateAsync(TlsRole.Client, targetHost, async: true, cancellationToken).AsTask();

    /// <summary>Runs the server handshake with the server context's certificate.</summary>
    public void AuthenticateAsServer() =>
        AuthenticateAsync(TlsRole.Server, null, async: false, default).GetAwaiter().GetResult();

    public Task AuthenticateAsServerAsync(CancellationToken cancellationToken = default) =>
        AuthenticateAsync(TlsRole.Server, null, async: true, cancellationToken).AsTask();

    private async ValueTask AuthenticateAsync(TlsRole role, string? targetHost, bool async, CancellationToken cancel)
    {
        ThrowIfDisposed();
        if (role != _context.Role)
            throw new InvalidOperationException($"a {_context.Role.ToString().ToLowerInvariant()} context cannot authenticate as {role.ToString().ToLowerInvariant()}");
        if (Interlocked.Exchange(ref _authenticating, 1) != 0)
            throw new InvalidOperationException("authentication was already started on this stream");
        if (_conn == null)
        {
            // A full fence before the check: a Dispose that ran while the connection was being
            // made either sees it or is seen here.
            Interlocked.Exchange(ref _conn, _transport.Create(_context.Handle, targetHost));
            if (IsDisposed)
                _conn.Dispose();
        }
        if (SessionToResume is { } session)
            ImportSession(session);
        await HandshakeAsync(async, cancel).ConfigureAwait(false);
    }

    private unsafe void ImportSession(byte[] session)
    {
        fixed (byte* p = session)
            TlsException.Check(Native.tlsb_conn_session_import(Conn, p, session.Length));
    }

    private async ValueTask HandshakeAsync(bool async, CancellationToken cancel)
    {
        await DriveAsync(ConnOp.Handshake, 0, 0, async, cancel).ConfigureAwait(false);
        _authenticated = true;
    }

    // ---- the loop every operation runs

    private async ValueTask<int> DriveAsync(ConnOp op, nint buffer, int length, bool async, CancellationToken cancel)
    {
        try
        {
            SafeConnHandle conn = Conn;
            using CancellationTokenSource? linked = cancel.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(cancel, DisposedToken)
                : null;
            CancellationToken token = linked?.Token ?? DisposedToken;
            while (true)
            {
                int rc = Transport.Invoke(conn, op, buffer, length, out Exception? error);
                if (error != null)
                {
                    // Send what the failure produced (an alert) so the peer learns why.
                    try { await _transport.FlushAsync(conn, async, token).ConfigureAwait(false); }
                    catch (Exception) when (!IsDisposed) { }
                    throw error;
                }
                await _transport.FlushAsync(conn, async, token).ConfigureAwait(false);
                if (rc >= 0 || rc == (int)TlsStatus.Closed)
                    return rc;
                int timeoutMs = _timeoutMs;
                bool ready = rc == (int)TlsStatus.WantRead
                    ? await _transport.WaitReadableAsync(conn, timeoutMs, async, token).ConfigureAwait(false)
                    : await _transport.WaitWritableAsync(conn, timeoutMs, async, token).ConfigureAwait(false);
                if (!ready)
                    throw new TlsException(TlsStatus.Timeout, $"{Transport.Name(op)}: timed out after {timeoutMs} ms");
                // A wait that Dispose's close_notify ended (the peer answered it) must not go on
                // to read that answer as the end of the stream.
                ThrowIfDisposed();
            }
        }
        catch (Exception e) when (IsDisposed && e is not ObjectDisposedException)
        {
            // Whatever the transport threw because we were disposed mid-call, the cause is the Dispose.
            throw new ObjectDisposedException($"the {nameof(TlsStream)} was disposed during the call", e);
        }
    }

    /// <summary>Cancelled by Dispose, to end the transport's waits.</summary>
    private CancellationToken DisposedToken
    {
        get
        {
            CancellationTokenSource? source = Volatile.Read(ref _disposedSource);
            if (source == null)
            {
                var made = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _disposedSource, made, null) ?? made;
                // A Dispose that looked before the source was there did not cancel it.
                if (IsDisposed)
                    CancelWaits(source);
            }
            return source.Token;
        }
    }

    private static void CancelWaits(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // A continuation registered on the token threw; disposal goes on regardless.
        }
    }

    private SafeConnHandle Conn
    {
        get
        {
            ThrowIfDisposed();
            return _conn ?? throw new InvalidOperationException("the stream is not authenticated yet");
        }
    }

    private bool IsDisposed => Volatile.Read(ref _disposeStarted) != 0;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    private void ThrowIfNotAuthenticated()
    {
        ThrowIfDisposed();
        if (!_authenticated)
            throw new InvalidOperationException("the stream is not authenticated yet");
    }

    // ---- reading and writing

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override unsafe int Read(Span<byte> buffer)
    {
        ThrowIfNotAuthenticated();
        if (buffer.IsEmpty)
            return 0;
        fixed (byte* p = buffer)
            return ReadCoreAsync((nint)p, buffer.Length, async: false, default).GetAwaiter().GetResult();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfNotAuthenticated();
        if (buffer.IsEmpty)
            return 0;
        using MemoryHandle pin = buffer.Pin();
        return await ReadCoreAsync(Address(pin), buffer.Length, async: true, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<int> ReadCoreAsync(nint buffer, int length, bool async, CancellationToken cancel)
    {
        int rc = await DriveAsync(ConnOp.Read, buffer, length, async, cancel).ConfigureAwait(false);
        return rc == (int)TlsStatus.Closed ? 0 : rc;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfNotAuthenticated();
        fixed (byte* p = buffer)
            WriteCoreAsync((nint)p, buffer.Length, async: false, default).GetAwaiter().GetResult();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfNotAuthenticated();
        using MemoryHandle pin = buffer.Pin();
        await WriteCoreAsync(Address(pin), buffer.Length, async: true, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WriteCoreAsync(nint buffer, int length, bool async, CancellationToken cancel)
    {
        while (length > 0)
        {
            int n = await DriveAsync(ConnOp.Write, buffer, length, async, cancel).ConfigureAwait(false);
            buffer += n;
            length -= n;
        }
    }

    private static unsafe nint Address(MemoryHandle pin) => (nint)pin.Pointer;

    /// <summary>Sends close_notify. The transport stays open; reads still return what the peer sends.</summary>
    public void Shutdown()
    {
        ThrowIfNotAuthenticated();
        DriveAsync(ConnOp.Shutdown, 0, 0, async: false, default).GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="Shutdown"/>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotAuthenticated();
        await DriveAsync(ConnOp.Shutdown, 0, 0, async: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes go out as they are made; there is nothing to flush.</summary>
    public override void Flush() => ThrowIfDisposed();

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return Task.CompletedTask;
    }

    /// <summary>Socket mode streams (over a Socket, or made by
    /// <see cref="Connect(TlsContext, string, int, TimeSpan?)"/> and <see cref="TlsListener.Accept"/>)
    /// wait for the socket themselves, and can bound each wait.</summary>
    public override bool CanTimeout => _transport is SocketTransport;

    /// <summary>For <see cref="CanTimeout"/> streams: the limit in milliseconds of each wait of a
    /// read, write or handshake, sync or async (0 or <see cref="Timeout.Infinite"/>: none, which
    /// the getter reports as <see cref="Timeout.Infinite"/>); an expired wait throws
    /// <see cref="TlsException"/> TLSB_ERR_TIMEOUT. One limit, as Java's setSoTimeout:
    /// <see cref="WriteTimeout"/> is the same value.</summary>
    public override int ReadTimeout
    {
        get => CanTimeout
            ? _timeoutMs > 0 ? _timeoutMs : Timeout.Infinite
            : throw new InvalidOperationException("only socket mode streams have a timeout");
        set
        {
            if (!CanTimeout)
                throw new InvalidOperationException("only socket mode streams have a timeout");
            ThrowIfDisposed();
            _timeoutMs = TimeoutMs(TimeSpan.FromMilliseconds(value), nameof(value));
        }
    }

    /// <inheritdoc cref="ReadTimeout"/>
    public override int WriteTimeout
    {
        get => ReadTimeout;
        set => ReadTimeout = value;
    }

    public override bool CanRead => !IsDisposed;
    public override bool CanWrite => !IsDisposed;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    // ---- what was negotiated (TLSB_INFO_*)

    public bool IsAuthenticated => _authenticated && !IsDisposed;

    /// <summary>"TLSv1.3", "TLSv1.2", ...; "none" when tls=0.</summary>
    public string NegotiatedProtocol => Info(Native.TLSB_INFO_VERSION);

    /// <summary>The cipher suite, IANA name (e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), as
    /// SslStream's <c>NegotiatedCipherSuite</c> names it and Java's <c>getCipherSuite()</c>.</summary>
    public string CipherSuite => Info(Native.TLSB_INFO_CIPHER_IANA);

    /// <summary>The cipher suite, OpenSSL name (e.g. "ECDHE-RSA-AES128-GCM-SHA256"), as Java's
    /// <c>getCipher()</c>.</summary>
    public string Cipher => Info(Native.TLSB_INFO_CIPHER);

    /// <summary>RFC 2253 subject of the peer certificate, "" if none.</summary>
    public string PeerSubject => Info(Native.TLSB_INFO_PEER_SUBJECT);

    /// <summary>RFC 2253 issuer of the peer certificate, "" if none.</summary>
    public string PeerIssuer => Info(Native.TLSB_INFO_PEER_ISSUER);

    /// <summary>"ok", "none" (not verified, or no certificate), or why verification failed.</summary>
    public string VerifyResult => Info(Native.TLSB_INFO_VERIFY);

    /// <summary>Client: the name sent as SNI and checked; server: the SNI received.</summary>
    public string TargetName => Info(Native.TLSB_INFO_TARGET_NAME);

    public bool IsSessionReused => Info(Native.TLSB_INFO_SESSION_REUSED) == "yes";

    private string Info(int key)
    {
        ThrowIfNotAuthenticated();
        return Native.ConnInfo(Conn, key);
    }

    /// <summary>The session, serialised for <see cref="SessionToResume"/> on a later connection.</summary>
    public unsafe byte[] ExportSession()
    {
        ThrowIfNotAuthenticated();
        int size = 4096;
        while (true)
        {
            byte[] buffer = new byte[size];
            int n;
            fixed (byte* p = buffer)
                n = Native.tlsb_conn_session_export(Conn, p, buffer.Length);
            if (n == (int)TlsStatus.BufferTooSmall && size < 1 << 20)
            {
                size *= 4;
                continue;
            }
            TlsException.Check(n);
            return buffer.AsSpan(0, n).ToArray();
        }
    }

    // ---- lifetime

    /// <summary>The longest Dispose waits to send close_notify (less if the stream's timeout is).</summary>
    private const int CloseNotifyMs = 1000;

    // Best effort and bounded, as Java's close(): a peer that does not read, or a transport that
    // fails, costs the peer its close_notify, never the caller an exception or a hang. (The core
    // sends nothing before the handshake is done, or twice after Shutdown.)
    private void SendCloseNotify(SafeConnHandle conn)
    {
        int boundMs = _timeoutMs > 0 ? Math.Min(_timeoutMs, CloseNotifyMs) : CloseNotifyMs;
        long deadline = Environment.TickCount64 + boundMs;
        int Left() => (int)Math.Max(1, deadline - Environment.TickCount64);
        try
        {
            int rc;
            Exception? error;
            while ((rc = Transport.Invoke(conn, ConnOp.Shutdown, 0, 0, out error)) == (int)TlsStatus.WantWrite
                   && _transport.WaitWritableAsync(conn, Left(), async: false, CancellationToken.None).GetAwaiter().GetResult())
            {
            }
            if (error != null || rc != (int)TlsStatus.Ok)
                return;
            // Buffer mode: the alert is in the core's output, for the inner stream, whose
            // synchronous Write could block without bound; its asynchronous one is waited for
            // no longer than the bound.
            using var bound = new CancellationTokenSource(Left());
            _transport.FlushAsync(conn, async: true, bound.Token).AsTask().Wait(Left());
        }
        catch (Exception)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            base.Dispose(disposing);
            return;
        }
        // Order matters: say goodbye, cancel the waits, release the transport, close the native
        // transport (unblocks a thread inside the core), then drop our reference; the SafeHandle
        // frees the connection once no call is using it any more.
        SafeConnHandle? conn = Volatile.Read(ref _conn);
        if (_authenticated && conn != null)
            SendCloseNotify(conn);
        if (Volatile.Read(ref _disposedSource) is { } source)
            CancelWaits(source);
        _transport.Close();
        if (conn != null && !conn.IsClosed)
        {
            // tlsb_conn_close shuts the socket down to wake a thread waiting on it. A socket the
            // application asked to keep must keep its connection: its waits are .NET's, which the
            // cancelled token ends. Elsewhere the shutdown ends .NET's poll at once.
            bool wake = _transport is not SocketTransport { LeaveOpen: true };
            if (wake)
            {
                try
                {
                    Native.tlsb_conn_close(conn);
                }
                catch (ObjectDisposedException)
                {
                }
            }
            conn.Dispose();
        }
        base.Dispose(disposing);
    }
}
