package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The Java face against JSSE, in both roles, socket mode and buffer mode (wrapped sockets). */
class JsseInteropTest {

    @ParameterizedTest(name = "{0}, wrapped={1}")
    @CsvSource({"TLSv1.2, false", "TLSv1.2, true", "TLSv1.3, false", "TLSv1.3, true"})
    void javaClientTalksToJsseServer(String version, boolean wrapped) throws Exception {
        try (JsseServer server = JsseServer.start(version);
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            Clients.roundTrip(socket, "hello over " + version);
            assertEquals(version, socket.getProtocol());
            assertEquals("ok", socket.getVerifyResult());
            assertEquals("localhost", socket.getTargetName());
            assertTrue(socket.getPeerSubject().contains("CN=localhost"), socket.getPeerSubject());
            assertTrue(socket.getPeerIssuer().contains("CN=tlsbridge Test CA"), socket.getPeerIssuer());
            String suite = socket.getCipherSuite();
            socket.close();
            ServerResult seen = server.next();
            assertNull(seen.failure);
            assertEquals(version, seen.protocol);
            assertEquals(suite, seen.cipherSuite, "JSSE and the core name the suite alike");
        }
    }

    @ParameterizedTest(name = "{0}, wrapped={1}")
    @CsvSource({"TLSv1.2, false", "TLSv1.2, true", "TLSv1.3, false", "TLSv1.3, true"})
    void jsseClientTalksToJavaServer(String version, boolean wrapped) throws Exception {
        try (JavaServer server = new JavaServer(TestEnv.server(), wrapped);
             SSLSocket client = jsseClient(Jsse.context(null, "ca.pem"), server.port(), version)) {
            client.getOutputStream().write("ping".getBytes());
            assertEquals("ping", new String(Clients.readFully(client.getInputStream(), 4)));
            assertEquals(version, client.getSession().getProtocol());
            ServerResult seen = server.next();
            assertNull(seen.failure);
            assertEquals(version, seen.protocol);
            assertEquals(client.getSession().getCipherSuite(), seen.cipherSuite);
            assertEquals("", seen.peer, "no client certificate was asked for");
        }
    }

    /** Done criterion: tls-version=TLSv1.2 talks TLS 1.2 to a JSSE server that also offers 1.3. */
    @Test
    void tlsVersionLimitsTheClientToTls12() throws Exception {
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient().set("tls-version", "TLSv1.2"));
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            Clients.roundTrip(socket, "1.2 please");
            assertEquals("TLSv1.2", socket.getProtocol());
            socket.close();
            assertEquals("TLSv1.2", server.next().protocol);
        }
    }

    /** Done criterion: the Java PSDK's default protocol-list works, and the dropped names are reported. */
    @Test
    void psdkDefaultProtocolListWorksAndWarns() throws Exception {
        TlsConfig config = TestEnv.trustingClient().set("protocol-list", "SSLv2Hello SSLv3 TLSv1 TLSv1.1 TLSv1.2");
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(config);
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            String settings = context.effectiveSettings();
            assertTrue(settings.contains("\nprotocols: TLSv1 TLSv1.1 TLSv1.2\n"), settings);
            assertTrue(settings.lines().anyMatch(l -> l.startsWith("warning:") && l.contains("SSLv2Hello")), settings);
            assertTrue(settings.lines().anyMatch(l -> l.startsWith("warning:") && l.contains("SSLv3")), settings);
            Clients.roundTrip(socket, "psdk defaults");
            assertEquals("TLSv1.2", socket.getProtocol());
        }
    }

    /** Done criterion: sec-protocol=TLSv13 against a TLS 1.2-only JSSE server names the versions. */
    @Test
    void secProtocolTls13AgainstTls12ServerIsAProtocolVersionError() throws Exception {
        try (JsseServer server = JsseServer.start("TLSv1.2");
             TlsContext context = TlsContext.client(TestEnv.trustingClient().set("sec-protocol", "TLSv13"));
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            TlsException e = assertThrows(TlsException.class, socket::startHandshake);
            assertEquals(TlsStatus.ERR_PROTOCOL_VERSION, e.getStatus(), e.toString());
            assertEquals("TLSB_ERR_PROTOCOL_VERSION", e.getStatusName());
            assertTrue(e.getMessage().contains("TLSv1.3"), e.getMessage());
            assertNotNull(server.next().failure);
        }
    }

    /** JSSE 17 disables TLS 1.1 (jdk.tls.disabledAlgorithms): a tls-version=TLSv1.1 client finds no common version. */
    @Test
    void tlsVersion11IsRefusedByJsse() throws Exception {
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient().set("tls-version", "TLSv1.1"));
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            TlsException e = assertThrows(TlsException.class, socket::startHandshake);
            assertEquals(TlsStatus.ERR_PROTOCOL_VERSION, e.getStatus(), e.toString());
            assertTrue(e.getMessage().contains("TLSv1.1"), e.getMessage());
            assertNotNull(server.next().failure);
        }
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void mutualTlsWithJsseServer(boolean wrapped) throws Exception {
        TlsConfig config = TestEnv.trustingClient().set("certificate", TestEnv.cert("client.pem"))
                .set("certificate-key", TestEnv.cert("client.key"));
        try (JsseServer server = new JsseServer(Jsse.context("server", "ca.pem"), null, true);
             TlsContext context = TlsContext.client(config);
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            Clients.roundTrip(socket, "with my certificate");
            socket.close();
            ServerResult seen = server.next();
            assertNull(seen.failure);
            assertTrue(seen.peer.contains("CN=tlsbridge client"), seen.peer);
        }
    }

    @Test
    void jsseServerRejectsAClientWithoutCertificate() throws Exception {
        try (JsseServer server = new JsseServer(Jsse.context("server", "ca.pem"), null, true);
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            // TLS 1.3: the client's handshake ends before the server checks; the alert comes with the first read.
            TlsException e = assertThrows(TlsException.class, () -> Clients.roundTrip(socket, "no certificate"));
            assertTrue(e.getStatus() == TlsStatus.ERR_HANDSHAKE || e.getStatus() == TlsStatus.ERR_TLS, e.toString());
            assertNotNull(server.next().failure);
        }
    }

    /**
     * clientCert: "client" (trusted) or "none". (JSSE offers only a certificate from a CA the server
     * names, so an untrusted client certificate is tested with the native client instead.)
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"client", "none"})
    void mutualTlsWithJsseClient(String clientCert) throws Exception {
        TlsConfig config = TestEnv.server().set("tls-mutual", "1").set("trusted-ca", TestEnv.cert("ca.pem"));
        try (JavaServer server = new JavaServer(config, false);
             SSLSocket client = jsseClient(Jsse.context("none".equals(clientCert) ? null : clientCert, "ca.pem"),
                     server.port(), null)) {
            ServerResult seen;
            if ("client".equals(clientCert)) {
                client.getOutputStream().write(1);
                assertEquals(1, client.getInputStream().read());
                seen = server.next();
                assertNull(seen.failure);
                assertTrue(seen.peer.contains("CN=tlsbridge client"), seen.peer);
                return;
            }
            assertThrows(IOException.class, () -> {
                client.getOutputStream().write(1);
                client.getInputStream().read();
            });
            seen = server.next();
            TlsVerifyException e = (TlsVerifyException) seen.failure;
            assertEquals(TlsStatus.ERR_PEER_CERT_MISSING, e.getStatus(), e.toString());
        }
    }

    @Test
    void wrongHostIsAVerifyNameError() throws Exception {
        try (JsseServer server = new JsseServer(Jsse.context("wrongname", null), null, false);
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), false)) {
            TlsVerifyException e = assertThrows(TlsVerifyException.class, socket::startHandshake);
            assertEquals(TlsStatus.ERR_VERIFY_NAME, e.getStatus(), e.toString());
            assertTrue(e.getMessage().contains("localhost"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void untrustedCaIsAVerifyError(boolean wrapped) throws Exception {
        try (JsseServer server = new JsseServer(Jsse.context("untrusted", null), null, false);
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            TlsVerifyException e = assertThrows(TlsVerifyException.class, socket::startHandshake);
            assertEquals(TlsStatus.ERR_VERIFY, e.getStatus(), e.toString());
            // The client's alert reached JSSE, which reports it instead of a bare end of stream.
            Exception seen = server.next().failure;
            assertTrue(seen instanceof javax.net.ssl.SSLException, String.valueOf(seen));
        }
    }

    @Test
    void jsseClientRejectsJavaServerWithWrongName() throws Exception {
        TlsConfig config = new TlsConfig().set("certificate", TestEnv.cert("wrongname.pem"))
                .set("certificate-key", TestEnv.cert("wrongname.key"));
        try (JavaServer server = new JavaServer(config, true);
             SSLSocket client = jsseClient(Jsse.context(null, "ca.pem"), server.port(), null)) {
            assertThrows(javax.net.ssl.SSLHandshakeException.class, client::startHandshake);
            assertNotNull(server.next().failure);
        }
    }

    /** A megabyte each way at once: one thread writes while another reads, in both modes. */
    @ParameterizedTest(name = "wrapped={0}")
    @ValueSource(booleans = {false, true})
    void bulkTransferWithConcurrentReaderAndWriter(boolean wrapped) throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(42).nextBytes(data);
        try (JsseServer server = JsseServer.start();
             TlsContext context = TlsContext.client(TestEnv.trustingClient());
             TlsSocket socket = Clients.connect(context, server.port(), wrapped)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int off = 0; off < data.length; off += 100_000) {
                        socket.getOutputStream().write(data, off, Math.min(100_000, data.length - off));
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] echoed = Clients.readFully(socket.getInputStream(), data.length);
            writer.get(30, TimeUnit.SECONDS);
            org.junit.jupiter.api.Assertions.assertArrayEquals(data, echoed);
        }
    }

    /** A JSSE client checking the host name "localhost"; version: the one protocol to enable, or null. */
    static SSLSocket jsseClient(javax.net.ssl.SSLContext context, int port, String version) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setServerNames(java.util.List.of(new javax.net.ssl.SNIHostName("localhost")));
        if (version != null) {
            parameters.setProtocols(new String[] {version});
        }
        socket.setSSLParameters(parameters);
        socket.setSoTimeout(20_000);
        return socket;
    }
}
