package org.tlsbridge;

import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/** A JSSE echo server on loopback that records, per connection, what it negotiated or why it failed. */
final class JsseServer implements AutoCloseable {
    private final SSLServerSocket server;
    private final BlockingQueue<ServerResult> results = new LinkedBlockingQueue<>();
    private final Thread thread;

    /** protocols: JSSE names to enable, or null for JSSE's defaults. */
    JsseServer(SSLContext context, String[] protocols, boolean needClientAuth) throws IOException {
        server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                InetAddress.getLoopbackAddress());
        if (protocols != null) {
            server.setEnabledProtocols(protocols);
        }
        server.setNeedClientAuth(needClientAuth);
        thread = new Thread(this::serve, "jsse-server");
        thread.setDaemon(true);
        thread.start();
    }

    /** A server with the test certificate, limited to the given protocols (none: JSSE's defaults). */
    static JsseServer start(String... protocols) throws Exception {
        return new JsseServer(Jsse.context("server", null), protocols.length == 0 ? null : protocols, false);
    }

    int port() {
        return server.getLocalPort();
    }

    /** What the next connection negotiated (or why it failed). */
    ServerResult next() throws InterruptedException {
        return ServerResult.next(results);
    }

    private void serve() {
        while (!server.isClosed()) {
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.setSoTimeout(20_000);
                try {
                    s.startHandshake();
                    // TLS 1.3 clients learn of a rejected certificate only on their first read: echo
                    // first, record after, so the client side sees the alert before the result is read.
                    ServerResult.echo(s.getInputStream(), s.getOutputStream());
                    results.add(result(s.getSession()));
                } catch (IOException e) {
                    results.add(ServerResult.failed(e));
                }
            } catch (IOException closed) {
                return;
            }
        }
    }

    private static ServerResult result(SSLSession session) {
        String peer = null;
        try {
            peer = session.getPeerPrincipal().getName();
        } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
            // no client certificate
        }
        return new ServerResult(session.getProtocol(), session.getCipherSuite(), peer, null);
    }

    @Override
    public void close() throws Exception {
        server.close();
        thread.join(10_000);
    }
}
