package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** c-tests/vectors/options.vec through the Java face: every case, the same expectations as in C. */
class VectorsTest {

    /** One case of the file (format: c-tests/vectors/README.md). */
    private static final class Case {
        final String name;
        boolean server;
        final TlsConfig config = new TlsConfig();
        String status;
        final List<String> settings = new ArrayList<>();
        final List<String> absentSettings = new ArrayList<>();
        final List<String> errorContains = new ArrayList<>();

        Case(String name) {
            this.name = name;
        }
    }

    @TestFactory
    Stream<DynamicTest> everyVector() throws Exception {
        List<Case> cases = parse();
        assertFalse(cases.isEmpty(), "options.vec has no cases");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name, () -> check(c)));
    }

    private static List<Case> parse() throws Exception {
        String certs = TestEnv.path("TLSB_TEST_CERTS").toString();
        List<Case> cases = new ArrayList<>();
        Case current = null;
        int number = 0;
        for (String raw : Files.readAllLines(TestEnv.path("TLSB_VECTORS"), StandardCharsets.UTF_8)) {
            number++;
            String line = raw.replace("${CERTS}", certs);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.indexOf(' ');
            String directive = space < 0 ? line : line.substring(0, space);
            String arg = space < 0 ? "" : line.substring(space + 1);
            if (directive.equals("case")) {
                current = new Case(arg);
                continue;
            }
            if (current == null) {
                fail("options.vec:" + number + ": '" + directive + "' outside a case");
            }
            switch (directive) {
                case "role":
                    current.server = arg.equals("server");
                    break;
                case "set":
                    int eq = arg.indexOf('=');
                    current.config.set(arg.substring(0, eq), arg.substring(eq + 1));
                    break;
                case "status":
                    current.status = arg;
                    break;
                case "setting":
                    current.settings.add(arg);
                    break;
                case "no-setting":
                    current.absentSettings.add(arg);
                    break;
                case "error-contains":
                    current.errorContains.add(arg);
                    break;
                case "end":
                    cases.add(current);
                    current = null;
                    break;
                default:
                    fail("options.vec:" + number + ": unknown directive '" + directive + "'");
            }
        }
        return cases;
    }

    private static void check(Case c) throws Exception {
        TlsContext context;
        try {
            context = c.server ? TlsContext.server(c.config) : TlsContext.client(c.config);
        } catch (TlsException e) {
            assertEquals(c.status, e.getStatusName(), e.getMessage());
            assertEquals(Native.statusKind(e.getStatus()) == Native.KIND_CONFIG, e instanceof TlsConfigException,
                    "a configuration error is a TlsConfigException: " + e);
            for (String text : c.errorContains) {
                assertTrue(e.getMessage().contains(text), "error '" + e.getMessage() + "' lacks '" + text + "'");
            }
            return;
        }
        try (context) {
            assertEquals("TLSB_OK", c.status, "the context was built, but the vector expects an error");
            List<String> lines = context.effectiveSettings().lines().toList();
            for (String line : c.settings) {
                assertTrue(lines.contains(line), "settings lack '" + line + "':\n" + String.join("\n", lines));
            }
            for (String line : c.absentSettings) {
                assertFalse(lines.contains(line), "settings contain '" + line + "':\n" + String.join("\n", lines));
            }
        }
    }
}
