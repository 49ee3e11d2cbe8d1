package dev.weldr.config;

/** Which TLS implementation the HTTPS listener uses ({@code weldr.tls.provider}). */
public enum TlsProvider {
    /** OpenSSL (BoringSSL, through netty-tcnative) when it loads, else the JDK's. */
    AUTO,
    /** OpenSSL, or no start. */
    OPENSSL,
    /** The JDK's own TLS. */
    JDK
}
