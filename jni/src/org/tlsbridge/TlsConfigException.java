package org.tlsbridge;

/**
 * The options do not make a valid context: an unknown option, a bad value, a contradiction, an
 * unreadable file, a key that does not match its certificate: the statuses the core's
 * {@code tlsb_status_kind} calls {@code TLSB_KIND_CONFIG} (today -20 to -27).
 */
public class TlsConfigException extends TlsException {
    private static final long serialVersionUID = 1L;

    TlsConfigException(int status, String message) {
        super(status, message);
    }
}
