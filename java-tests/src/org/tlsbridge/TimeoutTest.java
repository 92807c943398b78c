package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Timeouts: 0 is no limit, negative is refused, and close() is bounded even without one. */
class TimeoutTest {
    /** Not a speed measure: close() must merely end, where before it waited for ever. */
    private static final Duration BOUND = Duration.ofSeconds(5);

    /** A JSSE server that completes the handshake, then stops reading until it is closed. */
    private static final class StalledPeer implements AutoCloseable {
        private final SSLServerSocket server;
        private final CountDownLatch done = new CountDownLatch(1);
        private final Thread thread;

        StalledPeer() throws Exception {
            server = (SSLServerSocket) Jsse.context("server", null).getServerSocketFactory()
                    .createServerSocket(0, 5, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.startHandshake();
                    done.await();
                } catch (IOException | InterruptedException e) {
                    // the test ends either way; the client side asserts
                }
            }, "stalled-peer");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            done.countDown();
            server.close();
            thread.join(10_000);
        }
    }

    /** A socket whose writes, once stalled, block as a full window does: until the socket is closed. */
    private static final class StallingSocket extends Socket {
        private final CountDownLatch closed = new CountDownLatch(1);
        private volatile boolean stalled;

        StallingSocket(int port) throws IOException {
            super(InetAddress.getLoopbackAddress(), port);
        }

        void stall() {
            stalled = true;
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            return new FilterOutputStream(super.getOutputStream()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (stalled) {
                        try {
                            closed.await();
                        } catch (InterruptedException e) {
                            throw new InterruptedIOException();
                        }
                        throw new SocketException("Socket closed");
                    }
                    out.write(b, off, len);
                }
            };
        }

        @Override
        public synchronized void close() throws IOException {
            closed.countDown();
            super.close();
        }
    }

    /** Socket mode: a real peer that stopped reading, whose window the client has filled. */
    @Test
    void closeReturnsWhenThePeerStoppedReading() throws Exception {
        try (StalledPeer peer = new StalledPeer();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            TlsSocket socket = context.connect("localhost", peer.port(), 10_000);
            socket.setSoTimeout(300);
            socket.startHandshake();
            // Writes time out once the peer's receive window and this side's send buffer are full.
            TlsException full = assertThrows(TlsException.class, () -> {
                byte[] chunk = new byte[65536];
                for (;;) {
                    socket.getOutputStream().write(chunk);
                }
            });
            assertEquals(TlsStatus.ERR_TIMEOUT, full.getStatus(), full.toString());
            socket.setSoTimeout(0); // no limit for reads and writes; close() keeps its own
            assertTimeoutPreemptively(BOUND, socket::close);
            assertTrue(socket.isClosed());
        }
    }

    /** Buffer mode: the wrapped socket's write of close_notify blocks until the socket is closed. */
    @Test
    void closeOfAWrappedSocketReturnsWhenThePeerStoppedReading() throws Exception {
        try (StalledPeer peer = new StalledPeer();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            StallingSocket transport = new StallingSocket(peer.port());
            TlsSocket socket = context.wrap(transport, "localhost");
            socket.setSoTimeout(0);
            socket.startHandshake();
            transport.stall();
            assertTimeoutPreemptively(BOUND, socket::close);
            assertTrue(socket.isClosed());
            assertTrue(transport.isClosed());
        }
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void negativeTimeoutsAreRefusedAndZeroIsNoLimit(boolean wrapped) throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> socket.setSoTimeout(-1));
            assertTrue(e.getMessage().contains("negative"), e.getMessage());
            assertEquals(20_000, socket.getSoTimeout(), "a refused timeout changes nothing");
            socket.setSoTimeout(0);
            assertEquals(0, socket.getSoTimeout());
            Clients.roundTrip(socket, "no limit");
            assertThrows(IllegalArgumentException.class, () -> context.connect("localhost", server.port(), -5));
        }
        try (TlsContext context = TlsContext.server(TestEnv.server());
             TlsServerSocket listener = context.listen("127.0.0.1", 0, 5)) {
            assertThrows(IllegalArgumentException.class, () -> listener.setSoTimeout(-1));
            listener.setSoTimeout(0);
            assertEquals(0, listener.getSoTimeout());
        }
    }
}
