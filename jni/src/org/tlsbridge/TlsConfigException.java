package org.tlsbridge;

/**
 * The options do not make a valid context: an unknown option, a bad value, a contradiction, an
 * unreadable file, a key that does not match its certificate (status codes -20 to -29).
 */
public class TlsConfigException extends TlsException {
    private static final long serialVersionUID = 1L;

    TlsConfigException(int status, String message) {
        super(status, message);
    }
}
