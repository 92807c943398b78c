package org.tlsbridge;

/**
 * A native listening socket for a server {@link TlsContext} (made by {@link TlsContext#listen}).
 * {@link #accept()} returns each client as a {@link TlsSocket} whose handshake runs on first use,
 * so an accept loop can hand it to another thread. It keeps its context usable until it is closed.
 */
public final class TlsServerSocket implements AutoCloseable {
    private final NativeResource resource;
    private final NativeResource contextResource;
    private final long context;
    private volatile int timeoutMillis;

    TlsServerSocket(NativeResource contextResource, String host, int port, int backlog) throws TlsException {
        this.contextResource = contextResource;
        context = contextResource.acquire();
        long listener;
        try {
            listener = Native.listen(Native.cstr(host), port, backlog);
        } catch (TlsException | RuntimeException e) {
            contextResource.release();
            throw e;
        }
        // The listener's resource releases the context's acquisition when it is freed.
        resource = new NativeResource(NativeResource.Kind.LISTENER, listener, contextResource);
        NativeResource.CLEANER.register(this, resource);
    }

    /** The bound port. */
    public int getLocalPort() throws TlsException {
        long h = resource.acquire();
        try {
            return Native.listenerPort(h);
        } finally {
            resource.release(this);
        }
    }

    /**
     * How long {@link #accept()} waits (ms; 0 waits for ever, negative is an
     * {@link IllegalArgumentException}); a timeout throws TLSB_ERR_TIMEOUT.
     */
    public void setSoTimeout(int timeoutMillis) {
        this.timeoutMillis = TlsSocket.checkTimeout(timeoutMillis);
    }

    public int getSoTimeout() {
        return timeoutMillis;
    }

    /**
     * Waits for the next client. A {@link #close()} from another thread ends the wait with
     * TLSB_ERR_HANDLE_CLOSED.
     */
    public TlsSocket accept() throws java.io.IOException {
        long h = resource.acquire();
        try {
            // The new socket's own hold on the context, taken while this server socket's hold keeps
            // it alive: once the listener is released, a concurrent close may free both.
            contextResource.retain();
            long conn;
            try {
                conn = Native.accept(h, context, timeoutMillis);
            } catch (TlsException | RuntimeException e) {
                contextResource.release();
                throw e;
            }
            return new TlsSocket(conn, null, contextResource);
        } finally {
            resource.release(this);
        }
    }

    public boolean isClosed() {
        return resource.isClosed();
    }

    /** Stops listening; idempotent, and safe while another thread waits in {@link #accept()}. */
    @Override
    public void close() {
        resource.close(null);
    }
}
