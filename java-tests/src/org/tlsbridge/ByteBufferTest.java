package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TlsSocket.read(ByteBuffer) / write(ByteBuffer) against a JSSE echo server, both modes. */
class ByteBufferTest {
    /** More than two TLS records, so that writes and reads span several. */
    private static final int SIZE = 40_000;

    private static byte[] randomBytes() {
        byte[] data = new byte[SIZE];
        new Random(7).nextBytes(data);
        return data;
    }

    /** Reads into dst until it is full; every read advances the position by what it returned. */
    private static void readFully(TlsSocket socket, ByteBuffer dst) throws Exception {
        while (dst.hasRemaining()) {
            int before = dst.position();
            int n = socket.read(dst);
            if (n < 0) {
                throw new java.io.EOFException("end of stream at " + dst.position());
            }
            assertEquals(before + n, dst.position());
        }
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void directBuffersRoundTrip(boolean wrapped) throws Exception {
        byte[] data = randomBytes();
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            ByteBuffer out = ByteBuffer.allocateDirect(SIZE + 10);
            out.position(10); // not at the buffer's start: the offset must be honoured
            out.put(data).flip().position(10);
            assertEquals(SIZE, socket.write(out));
            assertEquals(out.limit(), out.position());

            ByteBuffer in = ByteBuffer.allocateDirect(SIZE + 5);
            in.position(5);
            readFully(socket, in);
            byte[] got = new byte[SIZE];
            in.flip().position(5);
            in.get(got);
            assertArrayEquals(data, got);

            socket.shutdownOutput();
            assertEquals(-1, socket.read(ByteBuffer.allocateDirect(16)), "the echo ended with close_notify");
        }
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void heapAndReadOnlyBuffers(boolean wrapped) throws Exception {
        byte[] data = randomBytes();
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            byte[] backing = new byte[SIZE + 3];
            System.arraycopy(data, 0, backing, 3, SIZE);
            ByteBuffer slice = ByteBuffer.wrap(backing, 3, SIZE).slice(); // arrayOffset 3
            assertEquals(SIZE, socket.write(slice));
            assertEquals(SIZE, socket.write(ByteBuffer.wrap(data).asReadOnlyBuffer()));

            ByteBuffer in = ByteBuffer.allocate(2 * SIZE + 2).position(2).slice();
            readFully(socket, in);
            byte[] got = new byte[SIZE];
            in.flip().get(got);
            assertArrayEquals(data, got);
            in.get(got);
            assertArrayEquals(data, got);
            assertEquals(0, socket.read(ByteBuffer.allocate(0)));
        }
    }

    @ParameterizedTest(name = "direct={0}")
    @ValueSource(booleans = {false, true})
    void readIntoAReadOnlyBufferIsRefused(boolean direct) throws Exception {
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            ByteBuffer buffer = (direct ? ByteBuffer.allocateDirect(8) : ByteBuffer.allocate(8)).asReadOnlyBuffer();
            assertThrows(ReadOnlyBufferException.class, () -> socket.read(buffer));
        }
    }

    @ParameterizedTest(name = "direct={0}")
    @ValueSource(booleans = {false, true})
    void aClosedSocketThrows(boolean direct) throws Exception {
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            TlsSocket socket = Clients.connect(context, server.port(), false);
            socket.close();
            ByteBuffer buffer = direct ? ByteBuffer.allocateDirect(8) : ByteBuffer.allocate(8);
            TlsException read = assertThrows(TlsException.class, () -> socket.read(buffer));
            assertEquals(TlsStatus.ERR_HANDLE_CLOSED, read.getStatus(), read.toString());
            TlsException write = assertThrows(TlsException.class, () -> socket.write(buffer));
            assertEquals(TlsStatus.ERR_HANDLE_CLOSED, write.getStatus(), write.toString());
            assertEquals(0, buffer.position(), "a failed call leaves the position alone");
        }
    }
}
