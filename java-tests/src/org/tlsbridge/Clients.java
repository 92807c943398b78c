package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Ways the Java face connects in the tests, and a round trip through an echo server. */
final class Clients {
    private Clients() {
    }

    /** A client socket to 127.0.0.1:port checked as "localhost": dialled natively or wrapped. */
    static TlsSocket connect(TlsContext context, int port, boolean wrapped) throws IOException {
        TlsSocket socket;
        if (wrapped) {
            socket = context.wrap(new Socket(InetAddress.getLoopbackAddress(), port), "localhost");
        } else {
            socket = context.connect("localhost", port, 10_000);
        }
        socket.setSoTimeout(20_000);
        return socket;
    }

    /** Sends text through an echo server and checks that it comes back. */
    static void roundTrip(TlsSocket socket, String text) throws IOException {
        byte[] sent = text.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(sent);
        assertArrayEquals(sent, readFully(socket.getInputStream(), sent.length));
    }

    static byte[] readFully(InputStream in, int length) throws IOException {
        byte[] got = new byte[length];
        for (int done = 0; done < length; ) {
            int n = in.read(got, done, length - done);
            if (n < 0) {
                throw new java.io.EOFException("end of stream after " + done + " of " + length + " bytes");
            }
            done += n;
        }
        return got;
    }
}
