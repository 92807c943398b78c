package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The paths CTest passes in the environment (java-tests/CMakeLists.txt); missing ones fail the test. */
final class TestEnv {
    private TestEnv() {
    }

    static Path path(String variable) {
        String value = System.getenv(variable);
        if (value == null || value.isEmpty()) {
            fail(variable + " is not set: run the suite through ctest");
        }
        Path path = Paths.get(value);
        if (!Files.exists(path)) {
            fail(variable + "=" + value + " does not exist");
        }
        return path;
    }

    /** A file of the test PKI made by c-tests/certs/make-certs.sh, e.g. "ca.pem". */
    static String cert(String name) {
        return path("TLSB_TEST_CERTS").resolve(name).toString();
    }

    static String tool() {
        return path("TLSB_TOOL").toString();
    }

    /** Client options that trust the test CA. */
    static TlsConfig trustingClient() {
        return new TlsConfig().set("trusted-ca", cert("ca.pem"));
    }

    /** Server options with the test server certificate. */
    static TlsConfig server() {
        return new TlsConfig().set("certificate", cert("server.pem")).set("certificate-key", cert("server.key"));
    }
}
