package org.tlsbridge;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The Java face as an echo server on loopback: natively listening (TlsServerSocket) or wrapping
 * the sockets of a java.net.ServerSocket (buffer mode). Records each connection's details.
 */
final class JavaServer implements AutoCloseable {
    private final TlsContext context;
    private final TlsServerSocket listener;
    private final ServerSocket plain;
    private final BlockingQueue<ServerResult> results = new LinkedBlockingQueue<>();
    private final Thread thread;

    JavaServer(TlsConfig config, boolean wrapped) throws IOException {
        context = TlsContext.server(config);
        if (wrapped) {
            plain = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            listener = null;
        } else {
            plain = null;
            listener = context.listen("127.0.0.1", 0, 50);
        }
        thread = new Thread(this::serve, "java-server");
        thread.setDaemon(true);
        thread.start();
    }

    int port() throws TlsException {
        return plain != null ? plain.getLocalPort() : listener.getLocalPort();
    }

    ServerResult next() throws InterruptedException {
        return ServerResult.next(results);
    }

    private void serve() {
        for (;;) {
            TlsSocket socket;
            try {
                socket = plain != null ? context.wrap(plain.accept(), null) : listener.accept();
            } catch (IOException closed) {
                return;
            }
            try (socket) {
                try {
                    socket.setSoTimeout(20_000);
                    socket.startHandshake();
                    results.add(new ServerResult(socket.getProtocol(), socket.getCipherSuite(),
                            socket.getPeerSubject(), null));
                } catch (IOException e) {
                    results.add(ServerResult.failed(e));
                    continue;
                }
                ServerResult.echo(socket.getInputStream(), socket.getOutputStream());
            } catch (IOException clientLeft) {
                // The result was recorded at the handshake; the echo only serves the client.
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (plain != null) {
            plain.close();
        } else {
            listener.close();
        }
        thread.join(10_000);
        context.close();
    }
}
