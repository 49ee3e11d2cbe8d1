package dev.weldr.pool;

/**
 * How the proxy and the health checks talk TLS to a pool's {@code https://} servers: nginx's
 * {@code proxy_ssl_verify}, {@code proxy_ssl_trusted_certificate} and {@code proxy_ssl_name}.
 *
 * @param verify     check the server's chain (against the JDK's trust store and {@code ca}) and
 *                   its name; off only when the operator says so
 * @param ca         PEM certificates trusted on top of the JDK's trust store (a private CA, or a
 *                   self-signed server's own certificate); null for none. Public data.
 * @param serverName the name sent as SNI and checked against the certificate, instead of the
 *                   server URL's host; null for the URL's host
 */
public record BackendTls(boolean verify, String ca, String serverName) {

    /** Verified against the JDK's trust store, under the URL's host: what a browser does. */
    public static final BackendTls DEFAULTS = new BackendTls(true, null, null);
}
