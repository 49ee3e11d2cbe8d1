package dev.weldr.pool;

import java.util.Objects;

/**
 * How a pool spreads requests over its servers.
 *
 * @param kind     the algorithm
 * @param hashOn   for {@link Kind#CONSISTENT_HASH}: what the key is taken from; null otherwise
 * @param hashName for a header or cookie key: its name; null otherwise
 */
public record LbPolicy(Kind kind, HashOn hashOn, String hashName) {

    public enum Kind { ROUND_ROBIN, WEIGHTED_ROUND_ROBIN, LEAST_REQUESTS, CONSISTENT_HASH }

    public enum HashOn { HEADER, COOKIE, CLIENT_ADDRESS }

    public static final LbPolicy ROUND_ROBIN = new LbPolicy(Kind.ROUND_ROBIN, null, null);

    public LbPolicy {
        Objects.requireNonNull(kind, "kind");
        if (kind == Kind.CONSISTENT_HASH) {
            Objects.requireNonNull(hashOn, "a consistent-hash policy needs a key");
            if (hashOn != HashOn.CLIENT_ADDRESS && (hashName == null || hashName.isBlank())) {
                throw new IllegalArgumentException("a " + hashOn.name().toLowerCase() + " hash key needs a name");
            }
            if (hashOn == HashOn.CLIENT_ADDRESS && hashName != null) {
                throw new IllegalArgumentException("a client-address hash key has no name");
            }
        } else if (hashOn != null || hashName != null) {
            throw new IllegalArgumentException("only consistent-hash policies take a hash key");
        }
    }
}
