package org.tlsbridge.bench;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.tlsbridge.TlsConfig;
import org.tlsbridge.TlsContext;
import org.tlsbridge.TlsServerSocket;
import org.tlsbridge.TlsSocket;

/**
 * The Java face against its anchor: the workloads of ../shared/BENCH.md through tlsbridge (JNI) and
 * through SunJSSE on the same JDK, interleaved (tlsbridge, JSSE, tlsbridge, JSSE, ...) for several
 * rounds after one untimed warm-up round. Prints, per workload,
 * {@code RESULT java <workload> <unit> <tlsbridge median> <anchor median> <median round ratio>}, as
 * bench_c. Usage: {@code Bench CERT_DIR [--quick] [--rounds N] [--only WORKLOAD] [--impl tlsbridge|jsse]}; --quick runs
 * small sizes, one round, and fails when a workload gave no sane number (the CTest smoke test).
 *
 * Both stacks sit behind {@link Impl}, so each workload is written once.
 */
public final class Bench {
    private static final String SUITE = "TLS_AES_128_GCM_SHA256";
    private static final String HOST = "localhost";
    private static final int WRITE_SIZE = 16384;
    private static final int MSG_SIZE = 64;
    private static final int SERVER_THREADS = 2;

    /**
     * One connection, blocking; plaintext moves through ByteBuffers from {@link Impl#buffer}, each
     * stack's fastest kind: direct for tlsbridge (the core reads and writes them in place), heap
     * arrays for JSSE's streams.
     */
    interface Conn extends AutoCloseable {
        void handshake() throws IOException;

        /** Fills buffer from its position as far as one read goes: the count, or -1 after close_notify. */
        int read(ByteBuffer buffer) throws IOException;

        /** Sends buffer's remaining bytes. */
        void write(ByteBuffer buffer) throws IOException;

        /** Sends close_notify. */
        void shutdownOutput() throws IOException;

        /** Whether the handshake resumed a session; null when the stack does not say. */
        Boolean reused() throws IOException;

        @Override
        void close() throws IOException;
    }

    /** A TLS stack: a listening server and a client that dials it, with contexts made once. */
    interface Impl extends AutoCloseable {
        String name();

        int port();

        ByteBuffer buffer(int size);

        Conn accept() throws IOException;

        /** resume: offer the session kept from an earlier connection of this Impl (null when none). */
        Conn dial(boolean resume) throws IOException;

        /** Keeps conn's session (its tickets read) for later dial(true) calls. */
        void keepSession(Conn conn) throws IOException;

        @Override
        void close() throws IOException;
    }

    // ---- tlsbridge

    static final class Tlsbridge implements Impl {
        private final TlsContext client;
        private final TlsContext server;
        private final TlsServerSocket listener;
        /** Exported by keepSession, imported by dial(true). */
        private byte[] session;

        Tlsbridge(Path certs) throws IOException {
            client = TlsContext.client(new TlsConfig().set("cipher-list", SUITE)
                    .set("trusted-ca", certs.resolve("ca.pem").toString()));
            server = TlsContext.server(new TlsConfig().set("cipher-list", SUITE)
                    .set("certificate", certs.resolve("server-ec.pem").toString())
                    .set("certificate-key", certs.resolve("server-ec.key").toString()));
            listener = server.listen("127.0.0.1", 0, 4096);
        }

        public String name() {
            return "tlsbridge";
        }

        public int port() {
            try {
                return listener.getLocalPort();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        public ByteBuffer buffer(int size) {
            return ByteBuffer.allocateDirect(size);
        }

        public Conn accept() throws IOException {
            return new Socket(listener.accept());
        }

        public Conn dial(boolean resume) throws IOException {
            TlsSocket s = client.connect(HOST, port(), 0);
            if (resume && session != null) {
                s.importSession(session);
            }
            return new Socket(s);
        }

        public void keepSession(Conn conn) throws IOException {
            session = ((Socket) conn).socket.exportSession();
        }

        private static final class Socket implements Conn {
            final TlsSocket socket;

            Socket(TlsSocket socket) {
                this.socket = socket;
            }

            public void handshake() throws IOException {
                socket.startHandshake();
            }

            public int read(ByteBuffer buffer) throws IOException {
                return socket.read(buffer);
            }

            public void write(ByteBuffer buffer) throws IOException {
                socket.write(buffer);
            }

            public void shutdownOutput() throws IOException {
                socket.shutdownOutput();
            }

            public Boolean reused() throws IOException {
                return socket.isSessionReused();
            }

            public void close() {
                socket.close();
            }
        }

        public void close() {
            listener.close();
            client.close();
            server.close();
        }
    }

    // ---- SunJSSE

    static final class Jsse implements Impl {
        private final SSLContext server;
        /** Its client session cache keeps tickets, so dial(true) resumes as JSSE users get it. */
        private final SSLContext resuming;
        /** Its client session cache is emptied after every connection: full handshakes only. */
        private final SSLContext fresh;
        private final SSLServerSocket listener;

        Jsse(Path certs) throws Exception {
            char[] password = "bench".toCharArray();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", privateKey(certs.resolve("server-ec.key")), password,
                    new Certificate[] {certificate(certs.resolve("server-ec.pem"))});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", certificate(certs.resolve("ca.pem")));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            server = SSLContext.getInstance("TLSv1.3");
            server.init(kmf.getKeyManagers(), null, null);
            resuming = SSLContext.getInstance("TLSv1.3");
            resuming.init(null, tmf.getTrustManagers(), null);
            fresh = SSLContext.getInstance("TLSv1.3");
            fresh.init(null, tmf.getTrustManagers(), null);
            listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 4096,
                    InetAddress.getLoopbackAddress());
            listener.setEnabledProtocols(new String[] {"TLSv1.3"});
            listener.setEnabledCipherSuites(new String[] {SUITE});
        }

        public String name() {
            return "jsse";
        }

        public int port() {
            return listener.getLocalPort();
        }

        public ByteBuffer buffer(int size) {
            return ByteBuffer.allocate(size);
        }

        public Conn accept() throws IOException {
            SSLSocket s = (SSLSocket) listener.accept();
            s.setTcpNoDelay(true);
            return wrap(s, null);
        }

        public Conn dial(boolean resume) throws IOException {
            SSLContext context = resume ? resuming : fresh;
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(HOST, port());
            s.setTcpNoDelay(true);
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[] {"TLSv1.3"});
            p.setCipherSuites(new String[] {SUITE});
            p.setEndpointIdentificationAlgorithm("HTTPS"); // checks the name localhost
            s.setSSLParameters(p);
            return wrap(s, resume ? null : context.getClientSessionContext());
        }

        /** JSSE keeps sessions by itself, per host and port, in the client context. */
        public void keepSession(Conn conn) {
        }

        private static Conn wrap(SSLSocket s, SSLSessionContext forget) throws IOException {
            // Fetched once: SSLSocket takes a lock in each getInputStream / getOutputStream.
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            return new Conn() {
                public void handshake() throws IOException {
                    s.startHandshake();
                }

                public int read(ByteBuffer b) throws IOException {
                    int n = in.read(b.array(), b.arrayOffset() + b.position(), b.remaining());
                    if (n > 0) {
                        b.position(b.position() + n);
                    }
                    return n;
                }

                public void write(ByteBuffer b) throws IOException {
                    out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                    b.position(b.limit());
                }

                public void shutdownOutput() throws IOException {
                    s.shutdownOutput();
                }

                public Boolean reused() {
                    return null;
                }

                public void close() throws IOException {
                    s.close();
                    if (forget != null) {
                        for (byte[] id : Collections.list(forget.getIds())) {
                            javax.net.ssl.SSLSession session = forget.getSession(id);
                            if (session != null) {
                                session.invalidate();
                            }
                        }
                    }
                }
            };
        }

        public void close() throws IOException {
            listener.close();
        }

        private static Certificate certificate(Path path) throws Exception {
            return CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(path)));
        }

        /** The PKCS#8 EC key openssl genpkey writes. */
        private static java.security.PrivateKey privateKey(Path path) throws Exception {
            String pem = new String(Files.readAllBytes(path), StandardCharsets.US_ASCII);
            String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
        }
    }

    // ---- the server: SERVER_THREADS threads accept and serve a known number of connections

    /** Echoes (hs, resume, scale, pp) or, with bulkBytes > 0, answers one byte after that many. */
    static final class Server {
        private final List<Thread> threads = new ArrayList<>();
        private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

        Server(Impl impl, int connections, long bulkBytes) {
            AtomicInteger remaining = new AtomicInteger(connections);
            for (int i = 0; i < SERVER_THREADS; i++) {
                Thread t = new Thread(() -> {
                    ByteBuffer buf = impl.buffer(WRITE_SIZE);
                    ByteBuffer answer = impl.buffer(1).put(0, (byte) '!');
                    while (remaining.getAndDecrement() > 0) {
                        try (Conn c = impl.accept()) {
                            c.handshake();
                            long total = 0;
                            for (int n; (n = c.read(buf.clear())) > 0; ) {
                                total += n;
                                if (bulkBytes == 0) {
                                    c.write(buf.flip());
                                } else if (total == bulkBytes) {
                                    c.write(answer.clear());
                                }
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                }, "bench-server-" + i);
                t.start();
                threads.add(t);
            }
        }

        void join() throws Exception {
            for (Thread t : threads) {
                t.join();
            }
            if (!failures.isEmpty()) {
                throw new IllegalStateException("server failed", failures.get(0));
            }
        }
    }

    // ---- workloads

    static long bulkMiB;
    static int hsCount;
    static int resumeCount;
    static int ppCount;

    interface Workload {
        /** The measured rate. */
        double run(Impl impl) throws Exception;
    }

    /** A client connection, handshake done. */
    static Conn connect(Impl impl, boolean resume) throws IOException {
        Conn c = impl.dial(resume);
        c.handshake();
        return c;
    }

    /** close_notify both ways, reading what comes before the server's (tickets). */
    static void finish(Conn c, ByteBuffer buf) throws IOException {
        c.shutdownOutput();
        while (c.read(buf.clear()) >= 0) {
            // drain to the close
        }
    }

    static double bulk(Impl impl) throws Exception {
        long bytes = bulkMiB << 20;
        Server server = new Server(impl, 1, bytes);
        ByteBuffer data = impl.buffer(WRITE_SIZE);
        ByteBuffer answer = impl.buffer(256);
        double seconds;
        try (Conn c = connect(impl, false)) {
            long t0 = System.nanoTime();
            for (long sent = 0; sent < bytes; sent += WRITE_SIZE) {
                c.write(data.clear());
            }
            if (c.read(answer.clear()) != 1 || answer.get(0) != '!') {
                throw new IllegalStateException("bulk: no answer");
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            finish(c, answer);
        }
        server.join();
        return bulkMiB / seconds;
    }

    /** count handshakes on each of threads client threads; handshakes/s. */
    static double handshakes(Impl impl, int threads, int count, boolean resume) throws Exception {
        Server server = new Server(impl, threads * count, 0);
        List<Thread> clients = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                ByteBuffer buf = impl.buffer(256);
                try {
                    for (int k = 0; k < count; k++) {
                        try (Conn c = connect(impl, resume)) {
                            Boolean reused = c.reused();
                            if (reused != null && reused != resume) {
                                throw new IllegalStateException(resume ? "a session was not resumed" : "a session was resumed");
                            }
                            finish(c, buf);
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        server.join();
        if (!failures.isEmpty()) {
            throw new IllegalStateException("handshakes failed", failures.get(0));
        }
        return threads * count / seconds;
    }

    /** The session of one full handshake (its tickets read), offered on every timed connection. */
    static double resume(Impl impl) throws Exception {
        Server server = new Server(impl, 1, 0);
        try (Conn c = connect(impl, true)) {
            finish(c, impl.buffer(256));
            impl.keepSession(c);
        }
        server.join();
        return handshakes(impl, 1, resumeCount, true);
    }

    static double pingPong(Impl impl) throws Exception {
        Server server = new Server(impl, 1, 0);
        ByteBuffer msg = impl.buffer(MSG_SIZE);
        ByteBuffer back = impl.buffer(MSG_SIZE);
        double seconds;
        try (Conn c = connect(impl, false)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < ppCount; i++) {
                c.write(msg.clear());
                for (back.clear(); back.hasRemaining(); ) {
                    if (c.read(back) <= 0) {
                        throw new IllegalStateException("pp: the echo ended");
                    }
                }
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            finish(c, back);
        }
        server.join();
        return ppCount / seconds;
    }

    private static final String[] NAMES = {"bulk", "hs", "resume", "pp", "scale"};
    private static final String[] UNITS = {"MiB/s", "handshakes/s", "handshakes/s", "round-trips/s", "handshakes/s"};
    private static final Workload[] WORKLOADS = {
        Bench::bulk,
        impl -> handshakes(impl, 1, hsCount, false),
        Bench::resume,
        Bench::pingPong,
        impl -> handshakes(impl, SERVER_THREADS, hsCount, false),
    };

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Bench CERT_DIR [--quick] [--rounds N] [--only WORKLOAD] [--impl tlsbridge|jsse]");
            System.exit(2);
        }
        Path certs = Path.of(args[0]);
        boolean quick = false;
        int rounds = 5;
        String only = null;
        String onlyImpl = null; // for profiling one stack: the other's figures are NaN, unchecked
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--quick")) {
                quick = true;
            } else if (args[i].equals("--rounds") && i + 1 < args.length) {
                rounds = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--only") && i + 1 < args.length) {
                only = args[++i];
            } else if (args[i].equals("--impl") && i + 1 < args.length) {
                onlyImpl = args[++i];
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (quick) {
            rounds = 1;
        }
        bulkMiB = quick ? 8 : 512;
        hsCount = quick ? 30 : 1000;
        resumeCount = quick ? 30 : 2000;
        ppCount = quick ? 1000 : 50000;

        boolean bad = false;
        try (Impl tlsbridge = new Tlsbridge(certs); Impl jsse = new Jsse(certs)) {
            Impl[] impls = {tlsbridge, jsse};
            for (int w = 0; w < WORKLOADS.length; w++) {
                if (only != null && !only.equals(NAMES[w])) {
                    continue;
                }
                // Warm-up: the same workload, untimed, so that both JITs have compiled their paths.
                for (Impl impl : impls) {
                    if (onlyImpl == null || onlyImpl.equals(impl.name())) {
                        WORKLOADS[w].run(impl);
                    }
                }
                double[][] results = new double[2][rounds];
                for (int r = 0; r < rounds; r++) {
                    // A B, then B A: neither stack always runs in the state the other leaves behind.
                    for (int i = 0; i < 2; i++) {
                        int k = i ^ (r & 1);
                        results[k][r] = onlyImpl == null || onlyImpl.equals(impls[k].name())
                                ? WORKLOADS[w].run(impls[k]) : Double.NaN;
                    }
                }
                double a = median(results[0]);
                double b = median(results[1]);
                // The median of each round's ratio: A and B of a round run back to back (bench_c.c).
                double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratios[r] = results[0][r] / results[1][r];
                }
                double ratio = median(ratios);
                for (double m : new double[] {a, b}) {
                    if (onlyImpl == null && !(m > 0 && Double.isFinite(m))) {
                        System.err.printf("Bench: %s gave %s%n", NAMES[w], m);
                        bad = true;
                    }
                }
                System.out.printf("RESULT java %s %s %.2f %.2f %.3f%n", NAMES[w], UNITS[w], a, b, ratio);
                System.out.flush();
            }
        }
        System.exit(bad ? 1 : 0);
    }
}
