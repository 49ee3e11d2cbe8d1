package dev.weldr.pool;

/**
 * A challenge of an order in progress that every node answers: for {@code http-01} the key
 * authorization served at {@code /.well-known/acme-challenge/{token}} on the plain listener, for
 * {@code tls-alpn-01} the SHA-256 digest of it (Base64) carried by the certificate the HTTPS
 * listener shows an {@code acme-tls/1} client naming {@code host}.
 */
public record AcmeChallenge(String type, String host, String token, String response) {

    public static final String HTTP_01 = "http-01";
    public static final String TLS_ALPN_01 = "tls-alpn-01";
}
