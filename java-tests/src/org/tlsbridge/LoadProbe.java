package org.tlsbridge;

/** Run in a child JVM by LoadingAndDemoTest: prints where the natives were loaded from. */
public final class LoadProbe {
    private LoadProbe() {
    }

    public static void main(String[] args) {
        System.out.println("loaded from: " + TlsBridge.loadedFrom());
        System.out.println("version: " + TlsBridge.version());
    }
}
