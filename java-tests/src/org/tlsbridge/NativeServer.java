package org.tlsbridge;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** `tlsbridge serve 0 OPTIONS...`: the native echo server as a child process. */
final class NativeServer implements AutoCloseable {
    private final Process process;
    private final int port;
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());

    NativeServer(String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(TestEnv.tool(), "serve", "0"));
        Collections.addAll(command, options);
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (first == null || !first.startsWith("listening on ")) {
            process.destroyForcibly();
            throw new AssertionError("tlsbridge serve did not start: " + first);
        }
        port = Integer.parseInt(first.substring("listening on ".length()).trim());
        Thread reader = new Thread(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "tlsbridge-serve-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** The server with the test certificate and the given extra options. */
    static NativeServer withTestCertificate(String... options) throws IOException {
        List<String> all = new ArrayList<>(List.of("certificate=" + TestEnv.cert("server.pem"),
                "certificate-key=" + TestEnv.cert("server.key")));
        Collections.addAll(all, options);
        return new NativeServer(all.toArray(new String[0]));
    }

    int port() {
        return port;
    }

    /** The server's output lines so far ("[N] version: ..." per connection). */
    List<String> output() {
        synchronized (output) {
            return new ArrayList<>(output);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
