package org.tlsbridge;

/** Facts about the native library this face runs on. */
public final class TlsBridge {
    private TlsBridge() {
    }

    /**
     * Where the JNI library was loaded from: its path, or {@code jar:META-INF/native/<platform>/...}
     * when it came from this jar (see docs/java.md, Loading). Loads the library if not yet done.
     */
    public static String loadedFrom() {
        Native.ensureLoaded();
        return NativeLoader.loadedFrom();
    }

    /** The core's version, e.g. "1.0.0". */
    public static String version() {
        Native.ensureLoaded();
        return Native.utf8(Native.version());
    }

    /** The OpenSSL the core is linked with, e.g. "OpenSSL 3.0.19 27 Jan 2026". */
    public static String opensslVersion() {
        Native.ensureLoaded();
        return Native.utf8(Native.opensslVersion());
    }

    /**
     * Whether compatibility mode is on (TLSBRIDGE_COMPAT_MODE=1 or GCTI_SECPACK_COMPAT_MODE=1 in the
     * environment when the process started).
     */
    public static boolean compatMode() {
        Native.ensureLoaded();
        return Native.compatMode() != 0;
    }
}
