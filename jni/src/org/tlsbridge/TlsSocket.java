package org.tlsbridge;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One TLS connection, the counterpart of JSSE's {@code SSLSocket} and of {@code tlsb_conn}.
 * Made by {@link TlsContext#connect} (the core does the socket I/O), {@link TlsContext#wrap} (Java
 * does the socket I/O, the core runs TLS over bytes) or {@link TlsServerSocket#accept()}. The
 * handshake runs on {@link #startHandshake()}, on the first read or write, or on the first query
 * of a negotiated detail. One thread may read while another writes; {@link #close()} is safe from
 * any thread at any time, and ends a blocked read or write with TLSB_ERR_HANDLE_CLOSED.
 */
public final class TlsSocket implements Closeable {
    /** Room for one TLS record with its header, so a socket read usually carries whole records. */
    private static final int NET_BUFFER = 17 * 1024;

    /** The longest close() waits for the peer to take its close_notify (ms). */
    public static final int CLOSE_NOTIFY_MILLIS = 1000;

    /** Ends a wrapped socket's close_notify write that outlives its bound; its thread ends when idle. */
    private static final ScheduledThreadPoolExecutor CLOSE_TIMER = closeTimer();

    private static final int OP_HANDSHAKE = 0;
    private static final int OP_READ = 1;
    private static final int OP_WRITE = 2;
    private static final String[] OP_NAMES = {"handshake", "read", "write"};

    private final NativeResource resource;
    /** Buffer mode only (null in socket mode): the socket Java reads and writes for the core. */
    private final Socket transport;
    private final InputStream netIn;
    private final OutputStream netOut;
    private final byte[] received;
    private final byte[] toSend;
    /** Guards socketReader and feeds (buffer mode). */
    private final Object receiveLock = new Object();
    /** Whether a thread is reading the socket for the core. */
    private boolean socketReader;
    /** Socket reads fed to the core so far (written under receiveLock). */
    private volatile long feeds;
    private final ReentrantLock sendLock = new ReentrantLock();

    private final ReentrantLock handshakeLock = new ReentrantLock();
    private volatile boolean handshaken;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final InputStream input = new Input();
    private final OutputStream output = new Output();
    private volatile int timeoutMillis;

    /** context: an acquisition of the context's resource, which this socket releases when freed. */
    TlsSocket(long conn, Socket transport, NativeResource context) throws IOException {
        resource = new NativeResource(NativeResource.Kind.CONNECTION, conn, context);
        NativeResource.CLEANER.register(this, resource);
        this.transport = transport;
        if (transport == null) {
            netIn = null;
            netOut = null;
            received = null;
            toSend = null;
            return;
        }
        try {
            netIn = transport.getInputStream();
            netOut = transport.getOutputStream();
            timeoutMillis = transport.getSoTimeout();
        } catch (IOException e) {
            resource.close(null);
            throw e;
        }
        received = new byte[NET_BUFFER];
        toSend = new byte[NET_BUFFER];
    }

    private static ScheduledThreadPoolExecutor closeTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "tlsbridge-close-timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        timer.setKeepAliveTime(1, TimeUnit.SECONDS);
        timer.allowCoreThreadTimeOut(true);
        return timer;
    }

    /**
     * Runs the handshake now if it has not run yet; a failure throws, and the socket should be
     * closed.
     */
    public void startHandshake() throws IOException {
        if (handshaken) {
            checkOpen();
            return;
        }
        // One thread drives the handshake while a reader and a writer that both started early wait,
        // instead of both reading the wrapped socket for the same flight of the peer.
        handshakeLock.lock();
        try {
            if (!handshaken) {
                int rc = run(OP_HANDSHAKE, null, null, 0, 0);
                if (rc != TlsStatus.OK) {
                    // A handshake gives OK or throws; anything else is a result it cannot go on
                    // with, and a second try would wait for a handshake that cannot come.
                    close();
                    throw unexpected(OP_NAMES[OP_HANDSHAKE], rc);
                }
                handshaken = true;
            }
        } finally {
            handshakeLock.unlock();
        }
    }

    /** startHandshake without its check for a closed socket, which run's acquire makes anyway. */
    private void handshakeOnce() throws IOException {
        if (!handshaken) {
            startHandshake();
        }
    }

    /** Plaintext from the peer; -1 after the peer's close_notify. */
    public InputStream getInputStream() throws TlsException {
        checkOpen();
        return input;
    }

    /** Plaintext to the peer; closing it closes the socket, as with {@code SSLSocket}. */
    public OutputStream getOutputStream() throws TlsException {
        checkOpen();
        return output;
    }

    /**
     * Plaintext from the peer into {@code dst}, as {@code ReadableByteChannel.read}: at most its
     * remaining bytes from its position, which advances; returns the count, or -1 after the peer's
     * close_notify. The core fills a direct buffer in place, saving the copy a byte[] costs.
     */
    public int read(ByteBuffer dst) throws IOException {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        int position = dst.position();
        int length = dst.remaining();
        if (length == 0) {
            return 0;
        }
        int n = dst.isDirect() ? readPlain(null, dst, position, length)
                : readPlain(dst.array(), null, dst.arrayOffset() + position, length);
        if (n > 0) {
            dst.position(position + n);
        }
        return n;
    }

    /**
     * Sends all of {@code src}'s remaining bytes, as {@code WritableByteChannel.write} in blocking
     * mode: its position advances to its limit; returns the count. The core encrypts a direct
     * buffer in place, saving the copy a byte[] costs.
     */
    public int write(ByteBuffer src) throws IOException {
        int position = src.position();
        int length = src.remaining();
        if (src.isDirect()) {
            writePlain(null, src, position, length);
        } else if (src.hasArray()) {
            writePlain(src.array(), null, src.arrayOffset() + position, length);
        } else {
            byte[] copy = new byte[length]; // a read-only heap buffer hides its array
            src.duplicate().get(copy);
            writePlain(copy, null, 0, length);
        }
        src.position(position + length);
        return length;
    }

    /** The negotiated version, e.g. "TLSv1.3" ("none" with tls=0). */
    public String getProtocol() throws IOException {
        return info(Native.INFO_VERSION);
    }

    /** The negotiated cipher suite's IANA name, as JSSE names it, e.g. "TLS_AES_128_GCM_SHA256". */
    public String getCipherSuite() throws IOException {
        return info(Native.INFO_CIPHER_IANA);
    }

    /** The negotiated cipher suite's OpenSSL name, e.g. "ECDHE-RSA-AES128-GCM-SHA256". */
    public String getCipher() throws IOException {
        return info(Native.INFO_CIPHER);
    }

    /** The peer certificate's subject (RFC 2253), "" without one. */
    public String getPeerSubject() throws IOException {
        return info(Native.INFO_PEER_SUBJECT);
    }

    /** The peer certificate's issuer (RFC 2253), "" without one. */
    public String getPeerIssuer() throws IOException {
        return info(Native.INFO_PEER_ISSUER);
    }

    /** "ok", "none" (nothing verified), or why verification failed. */
    public String getVerifyResult() throws IOException {
        return info(Native.INFO_VERIFY);
    }

    /** Client: the name sent as SNI and checked; server: the SNI the client sent. */
    public String getTargetName() throws IOException {
        return info(Native.INFO_TARGET_NAME);
    }

    public boolean isSessionReused() throws IOException {
        return "yes".equals(info(Native.INFO_SESSION_REUSED));
    }

    /**
     * The session, serialised for {@link #importSession} on a later connection to the same server.
     * TLS 1.3 servers send their tickets after the handshake: read some data first. Throws
     * TLSB_ERR_STATE when there is no resumable session (yet).
     */
    public byte[] exportSession() throws IOException {
        startHandshake();
        long h = resource.acquire();
        try {
            return Native.sessionExport(h);
        } finally {
            resource.release(this);
        }
    }

    /** Client, before the handshake: offers a session exported earlier; see {@link #isSessionReused()}. */
    public void importSession(byte[] session) throws TlsException {
        long h = resource.acquire();
        try {
            Native.sessionImport(h, session);
        } finally {
            resource.release(this);
        }
    }

    /**
     * Limit for each wait of a read, a write or the handshake (ms; 0 waits for ever, negative is an
     * {@link IllegalArgumentException}); a timeout throws TLSB_ERR_TIMEOUT. It also shortens the
     * wait of {@link #close()} for close_notify. In buffer mode this is the wrapped socket's
     * SO_TIMEOUT, which bounds reads only: a Java socket's writes have no time limit.
     */
    public void setSoTimeout(int timeoutMillis) throws IOException {
        checkTimeout(timeoutMillis);
        if (transport != null) {
            transport.setSoTimeout(timeoutMillis);
        } else {
            long h = resource.acquire();
            try {
                Native.setTimeout(h, timeoutMillis);
            } finally {
                resource.release(this);
            }
        }
        this.timeoutMillis = timeoutMillis;
    }

    public int getSoTimeout() {
        return timeoutMillis;
    }

    /** Sends close_notify; reading goes on until the peer's. */
    public void shutdownOutput() throws IOException {
        long h = resource.acquire();
        try {
            sayGoodbye(h);
        } finally {
            resource.release(this);
        }
    }

    public boolean isClosed() {
        return resource.isClosed();
    }

    /**
     * Sends close_notify (best effort: skipped when another thread is inside the connection, whose
     * call then ends with TLSB_ERR_HANDLE_CLOSED, and given up after {@link #CLOSE_NOTIFY_MILLIS},
     * or the SO timeout when that is shorter, when the peer does not take it), closes the
     * transport (the wrapped socket too) and frees the connection once no other thread is inside
     * it. Idempotent.
     */
    @Override
    public void close() {
        resource.close(this::farewell);
        closeTransport();
    }

    private void closeTransport() {
        if (transport != null) {
            try {
                transport.close();
            } catch (IOException ignored) {
                // Nothing is left to release.
            }
        }
    }

    /**
     * close()'s close_notify, bounded: a peer that stopped reading must not hold close() for ever.
     * The core's socket waits with a timeout; a wrapped socket's write has none, so a timer closes
     * the socket under it, which ends the write.
     */
    private void farewell(long h) throws IOException {
        int bound = timeoutMillis > 0 ? Math.min(timeoutMillis, CLOSE_NOTIFY_MILLIS) : CLOSE_NOTIFY_MILLIS;
        if (transport == null) {
            Native.setTimeout(h, bound);
            sayGoodbye(h);
            return;
        }
        ScheduledFuture<?> deadline = CLOSE_TIMER.schedule(this::closeTransport, bound, TimeUnit.MILLISECONDS);
        try {
            sayGoodbye(h);
        } finally {
            deadline.cancel(false);
        }
    }

    /** A timeout as given to setSoTimeout (ms): 0 is no limit, negative is refused. */
    static int checkTimeout(int millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("timeout can't be negative: " + millis + " ms (0 means no limit)");
        }
        return millis;
    }

    private void sayGoodbye(long h) throws IOException {
        Native.shutdown(h);
        if (transport != null) {
            flush(h);
        }
    }

    private void checkOpen() throws TlsException {
        if (resource.isClosed()) {
            throw resource.closedException();
        }
    }

    private String info(int key) throws IOException {
        startHandshake();
        long h = resource.acquire();
        try {
            return Native.utf8(Native.info(h, key));
        } finally {
            resource.release(this);
        }
    }

    /**
     * Runs one operation to its result. In socket mode the core blocks as needed; in buffer mode
     * the core answers TLSB_WANT_READ instead, and this loop moves ciphertext between the core and
     * the socket: it sends what the core produced after every call and feeds the socket's bytes in.
     * Plaintext is in {@code array}, or in the direct buffer {@code direct} (offset from its start).
     */
    private int run(int op, byte[] array, ByteBuffer direct, int offset, int length) throws IOException {
        for (;;) {
            long seenFeeds = feeds;
            int rc;
            long h = resource.acquire();
            try {
                try {
                    if (op == OP_READ) {
                        rc = direct != null ? Native.readDirect(h, direct, offset, length)
                                : Native.read(h, array, offset, length);
                    } else if (op == OP_WRITE) {
                        rc = direct != null ? Native.writeDirect(h, direct, offset, length)
                                : Native.write(h, array, offset, length);
                    } else {
                        rc = Native.handshake(h);
                    }
                } catch (TlsException e) {
                    if (transport != null) {
                        sendAlert(h);
                    }
                    throw e;
                }
                if (transport != null) {
                    flush(h);
                }
            } finally {
                resource.release(this);
            }
            if (rc != TlsStatus.WANT_READ && rc != TlsStatus.WANT_WRITE) {
                return rc;
            }
            if (transport == null) { // a blocking core socket never asks to be called again
                throw unexpected(OP_NAMES[op], rc);
            }
            if (rc == TlsStatus.WANT_READ) {
                receive(seenFeeds);
            }
            // TLSB_WANT_WRITE: the flush above has emptied the core's output; try again.
        }
    }

    /**
     * A result the operation cannot go on with (neither data nor an error the core threw):
     * TLSB_CLOSED where data or a finished handshake was due, or anything else that is not
     * progress, which is never added to a count or retried.
     */
    private static TlsException unexpected(String op, int rc) {
        if (rc == TlsStatus.CLOSED) {
            return TlsException.of(rc, op + ": the peer has closed the TLS session (close_notify)");
        }
        return TlsException.of(TlsStatus.ERR_INTERNAL, op + ": unexpected result " + rc + " ("
                + TlsStatus.name(rc) + ") from the core");
    }

    /** After a failed call the core may hold an alert for the peer: it explains the failure there. */
    private void sendAlert(long h) {
        try {
            flush(h);
        } catch (IOException ignored) {
            // The failure being reported matters more than the alert.
        }
    }

    /**
     * Buffer mode: one socket read fed to the core, unless the core was fed since seenFeeds (the
     * caller then retries first). Only one thread reads the socket; the others wait for its feed
     * instead of queueing behind it, since the bytes it feeds may be all they need: a writer
     * waiting for the handshake must not wait for the reader's application data.
     */
    private void receive(long seenFeeds) throws IOException {
        synchronized (receiveLock) {
            while (socketReader && feeds == seenFeeds) {
                try {
                    receiveLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while waiting for the peer");
                }
            }
            if (feeds != seenFeeds) {
                return;
            }
            socketReader = true;
        }
        try {
            int n;
            try {
                n = netIn.read(received);
            } catch (IOException e) {
                throw transportFailure(e);
            }
            long h = resource.acquire();
            try {
                if (n < 0) {
                    Native.feedEof(h);
                } else {
                    Native.feed(h, received, 0, n);
                }
            } finally {
                resource.release(this);
            }
            synchronized (receiveLock) {
                feeds++;
            }
        } finally {
            synchronized (receiveLock) {
                socketReader = false;
                receiveLock.notifyAll();
            }
        }
    }

    /**
     * Buffer mode: sends everything the core has produced, in order. Drain and socket write happen
     * together under sendLock; a thread that finds it taken leaves its bytes to the holder, which
     * looks for more after unlocking, so a reader never waits behind a writer's blocked send.
     */
    private void flush(long h) throws IOException {
        while (sendLock.tryLock()) {
            try {
                for (int n; (n = Native.drain(h, toSend, 0, toSend.length)) > 0; ) {
                    try {
                        netOut.write(toSend, 0, n);
                    } catch (IOException e) {
                        throw transportFailure(e);
                    }
                }
            } finally {
                sendLock.unlock();
            }
            if (Native.pending(h) == 0) {
                return;
            }
        }
    }

    /** A socket failure in buffer mode, reported with the codes socket mode uses. */
    private TlsException transportFailure(IOException e) {
        if (resource.isClosed()) {
            return resource.closedException();
        }
        TlsException t = TlsException.of(e instanceof SocketTimeoutException ? TlsStatus.ERR_TIMEOUT
                : TlsStatus.ERR_IO, "socket: " + e.getMessage());
        t.initCause(e);
        return t;
    }

    /** One read of plaintext into array or direct (see run); -1 after the peer's close_notify. */
    private int readPlain(byte[] array, ByteBuffer direct, int offset, int length) throws IOException {
        handshakeOnce();
        readLock.lock();
        try {
            int rc = run(OP_READ, array, direct, offset, length);
            if (rc > 0) {
                return rc;
            }
            if (rc == TlsStatus.CLOSED) {
                return -1;
            }
            throw unexpected(OP_NAMES[OP_READ], rc);
        } finally {
            readLock.unlock();
        }
    }

    /** Writes all of length bytes of array or direct (see run). */
    private void writePlain(byte[] array, ByteBuffer direct, int offset, int length) throws IOException {
        handshakeOnce();
        writeLock.lock();
        try {
            while (length > 0) {
                int n = run(OP_WRITE, array, direct, offset, length);
                if (n <= 0) {
                    throw unexpected(OP_NAMES[OP_WRITE], n);
                }
                offset += n;
                length -= n;
            }
        } finally {
            writeLock.unlock();
        }
    }

    private final class Input extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            return readPlain(b, null, off, len);
        }

        @Override
        public void close() {
            TlsSocket.this.close();
        }
    }

    private final class Output extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            writePlain(b, null, off, len);
        }

        @Override
        public void close() {
            TlsSocket.this.close();
        }
    }
}
