package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Closed, concurrently closed and forgotten objects: exceptions, never a crashed JVM. */
class LifetimeTest {

    private static void assertClosed(Executable call) {
        TlsException e = assertThrows(TlsException.class, call);
        assertEquals(TlsStatus.ERR_HANDLE_CLOSED, e.getStatus(), e.toString());
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void everyUseOfAClosedSocketThrows(boolean wrapped) throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            TlsSocket socket = Clients.connect(context, server.port(), wrapped);
            Clients.roundTrip(socket, "before close");
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            socket.close();
            socket.close();
            assertTrue(socket.isClosed());
            assertClosed(socket::startHandshake);
            assertClosed(socket::getInputStream);
            assertClosed(socket::getOutputStream);
            assertClosed(() -> in.read());
            assertClosed(() -> in.read(new byte[10], 0, 10));
            assertClosed(() -> out.write(1));
            assertClosed(() -> out.write(new byte[10], 0, 10));
            assertClosed(socket::getProtocol);
            assertClosed(socket::getCipher);
            assertClosed(socket::getCipherSuite);
            assertClosed(socket::getPeerSubject);
            assertClosed(socket::getPeerIssuer);
            assertClosed(socket::getVerifyResult);
            assertClosed(socket::getTargetName);
            assertClosed(socket::isSessionReused);
            assertClosed(socket::shutdownOutput);
            assertClosed(socket::exportSession);
            assertClosed(() -> socket.importSession(new byte[] {1}));
            if (!wrapped) { // a wrapped socket's timeout belongs to the closed java.net.Socket
                assertClosed(() -> socket.setSoTimeout(5));
            }
            in.close();
            out.close();
        }
    }

    @Test
    void everyUseOfAClosedContextOrServerSocketThrows() throws Exception {
        TlsContext server = TlsContext.server(TestEnv.server());
        TlsServerSocket listener = server.listen("127.0.0.1", 0, 5);
        listener.close();
        listener.close();
        assertTrue(listener.isClosed());
        assertClosed(listener::accept);
        assertClosed(listener::getLocalPort);
        server.close();
        server.close();
        assertClosed(server::effectiveSettings);
        assertClosed(() -> server.listen("127.0.0.1", 0, 5));
        assertClosed(() -> server.verify(new byte[0], null, null));

        TlsContext client = TlsContext.client(TestEnv.trustingClient());
        client.close();
        assertClosed(() -> client.connect("localhost", 1, 1000));
        try (ServerSocket plain = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
             Socket s = new Socket(InetAddress.getLoopbackAddress(), plain.getLocalPort())) {
            assertClosed(() -> client.wrap(s, "localhost"));
        }
    }

    /** close() from another thread ends a read blocked in the core (socket mode) or in Java (wrapped). */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void closeFromAnotherThreadEndsABlockedRead(boolean wrapped) throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            TlsSocket socket = Clients.connect(context, server.port(), wrapped);
            socket.setSoTimeout(0);
            socket.startHandshake();
            CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return socket.getInputStream().read();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(300);
            assertTrue(!read.isDone(), "the read should block: the echo server has nothing to send");
            socket.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(10, TimeUnit.SECONDS));
            TlsException cause = (TlsException) e.getCause().getCause();
            assertEquals(TlsStatus.ERR_HANDLE_CLOSED, cause.getStatus(), cause.toString());
        }
    }

    /** close() at random moments of a busy connection: every call ends, with data or a TlsException. */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void closeRacesWithReadsAndWrites(boolean wrapped) throws Exception {
        Random random = new Random(7);
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            for (int round = 0; round < 20; round++) {
                TlsSocket socket = Clients.connect(context, server.port(), wrapped);
                CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> drain(socket));
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> flood(socket));
                Thread.sleep(random.nextInt(5));
                socket.close();
                for (CompletableFuture<Void> call : List.of(reader, writer)) {
                    try {
                        call.get(10, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        assertTrue(e.getCause().getCause() instanceof TlsException, e.getCause().toString());
                    }
                }
            }
        }
    }

    private static void drain(TlsSocket socket) {
        try {
            byte[] buffer = new byte[4096];
            while (socket.getInputStream().read(buffer) >= 0) {
                // the echo of flood()
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void flood(TlsSocket socket) {
        try {
            byte[] chunk = new byte[4096];
            for (int i = 0; i < 256; i++) {
                socket.getOutputStream().write(chunk);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void closeFromAnotherThreadEndsABlockedAccept() throws Exception {
        try (TlsContext context = TlsContext.server(TestEnv.server())) {
            TlsServerSocket listener = context.listen("127.0.0.1", 0, 5);
            CompletableFuture<TlsSocket> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return listener.accept();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(300);
            listener.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> accepted.get(10, TimeUnit.SECONDS));
            assertEquals(TlsStatus.ERR_HANDLE_CLOSED, ((TlsException) e.getCause().getCause()).getStatus());
        }
    }

    /**
     * The server socket and its context closed while accept() returns a connection (made
     * deterministic with NativeResource.releaseHook, which closes both as accept releases the
     * listener): the new socket still holds the context, works, and frees it when closed.
     */
    @Test
    void closeDuringAcceptLeavesTheAcceptedSocketItsContext() throws Exception {
        TlsContext serverContext = TlsContext.server(TestEnv.server().setLogger((level, message) -> { }));
        TlsServerSocket listener = serverContext.listen("127.0.0.1", 0, 5);
        try (TlsContext clientContext = TlsContext.client(TestEnv.trustingClient());
             TlsSocket client = clientContext.connect("localhost", listener.getLocalPort(), 5000)) {
            Thread acceptor = Thread.currentThread();
            AtomicBoolean fired = new AtomicBoolean();
            NativeResource.releaseHook = resource -> {
                if (resource.kind == NativeResource.Kind.LISTENER && Thread.currentThread() == acceptor
                        && fired.compareAndSet(false, true)) {
                    listener.close();
                    serverContext.close();
                }
            };
            TlsSocket accepted;
            try {
                accepted = listener.accept();
            } finally {
                NativeResource.releaseHook = null;
            }
            assertTrue(fired.get(), "the hook closed both during accept");
            assertTrue(listener.isClosed());
            try (accepted) {
                CompletableFuture<Void> serverSide = CompletableFuture.runAsync(() -> {
                    try {
                        ServerResult.echo(accepted.getInputStream(), accepted.getOutputStream());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Clients.roundTrip(client, "accepted while its server socket and context closed");
                client.shutdownOutput();
                serverSide.get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A freed handle is never brought back: retain() refuses it (acquire() refuses a closed one). */
    @Test
    void aFreedHandleCannotBeRetained() throws Exception {
        TlsBridge.version();
        NativeResource context = new NativeResource(NativeResource.Kind.CONTEXT,
                Native.contextNew(Native.ROLE_CLIENT, new byte[0][], new byte[0][], null), null);
        context.close(null); // nothing holds it: freed now
        assertClosed(context::retain);
        assertClosed(context::acquire);
    }

    /** Closes racing accept() as it starts and ends: each accept returns a socket or throws, cleanly. */
    @Test
    void closeRacesWithAccept() throws Exception {
        Random random = new Random(11);
        try (TlsContext clientContext = TlsContext.client(TestEnv.trustingClient())) {
            for (int round = 0; round < 200; round++) {
                TlsContext serverContext = TlsContext.server(TestEnv.server());
                TlsServerSocket listener = serverContext.listen("127.0.0.1", 0, 5);
                try (TlsSocket client = clientContext.connect("localhost", listener.getLocalPort(), 5000)) {
                    CompletableFuture<TlsSocket> accepted = CompletableFuture.supplyAsync(() -> {
                        try {
                            return listener.accept();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    if (random.nextBoolean()) {
                        Thread.onSpinWait();
                    } else {
                        Thread.sleep(0, random.nextInt(200_000));
                    }
                    if (random.nextBoolean()) {
                        listener.close();
                        serverContext.close();
                    } else {
                        serverContext.close();
                        listener.close();
                    }
                    try {
                        accepted.get(10, TimeUnit.SECONDS).close();
                    } catch (ExecutionException e) {
                        TlsException cause = (TlsException) e.getCause().getCause();
                        assertEquals(TlsStatus.ERR_HANDLE_CLOSED, cause.getStatus(), cause.toString());
                    }
                }
            }
        }
    }

    @Test
    void acceptTimesOut() throws Exception {
        try (TlsContext context = TlsContext.server(TestEnv.server());
             TlsServerSocket listener = context.listen("127.0.0.1", 0, 5)) {
            listener.setSoTimeout(200);
            TlsException e = assertThrows(TlsException.class, listener::accept);
            assertEquals(TlsStatus.ERR_TIMEOUT, e.getStatus(), e.toString());
        }
    }

    /** Closing a context leaves its server socket and its connections working. */
    @Test
    void closedContextKeepsServerSocketAndConnectionsWorking() throws Exception {
        // With loggers: their global references must live as long as the connections.
        TlsContext serverContext = TlsContext.server(TestEnv.server().setLogger((level, message) -> { }));
        TlsContext clientContext = TlsContext.client(TestEnv.trustingClient().setLogger((level, message) -> { }));
        try (TlsServerSocket listener = serverContext.listen("127.0.0.1", 0, 5)) {
            serverContext.close();
            TlsSocket client = clientContext.connect("127.0.0.1", listener.getLocalPort(), 5000);
            clientContext.close();
            try (client; TlsSocket accepted = listener.accept()) {
                CompletableFuture<Void> serverSide = CompletableFuture.runAsync(() -> {
                    try {
                        ServerResult.echo(accepted.getInputStream(), accepted.getOutputStream());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                Clients.roundTrip(client, "after both contexts were closed");
                client.shutdownOutput();
                serverSide.get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Unclosed contexts, connections and server sockets are freed by the Cleaner once unreachable. */
    @Test
    void garbageCollectedObjectsAreFreed() throws Exception {
        int before = NativeResource.live();
        try (NativeServer server = NativeServer.withTestCertificate()) {
            forget(server.port());
            for (int i = 0; i < 100 && NativeResource.live() > before; i++) {
                System.gc();
                Thread.sleep(50);
            }
        }
        assertTrue(NativeResource.live() <= before, NativeResource.live() + " handles still live, " + before + " before");
    }

    private static void forget(int port) throws Exception {
        List<Object> objects = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            TlsContext context = TlsContext.client(TestEnv.trustingClient());
            TlsSocket socket = context.connect("localhost", port, 5000);
            Clients.roundTrip(socket, "forgotten " + i);
            TlsContext server = TlsContext.server(TestEnv.server());
            objects.add(server.listen("127.0.0.1", 0, 1));
            objects.add(socket);
        }
        assertTrue(NativeResource.live() >= 40);
        objects.clear();
    }
}
