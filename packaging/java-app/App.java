// A new user's first tlsbridge program in Java (packaging/check.sh): a client for the C
// example's echo server, run with only the tlsbridge jar on the class path and no library path.
// Usage: java -cp tlsbridge.jar App.java client PORT CA.pem
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.tlsbridge.TlsBridge;
import org.tlsbridge.TlsConfig;
import org.tlsbridge.TlsContext;
import org.tlsbridge.TlsSocket;

public final class App {
    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !args[0].equals("client")) {
            System.err.println("usage: App client PORT CA.pem");
            System.exit(2);
        }
        String hello = "hello from Java";
        try (TlsContext context = TlsContext.client(new TlsConfig().set("trusted-ca", args[2]));
                TlsSocket socket = context.connect("localhost", Integer.parseInt(args[1]), 10000)) {
            OutputStream out = socket.getOutputStream();
            out.write(hello.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] echo = new byte[64];
            int n = in.read(echo);
            String text = new String(echo, 0, Math.max(n, 0), StandardCharsets.UTF_8);
            System.out.println("version: " + socket.getProtocol());
            System.out.println("library: " + TlsBridge.loadedFrom());
            System.out.println("echo: " + text);
            System.exit(text.equals(hello) ? 0 : 1);
        }
    }
}
