package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The peer ends the TLS session (close_notify): reads see the end of the stream, writes and an
 * unfinished handshake fail with an exception, and nothing loops or hangs on the result.
 */
class PeerCloseTest {
    private static final Duration BOUND = Duration.ofSeconds(20);

    /** A JSSE server that sends "bye", then close_notify, and closes its socket. */
    @ParameterizedTest(name = "{0}, wrapped={1}, direct={2}")
    @CsvSource({"TLSv1.2, false, false", "TLSv1.2, true, false", "TLSv1.3, false, false", "TLSv1.3, true, false",
        "TLSv1.3, false, true", "TLSv1.3, true, true"})
    void writeAfterPeersCloseNotifyThrows(String version, boolean wrapped, boolean direct) throws Exception {
        try (SSLServerSocket server = (SSLServerSocket) Jsse.context("server", null).getServerSocketFactory()
                .createServerSocket(0, 5, InetAddress.getLoopbackAddress());
             TlsContext context = TlsContext.client(TestEnv.trustingClient().set("tls-version", version))) {
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (TlsSocket socket = Clients.connect(context, server.getLocalPort(), wrapped)) {
                assertEquals("bye", new String(Clients.readFully(socket.getInputStream(), 3), StandardCharsets.US_ASCII));
                peer.get(20, TimeUnit.SECONDS);
                assertEquals(-1, socket.getInputStream().read(), "the peer's close_notify ends the stream");
                assertEquals(-1, socket.read(ByteBuffer.allocateDirect(10)), "for every read path");
                assertEquals(-1, socket.read(ByteBuffer.allocate(10)), "for every read path");
                IOException e = assertThrows(IOException.class, () -> assertTimeoutPreemptively(BOUND, () -> {
                    byte[] chunk = new byte[16384];
                    ByteBuffer buffer = direct ? ByteBuffer.allocateDirect(chunk.length) : null;
                    for (;;) { // the first writes may still reach the peer's socket before its reset comes back
                        if (direct) {
                            socket.write(buffer.clear());
                        } else {
                            socket.getOutputStream().write(chunk);
                        }
                    }
                }));
                assertEquals(-1, socket.getInputStream().read(), "still the end of the stream after " + e);
            }
        }
    }

    /**
     * A peer that answers the ClientHello with close_notify ends the handshake: startHandshake
     * throws instead of returning as if the handshake were done, and so do the calls after it.
     */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void closeNotifyInsteadOfAHandshakeFailsIt(boolean wrapped) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    in.read(new byte[16384]); // the ClientHello (or its start)
                    // An unencrypted warning alert close_notify, as a TLS 1.2 record.
                    out.write(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00});
                    out.flush();
                    s.setSoTimeout(20_000);
                    while (in.read(new byte[1024]) >= 0) {
                        // until the client closes
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (TlsSocket socket = Clients.connect(context, server.getLocalPort(), wrapped)) {
                TlsException e = assertTimeoutPreemptively(BOUND,
                        () -> assertThrows(TlsException.class, socket::startHandshake));
                // The core reports a session closed before it was made as a failed handshake.
                assertEquals(TlsStatus.ERR_HANDSHAKE, e.getStatus(), e.toString());
                assertTrue(e.getMessage().contains("close_notify"), e.getMessage());
                assertTimeoutPreemptively(BOUND, () -> assertThrows(TlsException.class, socket::getProtocol));
            }
            peer.get(20, TimeUnit.SECONDS);
        }
    }
}
