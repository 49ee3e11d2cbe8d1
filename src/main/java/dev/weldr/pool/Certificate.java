package dev.weldr.pool;

/**
 * A certificate the HTTPS listener serves, as replicated: its name, its PEM chain (leaf first),
 * and its private key as stored — PEM, or sealed with {@code weldr.tls.store-key} (see
 * {@code dev.weldr.tls.KeySeal}). The chain and key were checked before the command was
 * proposed; applying it never parses them.
 */
public record Certificate(String name, String chain, String key) {

    /** Never prints the key: topologies and commands end up in log lines and test failures. */
    @Override
    public String toString() {
        return "Certificate{" + name + "}";
    }
}
