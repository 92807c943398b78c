package org.tlsbridge;

/**
 * The peer's certificate was rejected: its chain failed verification ({@link TlsStatus#ERR_VERIFY}),
 * it does not match the target name ({@link TlsStatus#ERR_VERIFY_NAME}), or a client sent none to a
 * {@code tls-mutual} server ({@link TlsStatus#ERR_PEER_CERT_MISSING}): the statuses the core's
 * {@code tlsb_status_kind} calls {@code TLSB_KIND_VERIFY}.
 */
public class TlsVerifyException extends TlsException {
    private static final long serialVersionUID = 1L;

    TlsVerifyException(int status, String message) {
        super(status, message);
    }
}
