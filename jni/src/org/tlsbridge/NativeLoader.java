package org.tlsbridge;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds and loads libtlsbridge_jni.so (and the libtlsbridge.so.1 it needs) once, when
 * {@link Native} is first initialised. Order: {@code -Dtlsbridge.library.path=DIR} alone when
 * set; else {@code java.library.path}; else the copies this jar carries for the running platform,
 * extracted to a private temporary directory (as netty-tcnative and Conscrypt do) and removed
 * again once loaded.
 */
final class NativeLoader {
    /** Where the jar keeps its natives: {@code META-INF/native/<os>-<arch>/}. */
    static final String RESOURCE_DIR = "META-INF/native/";
    private static final String CORE = "libtlsbridge.so.1";

    /** The JNI library's path once loaded, e.g. {@code /usr/lib/jni/libtlsbridge_jni.so}. */
    private static volatile String loadedFrom;

    private NativeLoader() {
    }

    static String loadedFrom() {
        return loadedFrom;
    }

    /** The platform folder in the jar, e.g. {@code linux-x86_64}. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return os + "-" + ("amd64".equals(arch) ? "x86_64" : arch);
    }

    /** Loads the library; returns why it could not be loaded, or null when it was. */
    static String load() {
        String file = System.mapLibraryName(Native.LIBRARY);
        List<String> tried = new ArrayList<>();
        String dir = System.getProperty(Native.PATH_PROPERTY);
        LinkageError error;
        if (dir != null && !dir.isEmpty()) {
            // An explicit choice is never silently replaced by another copy.
            Path path = Paths.get(dir, file).toAbsolutePath();
            error = loadFile(path, tried);
        } else {
            error = loadFromLibraryPath(file, tried);
            if (error != null) {
                error = loadFromJar(file, tried);
            }
        }
        if (error == null) {
            return null;
        }
        StringBuilder text = new StringBuilder("tlsbridge: cannot load the JNI library ").append(file)
                .append(": ").append(error.getMessage()).append("\n  tried:");
        for (String entry : tried) {
            text.append("\n    ").append(entry);
        }
        return text.append("\n  fix: start java with -D").append(Native.PATH_PROPERTY)
                .append("=DIR (or -Djava.library.path=DIR), where DIR holds ").append(file)
                .append(" and ").append(CORE).append(" next to each other").toString();
    }

    private static LinkageError loadFile(Path path, List<String> tried) {
        try {
            System.load(path.toString());
            loadedFrom = path.toString();
            return null;
        } catch (LinkageError e) {
            tried.add(path + (Files.exists(path) ? " (exists but failed to load)" : " (missing)"));
            return e;
        }
    }

    private static LinkageError loadFromLibraryPath(String file, List<String> tried) {
        Path found = null;
        List<Path> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
            Path path = Paths.get(entry.isEmpty() ? "." : entry, file).toAbsolutePath();
            entries.add(path);
            if (found == null && Files.exists(path)) {
                found = path;
            }
        }
        try {
            System.loadLibrary(Native.LIBRARY);
            loadedFrom = found == null ? file : found.toString();
            return null;
        } catch (LinkageError e) {
            for (Path path : entries) {
                tried.add(path + (Files.exists(path) ? " (exists but failed to load)" : " (missing)"));
            }
            return e;
        }
    }

    private static LinkageError loadFromJar(String file, List<String> tried) {
        String folder = RESOURCE_DIR + platform() + "/";
        String where = "jar:" + folder + file;
        if (NativeLoader.class.getClassLoader().getResource(folder + file) == null) {
            tried.add(where + " (this jar has no natives for " + platform() + ")");
            return new UnsatisfiedLinkError("no " + file + " on java.library.path nor in the jar");
        }
        Path temp = null;
        try {
            temp = Files.createTempDirectory("tlsbridge-"); // owner-only on POSIX
            Path core = extract(folder + CORE, temp.resolve(CORE));
            Path jni = extract(folder + file, temp.resolve(file));
            // The core first: the JNI library needs it, and finds it loaded by its SONAME.
            System.load(core.toString());
            System.load(jni.toString());
            loadedFrom = where;
            return null;
        } catch (IOException e) {
            tried.add(where + " (could not extract to " + temp + ": " + e + ")");
            return new UnsatisfiedLinkError("cannot extract " + file + " from the jar: " + e);
        } catch (LinkageError e) {
            tried.add(where + " (extracted to " + temp + " but failed to load)");
            return e;
        } finally {
            // Loaded libraries stay mapped; the files are not needed once loaded (or failed).
            deleteQuietly(temp);
        }
    }

    private static Path extract(String resource, Path target) throws IOException {
        try (InputStream in = NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the jar lacks " + resource);
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // A leftover temporary file is harmless; failing the load over it is not.
        }
    }
}
