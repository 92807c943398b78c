package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Loading the natives in a fresh JVM, and the demo client as the C demo runs it. */
class LoadingAndDemoTest {

    /** Runs `java ARGS...` in a child JVM; returns stdout + "\n--stderr--\n" + stderr and the exit code. */
    private static Object[] java(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child JVM did not end");
        return new Object[] {out + "\n--stderr--\n" + err, p.exitValue()};
    }

    private static String jar() {
        return TestEnv.path("TLSB_JAR").toString();
    }

    private static Path libraryDir() {
        return TestEnv.path("TLSB_JNI_LIBRARY").getParent();
    }

    @Test
    void aMissingLibrarySaysWhereItLookedAndHowToFixIt() throws Exception {
        String missing = Paths.get(System.getProperty("java.io.tmpdir"), "no-tlsbridge-here").toString();
        Object[] run = java("-D" + Native.PATH_PROPERTY + "=" + missing, "-cp", jar(),
                "org.tlsbridge.demo.DemoClient", "127.0.0.1", "1");
        String output = (String) run[0];
        assertNotEquals(0, run[1], output);
        assertTrue(output.contains("cannot load the JNI library libtlsbridge_jni.so"), output);
        assertTrue(output.contains(Paths.get(missing, "libtlsbridge_jni.so") + " (missing)"), output);
        assertTrue(output.contains("-Dtlsbridge.library.path=DIR"), output);
    }

    @Test
    void aLibraryOnJavaLibraryPathIsFound() throws Exception {
        Object[] run = java("-Djava.library.path=" + libraryDir(), "-cp", jar(),
                "org.tlsbridge.demo.DemoClient", "127.0.0.1", "1");
        String output = (String) run[0];
        assertEquals(1, run[1], output);
        assertTrue(output.contains("DemoClient: TLSB_ERR_CONNECT"), output);
    }

    /** The demo contract (docs/faces-contract.md): exactly these lines against the native echo server. */
    @Test
    void demoClientPrintsTheContractLines() throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate()) {
            Object[] run = java("-Xcheck:jni", "-Djava.library.path=" + libraryDir(), "-cp", jar(),
                    "org.tlsbridge.demo.DemoClient", "localhost", String.valueOf(server.port()),
                    "trusted-ca=" + TestEnv.cert("ca.pem"), "tls-version=TLSv1.2");
            String output = (String) run[0];
            assertEquals(0, run[1], output);
            String[] lines = output.substring(0, output.indexOf("\n--stderr--")).split("\n");
            assertEquals(6, lines.length, output);
            assertEquals("version: TLSv1.2", lines[0]);
            assertTrue(lines[1].matches("cipher: [A-Z0-9-]+ \\(IANA TLS_[A-Z0-9_]+\\)"), lines[1]);
            assertTrue(lines[2].startsWith("peer: ") && lines[2].contains("CN=localhost"), lines[2]);
            assertTrue(lines[3].startsWith("issuer: ") && lines[3].contains("CN=tlsbridge Test CA"), lines[3]);
            assertEquals("verify: ok", lines[4]);
            assertEquals("echo: ok", lines[5]);
            assertTrue(!output.contains("WARNING"), output);
        }
    }

    @Test
    void versionsComeFromTheCore() {
        assertEquals("1.0.0", TlsBridge.version());
        assertTrue(TlsBridge.opensslVersion().startsWith("OpenSSL 3."), TlsBridge.opensslVersion());
        assertEquals("1".equals(System.getenv("TLSBRIDGE_COMPAT_MODE")) || "1".equals(System.getenv("GCTI_SECPACK_COMPAT_MODE")),
                TlsBridge.compatMode());
    }
}
