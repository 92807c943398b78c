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

    /** The library jar and the demo jar, which no longer lives in the library's. */
    private static String jar() {
        return TestEnv.path("TLSB_DEMO_JAR") + java.io.File.pathSeparator + TestEnv.path("TLSB_JAR");
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

    /** A new user's first run: only the jars on the class path, no library path of any kind. */
    @Test
    void theJarAloneLoadsTheNativesItCarries() throws Exception {
        try (NativeServer server = NativeServer.withTestCertificate()) {
            Object[] run = java("-Xcheck:jni", "-cp", jar(), "org.tlsbridge.demo.DemoClient", "localhost",
                    String.valueOf(server.port()), "trusted-ca=" + TestEnv.cert("ca.pem"));
            String output = (String) run[0];
            assertEquals(0, run[1], output);
            assertTrue(output.contains("echo: ok"), output);
            assertTrue(!output.contains("WARNING"), output);
        }
    }

    @Test
    void theJarCarriesBothLibrariesForThisPlatformAndAModuleName() throws Exception {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(TestEnv.path("TLSB_JAR").toFile())) {
            String folder = NativeLoader.RESOURCE_DIR + NativeLoader.platform() + "/";
            assertTrue(jar.getEntry(folder + "libtlsbridge_jni.so") != null, folder);
            assertTrue(jar.getEntry(folder + "libtlsbridge.so.1") != null, folder);
            assertEquals("org.tlsbridge", jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
            assertTrue(jar.getEntry("org/tlsbridge/demo/DemoClient.class") == null, "the demo is in the library jar");
        }
    }

    /** tlsbridge.library.path, then java.library.path, win over the jar's copies. */
    @Test
    void configuredPathsWinOverTheJar() throws Exception {
        String probe = LoadProbe.class.getName();
        String classPath = Paths.get(LoadProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + java.io.File.pathSeparator + TestEnv.path("TLSB_JAR");
        String jni = libraryDir().resolve("libtlsbridge_jni.so").toString();
        Object[] byProperty = java("-D" + Native.PATH_PROPERTY + "=" + libraryDir(), "-cp", classPath, probe);
        assertEquals(0, byProperty[1], (String) byProperty[0]);
        assertTrue(((String) byProperty[0]).startsWith("loaded from: " + jni + "\n"), (String) byProperty[0]);
        Object[] byLibraryPath = java("-Djava.library.path=" + libraryDir(), "-cp", classPath, probe);
        assertEquals(0, byLibraryPath[1], (String) byLibraryPath[0]);
        assertTrue(((String) byLibraryPath[0]).startsWith("loaded from: " + jni + "\n"), (String) byLibraryPath[0]);
        Object[] fromJar = java("-cp", classPath, probe);
        assertEquals(0, fromJar[1], (String) fromJar[0]);
        assertTrue(((String) fromJar[0]).startsWith("loaded from: jar:META-INF/native/"), (String) fromJar[0]);
    }

    @Test
    void versionsComeFromTheCore() {
        assertEquals("1.0.0", TlsBridge.version());
        assertTrue(TlsBridge.opensslVersion().startsWith("OpenSSL 3."), TlsBridge.opensslVersion());
        assertEquals("1".equals(System.getenv("TLSBRIDGE_COMPAT_MODE")) || "1".equals(System.getenv("GCTI_SECPACK_COMPAT_MODE")),
                TlsBridge.compatMode());
    }
}
