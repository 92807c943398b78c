package org.tlsbridge;

/**
 * The status codes of the C core, one constant per {@code TLSB_*} code in {@code tlsbridge.h}
 * with the prefix dropped ({@code TLSB_ERR_PROTOCOL_VERSION} is {@link #ERR_PROTOCOL_VERSION}).
 * The values are the header's and never change; {@link TlsException#getStatus()} returns one.
 */
public final class TlsStatus {
    public static final int OK = 0;
    public static final int WANT_READ = -1;
    public static final int WANT_WRITE = -2;
    public static final int CLOSED = -3;

    public static final int ERR_ARGUMENT = -10;
    public static final int ERR_HANDLE_CLOSED = -11;
    public static final int ERR_NO_MEMORY = -12;
    public static final int ERR_STATE = -13;

    public static final int ERR_OPTION_UNKNOWN = -20;
    public static final int ERR_OPTION_VALUE = -21;
    public static final int ERR_OPTION_CONFLICT = -22;
    public static final int ERR_FILE = -23;
    public static final int ERR_KEY_MISMATCH = -24;
    public static final int ERR_CIPHER_NONE = -25;
    public static final int ERR_CERT_REQUIRED = -26;
    public static final int ERR_PROTOCOL_NONE = -27;

    public static final int ERR_PROTOCOL_VERSION = -30;
    public static final int ERR_HANDSHAKE = -31;
    public static final int ERR_VERIFY = -32;
    public static final int ERR_VERIFY_NAME = -33;
    public static final int ERR_PEER_CERT_MISSING = -34;
    public static final int ERR_TLS = -35;

    public static final int ERR_IO = -40;
    public static final int ERR_TIMEOUT = -41;
    public static final int ERR_CONNECT = -42;
    public static final int ERR_RESOLVE = -43;
    public static final int ERR_PEER_RESET = -44;

    public static final int ERR_BUFFER_TOO_SMALL = -50;
    public static final int ERR_INTERNAL = -99;

    private TlsStatus() {
    }

    /** The core's symbolic name of a status, e.g. {@code "TLSB_ERR_OPTION_VALUE"}. */
    public static String name(int status) {
        Native.ensureLoaded();
        return Native.utf8(Native.statusName(status));
    }
}
