/**
 * The Java face of tlsbridge: one TLS stack (the C core over OpenSSL 3) for C, Java and .NET.
 * Build a {@link org.tlsbridge.TlsContext} from {@link org.tlsbridge.TlsConfig} options named as in
 * the Genesys documentation, then connect, wrap a {@link java.net.Socket}, or listen. Java forwards
 * option strings and bytes; every TLS decision is the core's. See docs/java.md.
 */
package org.tlsbridge;
