package org.tlsbridge.demo;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.tlsbridge.TlsConfig;
import org.tlsbridge.TlsContext;
import org.tlsbridge.TlsException;
import org.tlsbridge.TlsSocket;

/**
 * The Java face's demo client (docs/faces-contract.md): {@code HOST PORT [NAME=VALUE...]}; connects,
 * sends "hello from java", reads the echo and prints the negotiated details.
 */
public final class DemoClient {
    private static final String GREETING = "hello from java";

    private DemoClient() {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: DemoClient HOST PORT [NAME=VALUE...]");
            System.exit(2);
        }
        TlsConfig config = new TlsConfig();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("not NAME=VALUE: " + args[i]);
                System.exit(2);
            }
            config.set(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        try (TlsContext context = TlsContext.client(config);
             TlsSocket socket = context.connect(args[0], Integer.parseInt(args[1]), 10_000)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write((GREETING + "\n").getBytes(StandardCharsets.UTF_8));
            String echo = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            System.out.println("version: " + socket.getProtocol());
            System.out.println("cipher: " + socket.getCipher() + " (IANA " + socket.getCipherSuite() + ")");
            System.out.println("peer: " + socket.getPeerSubject());
            System.out.println("issuer: " + socket.getPeerIssuer());
            System.out.println("verify: " + socket.getVerifyResult());
            if (!GREETING.equals(echo)) {
                System.out.println("echo: failed");
                System.err.println("DemoClient: expected the echo '" + GREETING + "', got '" + echo + "'");
                System.exit(1);
            }
            System.out.println("echo: ok");
        } catch (TlsException e) {
            System.err.println("DemoClient: " + e.getStatusName() + ": " + e.getMessage());
            System.exit(1);
        } catch (Exception e) {
            System.err.println("DemoClient: " + e);
            System.exit(1);
        }
    }
}
