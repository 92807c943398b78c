package org.tlsbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Java face against the ABI: core/tlsbridge.abi, the header's constants, the built library. */
class AbiTest {
    private static final Pattern CALL = Pattern.compile("\\b(tlsb_\\w+)\\s*\\(");

    /** name -> number of parameters, from the manifest. */
    private static Map<String, Integer> manifest() throws Exception {
        Map<String, Integer> exports = new TreeMap<>();
        for (String line : Files.readAllLines(TestEnv.path("TLSB_ABI_MANIFEST"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.trim().split("\\s+");
            exports.put(words[0], words.length - 2);
        }
        assertFalse(exports.isEmpty(), "the manifest lists no exports");
        return exports;
    }

    /** name -> version node, from the manifest's "# node" lines (TLSBRIDGE_1.0 before the first). */
    private static Map<String, String> nodes() throws Exception {
        Map<String, String> nodes = new TreeMap<>();
        String node = "TLSBRIDGE_1.0";
        for (String line : Files.readAllLines(TestEnv.path("TLSB_ABI_MANIFEST"))) {
            String[] words = line.trim().split("\\s+");
            if (words.length == 3 && words[0].equals("#") && words[1].equals("node")) {
                node = words[2];
            } else if (!line.isBlank() && !line.startsWith("#")) {
                nodes.put(words[0], node);
            }
        }
        return nodes;
    }

    /** Every core function tlsbridge_jni.c calls is in the manifest, called with its parameter count. */
    @Test
    void jniCallsMatchTheManifest() throws Exception {
        Map<String, Integer> exports = manifest();
        String source = Files.readString(TestEnv.path("TLSB_JNI_SOURCE"), StandardCharsets.UTF_8);
        Matcher m = CALL.matcher(source);
        int calls = 0;
        while (m.find()) {
            String name = m.group(1);
            assertTrue(exports.containsKey(name), name + " is called by tlsbridge_jni.c but not in tlsbridge.abi");
            assertEquals(exports.get(name), arguments(source, m.end()), "arguments of a call to " + name);
            calls++;
        }
        assertTrue(calls > 30, "found only " + calls + " calls");
    }

    /** Counts the top-level arguments of the call whose '(' ends at open. */
    private static int arguments(String source, int open) {
        int depth = 1;
        int commas = 0;
        boolean empty = true;
        for (int i = open; depth > 0; i++) {
            char c = source.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 1) {
                commas++;
            }
            if (depth > 0 && !Character.isWhitespace(c)) {
                empty = false;
            }
        }
        return empty ? 0 : commas + 1;
    }

    /** The built JNI library imports only manifest exports, each from its manifest node of libtlsbridge.so.1. */
    @Test
    void jniLibraryImportsOnlyManifestExports() throws Exception {
        Map<String, Integer> exports = manifest();
        Map<String, String> nodes = nodes();
        Process nm = new ProcessBuilder("nm", "-D", "--undefined-only", TestEnv.path("TLSB_JNI_LIBRARY").toString())
                .redirectErrorStream(true).start();
        String symbols = new String(nm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, nm.waitFor(), symbols);
        Matcher m = Pattern.compile("\\b(tlsb_\\w+)@(\\S+)").matcher(symbols);
        int imports = 0;
        while (m.find()) {
            assertTrue(exports.containsKey(m.group(1)), m.group(1) + " is not in tlsbridge.abi");
            assertEquals(nodes.get(m.group(1)), m.group(2), m.group(1));
            imports++;
        }
        assertTrue(imports > 30, "found only " + imports + " imports:\n" + symbols);
    }

    /** The JNI library finds libtlsbridge.so.1 through an $ORIGIN run path, and links no JVM. */
    @Test
    void jniLibraryLinksTheCoreThroughOrigin() throws Exception {
        Process readelf = new ProcessBuilder("readelf", "-d", TestEnv.path("TLSB_JNI_LIBRARY").toString())
                .redirectErrorStream(true).start();
        String dynamic = new String(readelf.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, readelf.waitFor(), dynamic);
        assertTrue(dynamic.contains("[libtlsbridge.so.1]"), dynamic);
        assertTrue(dynamic.matches("(?s).*(RUNPATH|RPATH)\\)\\s+Library r(un)?path: \\[\\$ORIGIN\\].*"), dynamic);
        assertFalse(dynamic.contains("libjvm"), dynamic);
    }

    /** TlsStatus mirrors the header's status enum exactly, and the core names each code alike. */
    @Test
    void statusConstantsMirrorTheHeader() throws Exception {
        String header = Files.readString(TestEnv.path("TLSB_HEADER"), StandardCharsets.UTF_8);
        String statusEnum = header.substring(header.indexOf("TLSB_OK = 0"), header.indexOf("};", header.indexOf("TLSB_OK = 0")));
        Map<String, Integer> inHeader = constants(statusEnum);
        Map<String, Integer> inJava = new TreeMap<>();
        for (Field f : TlsStatus.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                inJava.put("TLSB_" + f.getName(), f.getInt(null));
            }
        }
        assertEquals(inHeader, inJava);
        inJava.forEach((name, value) -> assertEquals(name, TlsStatus.name(value)));
    }

    /** The info keys, roles and status kinds the Java face uses are the header's. */
    @Test
    void infoKeysRolesAndKindsMirrorTheHeader() throws Exception {
        Map<String, Integer> inHeader = constants(Files.readString(TestEnv.path("TLSB_HEADER"), StandardCharsets.UTF_8));
        int checked = 0;
        for (Field f : Native.class.getDeclaredFields()) {
            if (f.getName().startsWith("INFO_") || f.getName().startsWith("ROLE_") || f.getName().startsWith("KIND_")) {
                assertEquals(inHeader.get("TLSB_" + f.getName()), f.getInt(null), f.getName());
                checked++;
            }
        }
        assertEquals(12, checked);
    }

    private static Map<String, Integer> constants(String text) {
        Map<String, Integer> found = new TreeMap<>();
        Matcher m = Pattern.compile("\\b(TLSB_[A-Z0-9_]+)\\s*=\\s*(-?\\d+)").matcher(text);
        while (m.find()) {
            found.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return found;
    }
}
