package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Options in, settings and errors out: the core decides, Java forwards exactly. */
class ConfigTest {

    @Test
    void optionsComeFromPropertiesAndMaps() throws Exception {
        Properties defaults = new Properties();
        defaults.setProperty("tls-version", "TLSv1.2");
        Properties properties = new Properties(defaults);
        properties.setProperty("tls-target-name-check", "no");
        try (TlsContext context = TlsContext.client(new TlsConfig(properties))) {
            String settings = context.effectiveSettings();
            assertTrue(settings.contains("\nprotocols: TLSv1.2\n"), settings);
            assertTrue(settings.contains("\ntls-target-name-check: no\n"), settings);
        }
        try (TlsContext context = TlsContext.client(new TlsConfig(Map.of("sec-protocol", "TLSv13")))) {
            assertTrue(context.effectiveSettings().contains("\nprotocols: TLSv1.3\n"));
        }
    }

    @Test
    void aNullValueRemovesAnOption() throws Exception {
        TlsConfig config = new TlsConfig().set("no-such-option", "1").set("no-such-option", null);
        assertNull(config.get("no-such-option"));
        try (TlsContext context = TlsContext.client(config)) {
            assertTrue(context.effectiveSettings().startsWith("role: client\n"));
        }
    }

    /**
     * Many options cross in one native call; -Xcheck:jni (the suite's JVM) warns, and so fails the
     * run, if the JNI library kept a local reference per option.
     */
    @Test
    void manyOptionsCrossInOneCall() {
        TlsConfig config = new TlsConfig();
        for (int i = 0; i < 100; i++) {
            config.set("no-such-option-" + i, "value " + i);
        }
        TlsConfigException e = assertThrows(TlsConfigException.class, () -> TlsContext.client(config));
        assertEquals(TlsStatus.ERR_OPTION_UNKNOWN, e.getStatus());
        assertTrue(e.getMessage().contains("no-such-option-"), e.getMessage());
    }

    @Test
    void aNulCannotCrossAsACString() {
        assertThrows(IllegalArgumentException.class, () -> new TlsConfig().set("cipher-list", "AES\0GCM"));
        assertThrows(IllegalArgumentException.class, () -> new TlsConfig().set("bad\0name", "1"));
    }

    @Test
    void configurationErrorsAreTlsConfigExceptions() {
        TlsConfigException e = assertThrows(TlsConfigException.class,
                () -> TlsContext.client(new TlsConfig().set("tls-versoin", "TLSv1.2")));
        assertEquals(TlsStatus.ERR_OPTION_UNKNOWN, e.getStatus());
        assertTrue(e.getMessage().contains("tls-versoin"), e.getMessage());
        TlsConfigException missing = assertThrows(TlsConfigException.class, () -> TlsContext.server(new TlsConfig()));
        assertEquals(TlsStatus.ERR_CERT_REQUIRED, missing.getStatus(), missing.toString());
        TlsException notServer = assertThrows(TlsException.class,
                () -> TlsContext.server(TestEnv.server()).connect("localhost", 1, 100));
        assertEquals(TlsStatus.ERR_STATE, notServer.getStatus(), notServer.toString());
    }

    /** Strings cross as real UTF-8 both ways (JNI's modified UTF-8 would mangle the emoji). */
    @Test
    void nonAsciiTextCrossesIntact() throws Exception {
        String path = Files.createTempDirectory("tlsb-ünï-😀").resolve("cä-😀.pem").toString();
        TlsConfigException e = assertThrows(TlsConfigException.class,
                () -> TlsContext.client(new TlsConfig().set("trusted-ca", path)));
        assertEquals(TlsStatus.ERR_FILE, e.getStatus(), e.toString());
        assertTrue(e.getMessage().contains(path), e.getMessage());
        Files.delete(Paths.get(path).getParent());
    }

    /** The core's messages reach the logger: each settings warning, and the error of a failed build. */
    @Test
    void theLoggerReceivesTheCoresMessages() throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        TlsLogger logger = (level, message) -> seen.add(level + " " + message);
        TlsConfig config = new TlsConfig().set("protocol-list", "SSLv2Hello SSLv3 TLSv1 TLSv1.1 TLSv1.2").setLogger(logger);
        try (TlsContext context = TlsContext.client(config)) {
            List<String> warnings = context.effectiveSettings().lines().filter(l -> l.startsWith("warning: "))
                    .map(l -> TlsLogger.WARNING + " " + l.substring("warning: ".length())).collect(Collectors.toList());
            assertTrue(warnings.size() >= 2, warnings.toString());
            assertEquals(warnings, seen);
        }
        seen.clear();
        TlsConfigException e = assertThrows(TlsConfigException.class,
                () -> TlsContext.client(new TlsConfig().set("tls", "maybe").setLogger(logger)));
        assertEquals(List.of(TlsLogger.ERROR + " " + e.getMessage()), seen);
    }

    @Test
    void aFailingLoggerDoesNotFailTheContext() throws Exception {
        TlsConfig config = new TlsConfig().set("protocol-list", "SSLv3 TLSv1.2").setLogger((level, message) -> {
            throw new IllegalStateException("logger broke");
        });
        try (TlsContext context = TlsContext.client(config)) {
            assertTrue(context.effectiveSettings().contains("\nprotocols: TLSv1.2\n"));
        }
    }

    @Test
    void offlineVerificationUsesTheContextsPolicy() throws Exception {
        try (TlsContext context = TlsContext.client(TestEnv.trustingClient())) {
            context.verify(pem("server.pem"), "localhost", null);
            context.verify(pem("server.pem"), "127.0.0.1", null);
            TlsVerifyException name = assertThrows(TlsVerifyException.class,
                    () -> context.verify(pem("wrongname.pem"), "localhost", null));
            assertEquals(TlsStatus.ERR_VERIFY_NAME, name.getStatus(), name.toString());
            TlsVerifyException untrusted = assertThrows(TlsVerifyException.class,
                    () -> context.verify(pem("untrusted.pem"), "localhost", null));
            assertEquals(TlsStatus.ERR_VERIFY, untrusted.getStatus(), untrusted.toString());
            TlsVerifyException expired = assertThrows(TlsVerifyException.class,
                    () -> context.verify(pem("expired.pem"), "localhost", null));
            assertEquals(TlsStatus.ERR_VERIFY, expired.getStatus(), expired.toString());
            // at_time reaches the core: the one-year server certificate is fine tomorrow, expired in two years.
            context.verify(pem("server.pem"), "localhost", Instant.now().plus(Duration.ofDays(1)));
            TlsVerifyException later = assertThrows(TlsVerifyException.class,
                    () -> context.verify(pem("server.pem"), "localhost", Instant.now().plus(Duration.ofDays(730))));
            assertTrue(later.getMessage().contains("expired"), later.getMessage());
        }
    }

    private static byte[] pem(String name) throws Exception {
        return Files.readAllBytes(Paths.get(TestEnv.cert(name)));
    }
}
