package org.tlsbridge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** One run of the `tlsbridge` program: exit code, stdout, stderr. */
final class Tool {
    final int exit;
    final String stdout;
    final String stderr;

    private Tool(int exit, String stdout, String stderr) {
        this.exit = exit;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Runs `tlsbridge ARGS...` with stdin as its standard input; fails after 30 s. */
    static Tool run(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(TestEnv.tool()));
        Collections.addAll(command, args);
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> slurp(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> slurp(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not end within 30 s; stderr: " + err.getNow(""));
        }
        return new Tool(p.exitValue(), out.get(), err.get());
    }

    private static String slurp(InputStream in) {
        try (in) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            return bytes.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "exit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
}
