package org.tlsbridge;

import java.nio.charset.StandardCharsets;

/**
 * Every native method of the Java face, registered by JNI_OnLoad in tlsbridge_jni.c. Strings cross
 * as UTF-8 byte arrays (never modified UTF-8). Handles are the C pointers as longs; connection
 * handles point to the JNI library's per-connection data. A failing call throws the
 * {@link TlsException} built from the core's thread-local status and message.
 */
final class Native {
    static final String LIBRARY = "tlsbridge_jni";
    static final String PATH_PROPERTY = "tlsbridge.library.path";

    static final int ROLE_CLIENT = 0;
    static final int ROLE_SERVER = 1;

    /** tlsb_status_kind's answers that choose an exception class (TLSB_KIND_*). */
    static final int KIND_CONFIG = 4;
    static final int KIND_VERIFY = 6;

    static final int INFO_VERSION = 1;
    static final int INFO_CIPHER = 2;
    static final int INFO_CIPHER_IANA = 3;
    static final int INFO_PEER_SUBJECT = 4;
    static final int INFO_PEER_ISSUER = 5;
    static final int INFO_VERIFY = 6;
    static final int INFO_TARGET_NAME = 7;
    static final int INFO_SESSION_REUSED = 8;

    /** Why the library could not be loaded, or null when it was. */
    private static final String LOAD_FAILURE = NativeLoader.load();

    private Native() {
    }

    /** Throws, with the paths tried and the fix, when the JNI library could not be loaded. */
    static void ensureLoaded() {
        if (LOAD_FAILURE != null) {
            throw new UnsatisfiedLinkError(LOAD_FAILURE);
        }
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A Java string as the UTF-8 bytes of a C string; null stays null. */
    static byte[] cstr(String s) {
        if (s == null) {
            return null;
        }
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a string passed to tlsbridge contains NUL: " + s.replace('\0', '?'));
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Called by the JNI library's log callback; a failing logger must not fail the TLS call. */
    static void log(TlsLogger logger, int level, byte[] message) {
        try {
            logger.log(level, utf8(message));
        } catch (RuntimeException ignored) {
            // The application's logger is not the library's to report on.
        }
    }

    // ---- library
    static native byte[] version();
    static native byte[] opensslVersion();
    static native int compatMode();
    static native byte[] statusName(int status);
    /** The TLSB_KIND_* of a status (tlsb_status_kind, node TLSBRIDGE_1.1). */
    static native int statusKind(int status);

    // ---- contexts: config_new + config_set for each option + context_new + config_free in one call
    static native long contextNew(int role, byte[][] names, byte[][] values, TlsLogger logger) throws TlsException;
    static native byte[] contextSettings(long context) throws TlsException;
    static native void contextFree(long context);
    static native void verify(long context, byte[] chainPem, byte[] peerName, long atTime) throws TlsException;

    // ---- connections
    static native long dial(long context, byte[] host, int port, int timeoutMs) throws TlsException;
    static native long connNewBuffer(long context, byte[] targetName) throws TlsException;
    /** 0, or TLSB_WANT_* in buffer mode. */
    static native int handshake(long conn) throws TlsException;
    /** Bytes (at most one internal buffer), TLSB_CLOSED, or TLSB_WANT_* in buffer mode. */
    static native int read(long conn, byte[] buffer, int offset, int length) throws TlsException;
    /** Bytes written (at most one internal buffer), or TLSB_WANT_* in buffer mode. */
    static native int write(long conn, byte[] buffer, int offset, int length) throws TlsException;
    /** As read, into a direct buffer in place (offset from its start; any length). */
    static native int readDirect(long conn, java.nio.ByteBuffer buffer, int offset, int length) throws TlsException;
    /** As write, from a direct buffer in place (offset from its start; any length). */
    static native int writeDirect(long conn, java.nio.ByteBuffer buffer, int offset, int length) throws TlsException;
    static native void shutdown(long conn) throws TlsException;
    static native void close(long conn);
    static native void free(long conn);
    static native void setTimeout(long conn, int timeoutMs) throws TlsException;
    static native void feed(long conn, byte[] buffer, int offset, int length) throws TlsException;
    static native void feedEof(long conn) throws TlsException;
    static native int drain(long conn, byte[] buffer, int offset, int capacity) throws TlsException;
    static native int pending(long conn) throws TlsException;
    static native byte[] info(long conn, int key) throws TlsException;
    static native byte[] sessionExport(long conn) throws TlsException;
    static native void sessionImport(long conn, byte[] session) throws TlsException;

    // ---- listeners
    static native long listen(byte[] host, int port, int backlog) throws TlsException;
    static native int listenerPort(long listener) throws TlsException;
    static native long accept(long listener, long context, int timeoutMs) throws TlsException;
    static native void listenerClose(long listener);
    static native void listenerFree(long listener);
}
