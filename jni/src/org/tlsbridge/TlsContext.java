package org.tlsbridge;

import java.io.IOException;
import java.net.Socket;
import java.time.Instant;

/**
 * A validated, immutable client or server role built from a {@link TlsConfig} by the C core; safe
 * to share between threads. Connections and server sockets made from it keep it alive, so closing
 * the context does not disturb them: it is freed after the last of them.
 */
public final class TlsContext implements AutoCloseable {
    private final NativeResource resource;
    private final boolean server;

    private TlsContext(TlsConfig config, int role) throws TlsException {
        Native.ensureLoaded();
        resource = new NativeResource(NativeResource.Kind.CONTEXT, config.build(role), null);
        NativeResource.CLEANER.register(this, resource);
        server = role == Native.ROLE_SERVER;
    }

    /** A client context; a {@link TlsConfigException} says which option is wrong. */
    public static TlsContext client(TlsConfig config) throws TlsException {
        return new TlsContext(config, Native.ROLE_CLIENT);
    }

    /** A server context (needs {@code certificate} and {@code certificate-key}). */
    public static TlsContext server(TlsConfig config) throws TlsException {
        return new TlsContext(config, Native.ROLE_SERVER);
    }

    public boolean isServer() {
        return server;
    }

    /**
     * What the options resolved to, as the core reports it: {@code key: value} lines (role, tls,
     * protocols, security-level, ciphers, ciphers-iana, verify-peer, ..., warning).
     */
    public String effectiveSettings() throws TlsException {
        long h = resource.acquire();
        try {
            return Native.utf8(Native.contextSettings(h));
        } finally {
            resource.release(this);
        }
    }

    /**
     * Verifies a PEM chain (leaf first) offline with the policy a handshake applies to the peer.
     * peerName null: the context's {@code tls-target-name}; "" skips the name check. at null: now.
     */
    public void verify(byte[] chainPem, String peerName, Instant at) throws TlsException {
        long h = resource.acquire();
        try {
            Native.verify(h, chainPem, Native.cstr(peerName), at == null ? 0 : at.getEpochSecond());
        } finally {
            resource.release(this);
        }
    }

    /**
     * Dials host:port natively (timeoutMillis bounds the TCP connect; 0 waits, negative is an
     * {@link IllegalArgumentException}) as a client; host is also the name sent as SNI and verified, unless {@code tls-target-name} is set. The handshake
     * runs on {@link TlsSocket#startHandshake()} or the first read or write.
     */
    public TlsSocket connect(String host, int port, int timeoutMillis) throws IOException {
        TlsSocket.checkTimeout(timeoutMillis);
        long h = resource.acquire();
        long conn;
        try {
            conn = Native.dial(h, Native.cstr(host), port, timeoutMillis);
        } catch (TlsException | RuntimeException e) {
            resource.release(this);
            throw e;
        }
        return new TlsSocket(conn, null, resource); // the socket keeps the acquisition
    }

    /**
     * Runs TLS over a connected socket that Java keeps doing the I/O for (buffer mode) in this
     * context's role. targetName (clients): the name sent as SNI and verified; null leaves it to
     * {@code tls-target-name}. Closing the returned socket closes this one.
     */
    public TlsSocket wrap(Socket socket, String targetName) throws IOException {
        if (!socket.isConnected() || socket.isClosed()) {
            throw new java.net.SocketException("wrap needs a connected socket");
        }
        long h = resource.acquire();
        long conn;
        try {
            conn = Native.connNewBuffer(h, Native.cstr(targetName));
        } catch (TlsException | RuntimeException e) {
            resource.release(this);
            throw e;
        }
        return new TlsSocket(conn, socket, resource); // the socket keeps the acquisition
    }

    /**
     * Listens on host (null or "" for all interfaces) and port (0 picks a free one) for
     * connections in this (server) context.
     */
    public TlsServerSocket listen(String host, int port, int backlog) throws TlsException {
        return new TlsServerSocket(resource, host, port, backlog);
    }

    /**
     * Ends this handle's use of the context (later calls throw TLSB_ERR_HANDLE_CLOSED); the native
     * context is freed after the last call, connection and server socket using it. Idempotent.
     */
    @Override
    public void close() {
        resource.close(null);
    }
}
