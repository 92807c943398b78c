package org.tlsbridge;

/**
 * Receives the core's messages for contexts built from a {@link TlsConfig} (errors and warnings
 * while a context is built, e.g. options dropped from {@code protocol-list}), on the thread that
 * caused them. Set with {@link TlsConfig#setLogger}. What it throws is ignored.
 */
@FunctionalInterface
public interface TlsLogger {
    /** Levels, as the header's TLSB_LOG_* values. */
    int ERROR = 0;
    int WARNING = 1;
    int INFO = 2;
    int DEBUG = 3;

    void log(int level, String message);
}
