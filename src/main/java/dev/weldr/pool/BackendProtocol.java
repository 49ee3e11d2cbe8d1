package dev.weldr.pool;

import java.util.Locale;

/** How the proxy and the health checks speak to a pool's servers. */
public enum BackendProtocol {
    /** HTTP/1.1, over TLS for https:// servers. */
    HTTP1("http1", null),
    /** HTTP/2 over TLS, agreed through ALPN: every server of the pool is https://. */
    H2("h2", "https"),
    /** HTTP/2 in cleartext with prior knowledge (no Upgrade): every server of the pool is http://. */
    H2C("h2c", "http");

    private final String wireName;
    private final String scheme;

    BackendProtocol(String wireName, String scheme) {
        this.wireName = wireName;
        this.scheme = scheme;
    }

    /** The name the API and the README use. */
    public String wireName() {
        return wireName;
    }

    public boolean http2() {
        return this != HTTP1;
    }

    /** The protocol of that API name, or null. */
    public static BackendProtocol parse(String name) {
        for (BackendProtocol p : values()) {
            if (p.wireName.equals(name.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        return null;
    }

    /**
     * Whether a server of that scheme can be reached this way: h2 is agreed in the TLS handshake,
     * so it needs TLS; h2c with prior knowledge is HTTP/2 on a plain connection, which a TLS
     * server would take for a broken handshake.
     */
    public boolean accepts(String serverScheme) {
        return scheme == null || scheme.equals(serverScheme);
    }

    /** Why a server of that scheme cannot be in a pool of this protocol, or null. */
    public String schemeProblem(String serverScheme) {
        if (accepts(serverScheme)) {
            return null;
        }
        return this == H2 ? "protocol h2 needs https:// servers (HTTP/2 over TLS, agreed through ALPN); use h2c for http:// servers"
                : "protocol h2c needs http:// servers (cleartext HTTP/2); use h2 for https:// servers";
    }
}
