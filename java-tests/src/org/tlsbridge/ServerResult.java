package org.tlsbridge;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** One connection as a test server saw it: what it negotiated, or why it failed. */
final class ServerResult {
    final String protocol;
    final String cipherSuite;
    /** The client certificate's subject, null or "" without one. */
    final String peer;
    final Exception failure;

    ServerResult(String protocol, String cipherSuite, String peer, Exception failure) {
        this.protocol = protocol;
        this.cipherSuite = cipherSuite;
        this.peer = peer;
        this.failure = failure;
    }

    static ServerResult failed(Exception failure) {
        return new ServerResult(null, null, null, failure);
    }

    /** The next result a server thread queued; fails the test after 20 s. */
    static ServerResult next(BlockingQueue<ServerResult> results) throws InterruptedException {
        ServerResult r = results.poll(20, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("the test server saw no connection within 20 s");
        }
        return r;
    }

    static void echo(java.io.InputStream in, java.io.OutputStream out) throws java.io.IOException {
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) > 0; ) {
            out.write(buffer, 0, n);
            out.flush();
        }
    }
}
