package org.tlsbridge;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One native handle and the rule that keeps it from being used after it is freed: every native
 * call runs between {@link #acquire()} and {@link #release()}; {@link #close} stops new calls,
 * wakes blocked ones ({@code tlsb_conn_close} / {@code tlsb_listener_close} are thread-safe) and
 * leaves the free to whichever thread makes the count of calls in flight drop to zero. The owner
 * registers this object (never itself) with the {@link Cleaner}, so an unclosed owner that becomes
 * unreachable is freed too. A dependent (a connection or a listener of a context) holds an
 * acquisition of its parent until it is freed itself, so a context outlives its connections.
 */
final class NativeResource implements Runnable {
    static final Cleaner CLEANER = Cleaner.create();

    /** Handles not yet freed, for the tests that check the safety net. */
    private static final AtomicInteger LIVE = new AtomicInteger();

    enum Kind {
        CONTEXT("context") {
            @Override
            void interrupt(long handle) {
            }

            @Override
            void free(long handle) {
                Native.contextFree(handle);
            }
        },
        CONNECTION("connection") {
            @Override
            void interrupt(long handle) {
                Native.close(handle);
            }

            @Override
            void free(long handle) {
                Native.free(handle);
            }
        },
        LISTENER("server socket") {
            @Override
            void interrupt(long handle) {
                Native.listenerClose(handle);
            }

            @Override
            void free(long handle) {
                Native.listenerFree(handle);
            }
        };

        final String noun;

        Kind(String noun) {
            this.noun = noun;
        }

        /** Wakes native calls blocked on the handle; must be safe while they run. */
        abstract void interrupt(long handle);

        abstract void free(long handle);
    }

    /** What a closing owner does with its handle while it can still use it (e.g. send close_notify). */
    interface Farewell {
        void run(long handle) throws java.io.IOException;
    }

    /** Tests only: runs as each release starts, to close objects at a chosen moment of a call. */
    static volatile Consumer<NativeResource> releaseHook;

    final Kind kind;
    private final NativeResource parent;
    private long handle;
    private int inFlight;
    private boolean closed;

    NativeResource(Kind kind, long handle, NativeResource parent) {
        this.kind = kind;
        this.handle = handle;
        this.parent = parent;
        LIVE.incrementAndGet();
    }

    static int live() {
        return LIVE.get();
    }

    /** The handle, valid until the matching {@link #release()}; throws once closed. */
    synchronized long acquire() throws TlsException {
        if (closed) {
            throw closedException();
        }
        inFlight++;
        return handle;
    }

    /**
     * One more acquisition, for a dependent made while the caller holds one (works when closed, not
     * once freed: then it throws TLSB_ERR_HANDLE_CLOSED instead of bringing the handle back).
     */
    synchronized void retain() throws TlsException {
        if (handle == 0) {
            throw closedException();
        }
        inFlight++;
    }

    /**
     * Ends a native call made for owner, which stays reachable until here: otherwise its Cleaner
     * could close the handle under the call (the free waits for the release, the interrupt would not).
     */
    void release(Object owner) {
        release();
        Reference.reachabilityFence(owner);
    }

    void release() {
        Consumer<NativeResource> hook = releaseHook;
        if (hook != null) {
            hook.accept(this);
        }
        long toFree;
        synchronized (this) {
            if (--inFlight > 0 || !closed) {
                return;
            }
            toFree = handle;
            handle = 0;
        }
        kind.free(toFree);
        LIVE.decrementAndGet();
        if (parent != null) {
            parent.release();
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    TlsException closedException() {
        return TlsException.of(TlsStatus.ERR_HANDLE_CLOSED, "the " + kind.noun + " is closed");
    }

    /**
     * Closes once (later calls return at once): runs farewell (if any) when no other call is in
     * flight, and swallows its failure, since a close cannot be refused; interrupts calls in
     * flight; frees when none is left. With a call in flight the close is abortive, so that the
     * call ends with TLSB_ERR_HANDLE_CLOSED instead of racing the peer's answer to a farewell.
     */
    void close(Farewell farewell) {
        long h;
        boolean idle;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            idle = inFlight == 0;
            inFlight++;
            h = handle;
        }
        try {
            if (farewell != null && idle) {
                farewell.run(h);
            }
        } catch (java.io.IOException ignored) {
            // The peer may be gone already; the handle is freed all the same.
        } finally {
            kind.interrupt(h);
            release();
        }
    }

    /** The Cleaner's action for an owner that was never closed. */
    @Override
    public void run() {
        close(null);
    }
}
