package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Java face against the native `tlsbridge` program: same core, other process, other face. */
class NativeToolInteropTest {

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void javaClientTalksToNativeServer(boolean wrapped) throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            Clients.roundTrip(socket, "hello native");
            assertEquals("TLSv1.3", socket.getProtocol());
            assertEquals("ok", socket.getVerifyResult());
            String cipher = socket.getCipher();
            socket.close();
            assertTrue(waitForLine(server, "[1] version: TLSv1.3"), server.output().toString());
            assertTrue(server.output().stream().anyMatch(l -> l.startsWith("[1] cipher: " + cipher + " ")),
                    server.output().toString());
        }
    }

    @Test
    void javaClientWithTlsVersion12AndCertificateTalksToMutualNativeServer() throws Exception {
        TlsConfig config = TestEnv.trustingClient().set("tls-version", "TLSv1.2")
                .set("certificate", TestEnv.cert("client.pem")).set("certificate-key", TestEnv.cert("client.key"));
        try (NativeServer server = NativeServer.withTestCertificate("tls-mutual=1", "trusted-ca=" + TestEnv.cert("ca.pem"));
             TlsContext context = TlsContext.client(config);
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            Clients.roundTrip(socket, "mutual 1.2");
            assertEquals("TLSv1.2", socket.getProtocol());
            socket.close();
            assertTrue(waitForLine(server, "[1] version: TLSv1.2"), server.output().toString());
            assertTrue(server.output().stream().anyMatch(l -> l.startsWith("[1] peer: ") && l.contains("CN=tlsbridge client")),
                    server.output().toString());
        }
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void nativeClientTalksToJavaServer(boolean wrapped) throws Exception {
        TlsConfig config = TestEnv.server().set("tls-mutual", "1").set("trusted-ca", TestEnv.cert("ca.pem"));
        try (JavaServer server = new JavaServer(config, wrapped)) {
            Tool run = Tool.run("hello from the native client\n", "connect", "127.0.0.1:" + server.port(),
                    "trusted-ca=" + TestEnv.cert("ca.pem"), "certificate=" + TestEnv.cert("client.pem"),
                    "certificate-key=" + TestEnv.cert("client.key"));
            assertEquals(0, run.exit, run.toString());
            assertEquals("hello from the native client\n", run.stdout, run.toString());
            assertTrue(run.stderr.contains("version: TLSv1.3"), run.toString());
            assertTrue(run.stderr.contains("verify: ok"), run.toString());
            ServerResult seen = server.next();
            assertNull(seen.failure);
            assertEquals("TLSv1.3", seen.protocol);
            assertTrue(seen.peer.contains("CN=tlsbridge client"), seen.peer);
        }
    }

    @Test
    void javaServerRejectsNativeClientWithUntrustedCertificate() throws Exception {
        TlsConfig config = TestEnv.server().set("tls-mutual", "1").set("trusted-ca", TestEnv.cert("ca.pem"));
        try (JavaServer server = new JavaServer(config, false)) {
            Tool run = Tool.run("", "connect", "127.0.0.1:" + server.port(), "trusted-ca=" + TestEnv.cert("ca.pem"),
                    "certificate=" + TestEnv.cert("other-client.pem"), "certificate-key=" + TestEnv.cert("other-client.key"));
            TlsVerifyException e = (TlsVerifyException) server.next().failure;
            assertEquals(TlsStatus.ERR_VERIFY, e.getStatus(), e.toString());
            // TLS 1.3: the client's handshake is done before the server checks; the alert ends its read.
            assertNotEquals(0, run.exit, run.toString());
            assertTrue(run.stderr.contains("alert unknown ca"), run.toString());
        }
    }

    @Test
    void nativeClientRejectsJavaServerWithUntrustedCertificate() throws Exception {
        TlsConfig config = new TlsConfig().set("certificate", TestEnv.cert("untrusted.pem"))
                .set("certificate-key", TestEnv.cert("untrusted.key"));
        try (JavaServer server = new JavaServer(config, false)) {
            Tool run = Tool.run("", "connect", "127.0.0.1:" + server.port(), "trusted-ca=" + TestEnv.cert("ca.pem"));
            assertTrue(run.exit != 0, run.toString());
            assertTrue(run.stderr.contains("TLSB_ERR_VERIFY"), run.toString());
            assertTrue(server.next().failure instanceof TlsException);
        }
    }

    /** tls=0 on both sides: the same API passes the bytes through in clear. */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void clearModePassesBytesThrough(boolean wrapped) throws Exception {
        try (NativeServer server = new NativeServer("tls=0");
             TlsContext context = TlsContext.client(new TlsConfig().set("tls", "0"));
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            Clients.roundTrip(socket, "in clear");
            assertEquals("none", socket.getProtocol());
            assertEquals("none", socket.getVerifyResult());
        }
    }

    /** A read timeout throws TLSB_ERR_TIMEOUT and leaves the connection usable. */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void readTimeoutLeavesTheConnectionUsable(boolean wrapped) throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            socket.startHandshake();
            socket.setSoTimeout(200);
            assertEquals(200, socket.getSoTimeout());
            TlsException e = assertThrows(TlsException.class, () -> socket.getInputStream().read());
            assertEquals(TlsStatus.ERR_TIMEOUT, e.getStatus(), e.toString());
            socket.setSoTimeout(20_000);
            Clients.roundTrip(socket, "still here");
        }
    }

    /** A session exported from one connection resumes on the next, in both modes. */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void exportedSessionResumes(boolean wrapped) throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate();
             TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            byte[] session;
            try (TlsSocket first = Clients.connect(context, server.port(), wrapped)) {
                Clients.roundTrip(first, "first"); // TLS 1.3 tickets come after the handshake
                assertFalse(first.isSessionReused());
                session = first.exportSession();
                TlsException late = assertThrows(TlsException.class, () -> first.importSession(session));
                assertEquals(TlsStatus.ERR_STATE, late.getStatus(), late.toString());
            }
            try (TlsSocket second = Clients.connect(context, server.port(), wrapped)) {
                second.importSession(session);
                Clients.roundTrip(second, "second");
                assertTrue(second.isSessionReused());
            }
            try (TlsSocket third = Clients.connect(context, server.port(), wrapped)) {
                TlsException garbage = assertThrows(TlsException.class, () -> third.importSession(new byte[] {1, 2, 3}));
                assertEquals(TlsStatus.ERR_ARGUMENT, garbage.getStatus(), garbage.toString());
            }
        }
    }

    /** Versions below TLS 1.2 are enabled only on request, and then they work (JSSE 17 refuses them). */
    @Test
    void tlsVersion11TalksTls11ToANativeServerThatAllowsIt() throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate("sec-protocol=SSLv23");
             TlsContext context = TlsContext.client(TestEnv.trustingClient().set("tls-version", "TLSv1.1"));
             TlsSocket socket = Clients.connect(context, server.port(), true)) {
            assertTrue(context.effectiveSettings().contains("\nprotocols: TLSv1.1\n"), context.effectiveSettings());
            Clients.roundTrip(socket, "old but asked for");
            assertEquals("TLSv1.1", socket.getProtocol());
        }
    }

    /** The server prints a connection's details when its handshake is done, maybe after the client's. */
    private static boolean waitForLine(NativeServer server, String line) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (server.output().contains(line)) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }
}
