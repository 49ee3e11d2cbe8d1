package dev.weldr.pool;

/**
 * A session-ticket key of the HTTPS listener, as replicated: when the leader made it (Unix
 * milliseconds: the rotation schedule continues from it after an election or a restart) and its
 * 48 bytes (name, HMAC key, AES key) in Base64, or sealed with {@code weldr.tls.store-key}.
 */
public record TicketKey(long created, String key) {

    /** What a ticket key's bytes are sealed under: a sealed key cannot pass for another. */
    public String sealName() {
        return "ticket-key:" + created;
    }

    /** Never prints the key: topologies and commands end up in log lines and test failures. */
    @Override
    public String toString() {
        return "TicketKey{" + created + "}";
    }
}
