package org.tlsbridge;

/**
 * A failure reported by the C core: its status code ({@link TlsStatus}) and its message, which
 * names the option, file, OpenSSL reason or certificate check at fault.
 * Configuration errors are {@link TlsConfigException}s and certificate verification failures
 * {@link TlsVerifyException}s; everything else (handshake, I/O, closed handles) is this class.
 */
public class TlsException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    private final int status;

    protected TlsException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The status code, one of the {@link TlsStatus} constants. */
    public int getStatus() {
        return status;
    }

    /** The status code's symbolic name, e.g. {@code "TLSB_ERR_VERIFY"}. */
    public String getStatusName() {
        return TlsStatus.name(status);
    }

    @Override
    public String toString() {
        return getClass().getName() + ": " + getStatusName() + ": " + getMessage();
    }

    /** The one place that maps a status code to an exception class, by the core's tlsb_status_kind. */
    static TlsException of(int status, String message) {
        switch (Native.statusKind(status)) {
            case Native.KIND_CONFIG:
                return new TlsConfigException(status, message);
            case Native.KIND_VERIFY:
                return new TlsVerifyException(status, message);
            default:
                return new TlsException(status, message);
        }
    }

    /** Called by the JNI library with the core's status and UTF-8 message. */
    static TlsException fromNative(int status, byte[] message) {
        return of(status, Native.utf8(message));
    }
}
