package org.tlsbridge;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * A mutable bag of {@code name=value} options, named exactly as the Genesys documentation and the
 * Java PSDK name them ({@code certificate}, {@code trusted-ca}, {@code sec-protocol},
 * {@code tls-version}, {@code protocol-list}, {@code cipher-list}, ...). Nothing is checked here:
 * the C core parses and validates the options when {@link TlsContext#client} or
 * {@link TlsContext#server} builds a context, and reports errors as {@link TlsConfigException}.
 */
public final class TlsConfig {
    private final Map<String, String> options = new LinkedHashMap<>();
    private TlsLogger logger;

    public TlsConfig() {
    }

    /** Every entry of the map as an option. */
    public TlsConfig(Map<String, String> options) {
        options.forEach(this::set);
    }

    /** Every property (defaults included) as an option, e.g. loaded from a PSDK-style file. */
    public TlsConfig(Properties properties) {
        for (String name : properties.stringPropertyNames()) {
            set(name, properties.getProperty(name));
        }
    }

    /**
     * Sets or replaces one option; a null value removes it. The name and value go to the core as
     * they are (an empty value counts as not given for the version options, as in the core).
     */
    public TlsConfig set(String name, String value) {
        // A NUL cannot cross as a C string: refuse it here, where the caller can see which option.
        Native.cstr(Objects.requireNonNull(name, "option name"));
        if (value == null) {
            options.remove(name);
        } else {
            Native.cstr(value);
            options.put(name, value);
        }
        return this;
    }

    /**
     * Routes the core's messages for contexts built from this config to logger (null: none). The
     * logger stays referenced until the context and every connection made from it are closed.
     */
    public TlsConfig setLogger(TlsLogger logger) {
        this.logger = logger;
        return this;
    }

    /** The value set for an option, or null. */
    public String get(String name) {
        return options.get(name);
    }

    /** The options set so far, in the order they were first set. */
    public Map<String, String> options() {
        return Collections.unmodifiableMap(options);
    }

    /** Builds the native context; the native config lives only for the duration of the call. */
    long build(int role) throws TlsException {
        byte[][] names = new byte[options.size()][];
        byte[][] values = new byte[options.size()][];
        int i = 0;
        for (Map.Entry<String, String> e : options.entrySet()) {
            names[i] = Native.cstr(e.getKey());
            values[i++] = Native.cstr(e.getValue());
        }
        return Native.contextNew(role, names, values, logger);
    }
}
